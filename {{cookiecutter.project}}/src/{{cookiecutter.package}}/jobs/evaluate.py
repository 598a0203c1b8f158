"""``mlops evaluate``: score challenger and champion on one holdout and apply the gates.

The challenger is the folder `mlops train` logged and kept (sha256-checked); the champion is
the release `mlops champion` fetched. MLflow is imported only to ask a registry alias.
"""

from __future__ import annotations

import logging

from ..config import Settings
from ..core import metrics as metric_rules
from ..core.gates import apply_gates
from ..core.records import Evaluation, ScoredModel, TrainingRun
from ..core.report import evaluation_section
from ..errors import CheckFailed, InputError
from ..io.artifacts import remove, to_json, write_all
from ..jobs import EVALUATION_MD, METRICS_JSON, TRAINING_JSON
from . import steps

logger = logging.getLogger(__name__)


def run(settings: Settings) -> dict:
    remove(settings.path(str(METRICS_JSON)), settings.path(str(EVALUATION_MD)))
    trained = TrainingRun.from_dict(steps.read_current(settings, TRAINING_JSON, produced_by="train"))
    task = settings.data.task
    if trained.task != task:
        raise InputError(f"{TRAINING_JSON}: trained for task {trained.task!r}, this project is {task}; run `mlops train` again")
    _, train, holdout = steps.split_for_modelling(settings)
    baseline = metric_rules.baseline_metrics(task, steps.labels(settings, train), steps.labels(settings, holdout))
    challenger_model = steps.load_trained(settings, trained.model)
    challenger_metrics, prediction = steps.score(settings, challenger_model, holdout, role="challenger", uri=trained.model.model_uri)
    challenger = ScoredModel(trained.model.ref, challenger_metrics)
    champion = None
    found = steps.load_champion(settings)
    if found is not None:
        champion_ref, champion_model = found
        champion_metrics, _ = steps.score(settings, champion_model, holdout, role="champion", uri=champion_ref.model_uri)
        champion = ScoredModel(champion_ref, champion_metrics)
    fairness = None
    gaps: dict[str, float] = {}
    attribute = settings.data.sensitive_attribute
    if attribute:
        per_group = metric_rules.group_metrics(task, steps.labels(settings, holdout), prediction, holdout[attribute])
        gaps = metric_rules.gaps(per_group)
        fairness = {"attribute": attribute, "groups": per_group, "gaps": gaps}
    gates = apply_gates(task, settings.gates, challenger_metrics, champion.metrics if champion else None, gaps, baseline)
    evaluation = Evaluation(
        task=task,
        holdout_rows=len(holdout),
        split=steps.split_description(settings),
        baseline=baseline,
        challenger=challenger,
        champion=champion,
        fairness=fairness,
        gates=[gate.as_dict() for gate in gates],
        passed=all(gate.passed for gate in gates),
    )
    result = evaluation.as_dict()
    write_all(
        {
            settings.path(str(METRICS_JSON)): to_json(steps.stamped(result, settings)),
            settings.path(str(EVALUATION_MD)): evaluation_section(result) + "\n",
        }
    )
    failed = [gate for gate in gates if not gate.passed]
    if failed:
        raise CheckFailed(
            f"{len(failed)} gate(s) failed: {'; '.join(f'{gate.name} {gate.detail}' for gate in failed)} (report: {EVALUATION_MD})"
        )
    logger.info("all %d gates passed (champion: %s)", len(gates), champion.ref.version if champion else "none")
    return result
