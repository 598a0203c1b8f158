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


def apply_gates(
    task: str,
    gates: GatesConfig,
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    fairness_gaps: dict[str, float],
) -> list[GateResult]:
    """Absolute bounds always; regression against the champion when one exists; fairness gaps."""
    results = []
    for metric, minimum in gates.minimums.items():
        value = challenger[metric]
        results.append(GateResult("minimum", metric, _ok(value, value >= minimum), value, minimum, f"{metric} {value:.4f} ≥ {minimum:g}"))
    for metric, maximum in gates.maximums.items():
        value = challenger[metric]
        results.append(GateResult("maximum", metric, _ok(value, value <= maximum), value, maximum, f"{metric} {value:.4f} ≤ {maximum:g}"))
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
        results.append(
            GateResult(
                "fairness_gap", metric, _ok(gap, gap <= allowed), gap, allowed, f"{metric} gap between groups {gap:.4f} ≤ {allowed:g}"
            )
        )
    return results
