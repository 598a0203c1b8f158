"""Gates: may the challenger replace the champion?"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from .metric_catalog import HIGHER_IS_BETTER
from .specs import GatesConfig


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict, with the numbers it compared."""

    name: str
    metric: str
    passed: bool
    value: float
    limit: float
    detail: str

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


# Losses come from float subtraction (0.80 - 0.75 = 0.05000000000000004): a loss within this
# of its tolerance is at the bound, which passes. Far below the 4 decimals the reports show.
BOUND_SLACK = 1e-9


def _ok(value: float, passed: bool) -> bool:
    # A metric that could not be computed (NaN) never passes a gate.
    return passed and not math.isnan(value)


def _bound(metric: str, value: float, limit: float, *, kind: str, passed: bool) -> str:
    """The verdict as a reader checks it: "brier 0.2001 ≤ 0.25 (max)" or "brier 0.2006 > 0.1 (max)"."""
    relation = ("≥" if passed else "<") if kind == "min" else "≤" if passed else ">"
    return f"{metric} {value:.4f} {relation} {limit:g} ({kind})"


def apply_gates(
    task: str,
    gates: GatesConfig,
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    fairness_gaps: dict[str, float],
    baseline: dict[str, float] | None = None,
) -> list[GateResult]:
    """Beat the baseline and absolute bounds always; no regression against the champion when one exists; fairness gaps."""
    results = []
    for metric, margin in gates.beat_baseline.items():
        value = challenger[metric]
        reference = (baseline or {}).get(metric, float("nan"))
        higher = HIGHER_IS_BETTER[task][metric]
        # The challenger must be better than the trivial model by at least the margin, in the metric's direction.
        required = reference + margin if higher else reference - margin
        passed = _ok(reference, (value >= required - BOUND_SLACK) if higher else (value <= required + BOUND_SLACK))
        relation = ("≥" if passed else "<") if higher else ("≤" if passed else ">")
        detail = f"{metric} {value:.4f} {relation} {required:.4f} (baseline {reference:.4f} {'+' if higher else '−'} margin {margin:g})"
        results.append(GateResult("beat_baseline", metric, _ok(value, passed), value, required, detail))
    for metric, minimum in gates.minimums.items():
        value = challenger[metric]
        passed = _ok(value, value >= minimum)
        results.append(GateResult("minimum", metric, passed, value, minimum, _bound(metric, value, minimum, kind="min", passed=passed)))
    for metric, maximum in gates.maximums.items():
        value = challenger[metric]
        passed = _ok(value, value <= maximum)
        results.append(GateResult("maximum", metric, passed, value, maximum, _bound(metric, value, maximum, kind="max", passed=passed)))
    if champion is not None:
        for metric, tolerance in gates.max_regression.items():
            value, reference = challenger[metric], champion[metric]
            # Positive loss means the challenger is worse, whatever the metric's direction.
            loss = (reference - value) if HIGHER_IS_BETTER[task][metric] else (value - reference)
            results.append(
                GateResult(
                    "no_regression",
                    metric,
                    _ok(value, loss <= tolerance + BOUND_SLACK),
                    value,
                    tolerance,
                    f"{metric} {value:.4f} vs champion {reference:.4f} (worse by {max(loss, 0.0):.4f}, allowed {tolerance:g})",
                )
            )
    for metric, allowed in gates.max_fairness_gap.items():
        gap = fairness_gaps.get(metric, float("nan"))
        passed = _ok(gap, gap <= allowed)
        detail = _bound(f"{metric} gap between groups", gap, allowed, kind="max", passed=passed)
        results.append(GateResult("fairness_gap", metric, passed, gap, allowed, detail))
    return results
