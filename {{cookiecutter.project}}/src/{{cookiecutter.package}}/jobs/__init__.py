"""One module per CLI verb: each wires ``io`` adapters to ``core`` logic.

Where each verb writes (relative to the project root; git-ignored):
"""

from pathlib import Path

OUTPUTS = Path("outputs")
VALIDATION_JSON = OUTPUTS / "validation" / "report.json"
VALIDATION_MD = OUTPUTS / "validation" / "report.md"
TRAINING_JSON = OUTPUTS / "train" / "run.json"
METRICS_JSON = OUTPUTS / "evaluate" / "metrics.json"
EVALUATION_MD = OUTPUTS / "evaluate" / "report.md"
PR_REPORT_MD = OUTPUTS / "report.md"
CHAMPION_DIR = OUTPUTS / "champion" / "model"
CHAMPION_JSON = OUTPUTS / "champion" / "champion.json"
RELEASE_JSON = OUTPUTS / "release" / "release.json"
RELEASE_ARCHIVE = OUTPUTS / "release" / "model.tar.gz"
RELEASE_PLAN = OUTPUTS / "release" / "plan.json"
RELEASE_SERVING_DIR = OUTPUTS / "release" / "serving"  # the prepared archive unpacked as a model folder: the image is built from it
RELEASE_IMAGE_JSON = OUTPUTS / "release" / "image.json"  # the image `mlops push-image` pushed, and its digest
DRIFT_JSON = OUTPUTS / "drift" / "drift.json"
DRIFT_MD = OUTPUTS / "drift" / "drift.md"
DORA_JSON = OUTPUTS / "dora" / "dora.json"
DORA_MD = OUTPUTS / "dora" / "dora.md"
DRIFT_HTML = OUTPUTS / "drift" / "report.html"
PRODUCTION_PARQUET = OUTPUTS / "drift" / "production.parquet"
RETRAIN_JSON = OUTPUTS / "retrain" / "retrain.json"
ROLLBACK_JSON = OUTPUTS / "rollback" / "rollback.json"
DRY_RUN = OUTPUTS / "dry-run"  # <verb>/: what a --dry-run would have sent to GitHub, one file per request
PROFILE_FILE = "profile.json"  # in the model folder: the training data's profile, which `mlops drift` compares with
