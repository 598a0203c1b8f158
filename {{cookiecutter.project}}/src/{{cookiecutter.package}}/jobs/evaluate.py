"""``mlops evaluate``: score challenger and champion on one holdout and apply the gates."""

from __future__ import annotations

import logging

from ..config import Settings
from ..core import metrics as metric_rules
from ..core.gates import apply_gates
from ..core.report import evaluation_section
from ..errors import CheckFailed, InputError
from ..io import tracking
from ..io.artifacts import read_json, to_json, write_all
from ..jobs import CHAMPION_JSON, EVALUATION_MD, METRICS_JSON, TRAINING_JSON
from ..jobs.train import predict, split_for_modelling
from ..project import TASK

logger = logging.getLogger(__name__)


def _score(settings: Settings, ref: tracking.ModelRef, holdout, role: str) -> tuple[dict, object]:
    model = tracking.load_model(settings, ref.model_uri)
    try:
        prediction = predict(model, holdout[settings.data.features.all])
    except (KeyError, ValueError) as error:
        raise InputError(f"{role} {ref.model_uri} cannot score the current holdout ({str(error).splitlines()[0]})") from error
    return metric_rules.score(TASK, holdout[settings.data.target].to_numpy(), prediction), prediction


def resolve_champion(settings: Settings) -> tracking.ModelRef | None:
    """The release fetched by `mlops champion` when there is one, else the registry alias."""
    fetched = settings.path(str(CHAMPION_JSON))
    if fetched.exists():
        record = read_json(fetched, produced_by="champion")
        if record["source"] == "none":
            return None
        if record["source"] == "release":
            return tracking.ModelRef(
                run_id=record.get("run_id", ""), model_uri=str(settings.path(record["model_path"])), version=record["tag"]
            )
    return tracking.champion(settings)


def run(settings: Settings) -> dict:
    trained = read_json(settings.path(str(TRAINING_JSON)), produced_by="train")
    if trained.get("task") != TASK:
        raise InputError(f"{TRAINING_JSON}: trained for task {trained.get('task')!r}, this project is {TASK}; run `mlops train` again")
    challenger_ref = tracking.ModelRef(**trained["model"])
    _, _, holdout = split_for_modelling(settings)
    challenger_metrics, prediction = _score(settings, challenger_ref, holdout, "challenger")
    champion_ref = resolve_champion(settings)
    champion = None
    if champion_ref is not None:
        champion_metrics, _ = _score(settings, champion_ref, holdout, "champion")
        champion = {**champion_ref.as_dict(), "metrics": champion_metrics}
    fairness = None
    gaps: dict[str, float] = {}
    attribute = settings.data.sensitive_attribute
    if attribute:
        per_group = metric_rules.group_metrics(TASK, holdout[settings.data.target].to_numpy(), prediction, holdout[attribute])
        gaps = metric_rules.gaps(per_group)
        fairness = {"attribute": attribute, "groups": per_group, "gaps": gaps}
    gates = apply_gates(TASK, settings.gates, challenger_metrics, champion["metrics"] if champion else None, gaps)
    result = {
        "task": TASK,
        "holdout_rows": len(holdout),
        "challenger": {**challenger_ref.as_dict(), "metrics": challenger_metrics},
        "champion": champion,
        "fairness": fairness,
        "gates": [gate.as_dict() for gate in gates],
        "passed": all(gate.passed for gate in gates),
    }
    write_all({settings.path(str(METRICS_JSON)): to_json(result), settings.path(str(EVALUATION_MD)): evaluation_section(result) + "\n"})
    failed = [gate for gate in gates if not gate.passed]
    if failed:
        raise CheckFailed(
            f"{len(failed)} gate(s) failed: {'; '.join(f'{gate.name} {gate.detail}' for gate in failed)} (report: {EVALUATION_MD})"
        )
    logger.info("all %d gates passed (champion: %s)", len(gates), champion["version"] if champion else "none")
    return result
