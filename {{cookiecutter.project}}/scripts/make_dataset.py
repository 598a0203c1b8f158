"""Generate the demo dataset: a seeded, synthetic telecom customer table.

Why synthetic: the template must work offline and ship no personal data. The generating
process is written out below so that every effect the model can learn is documented:

- churn (binary target ``churned``) rises with month-to-month contracts, support calls,
  electronic-check payments and high charges, and falls with tenure;
- ``spend_next_quarter`` (numeric target) is roughly three months of charges, scaled by
  usage and discounted by the customer's (unobserved) probability of churning;
- ``gender`` is the sensitive attribute: it has NO effect on either target, so any gap the
  fairness report shows comes from the model or from sampling noise;
- ``observed_at`` spreads rows over 2023-2025 so that time-based splits and drift work.

Later production batches, for the monitoring leg (``mlops drift``), start where the reference
ends (2025-06-20) and span 30 days:

- ``--batch iid``: the same process, new customers: nothing has drifted;
- ``--batch shifted``: a 25 % price rise: ``monthly_charges`` moves up, and churn with it
  (through the same charge effect), so the data, the predictions and the champion's
  accuracy all move, as they would after a real price change.

Usage: ``python scripts/make_dataset.py --rows 6000 --seed 7 --out data/reference.csv``
       ``python scripts/make_dataset.py --batch shifted --rows 1500 --seed 11 --out data/current/2025-07.csv``
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

CONTRACTS = ["month-to-month", "one-year", "two-year"]
PAYMENTS = ["card", "bank-transfer", "electronic-check", "mailed-check"]
REGIONS = ["north", "south", "east", "west"]
GENDERS = ["female", "male"]


BATCH_START = "2025-06-20"  # the day after the reference data ends
BATCH_DAYS = 30
PRICE_RISE = {"iid": 0.0, "shifted": 0.25}


def make_customers(rows: int, seed: int, start: str = "2023-01-01", days: int = 900, price_rise: float = 0.0) -> pd.DataFrame:
    """Return ``rows`` customers drawn from the documented generating process.

    ``price_rise`` scales every monthly charge (0.25: 25 % dearer); churn follows through its
    charge effect. 0 leaves the random draws, and so the reference data, exactly as they were.
    """
    rng = np.random.default_rng(seed)
    contract = rng.choice(CONTRACTS, size=rows, p=[0.55, 0.25, 0.20])
    payment = rng.choice(PAYMENTS, size=rows, p=[0.30, 0.25, 0.30, 0.15])
    tenure = np.clip(rng.gamma(shape=1.6, scale=14.0, size=rows), 0, 72).round().astype(int)
    monthly = (np.clip(rng.normal(70.0, 22.0, size=rows), 18.0, 130.0) * (1.0 + price_rise)).round(2)
    calls = np.clip(rng.poisson(1.4, size=rows), 0, 15)
    usage = np.clip(rng.lognormal(mean=2.6, sigma=0.6, size=rows), 0.1, 250.0).round(2)
    age = np.clip(rng.normal(45, 15, size=rows), 18, 90).round().astype(int)
    logit = (
        -1.1
        + 1.3 * (contract == "month-to-month")
        - 0.8 * (contract == "two-year")
        - 0.035 * tenure
        + 0.018 * (monthly - 70.0)
        + 0.38 * calls
        + 0.55 * (payment == "electronic-check")
        + rng.normal(0.0, 0.35, size=rows)
    )
    churn_probability = 1.0 / (1.0 + np.exp(-logit))
    churned = (rng.random(rows) < churn_probability).astype(int)
    # Expected spend, discounted by the risk of leaving: smooth in the features, so learnable.
    spend = 3.0 * monthly * (0.9 + 0.004 * usage) * (1.0 - 0.5 * churn_probability) + rng.normal(0.0, 12.0, size=rows)
    observed = pd.Timestamp(start) + pd.to_timedelta(np.sort(rng.integers(0, days, size=rows)), unit="D")
    return pd.DataFrame(
        {
            "customer_id": [f"C{seed:02d}{i:06d}" for i in range(rows)],
            "observed_at": observed.strftime("%Y-%m-%d"),
            "age": age,
            "gender": rng.choice(GENDERS, size=rows),
            "region": rng.choice(REGIONS, size=rows),
            "contract": contract,
            "payment_method": payment,
            "tenure_months": tenure,
            "monthly_charges": monthly,
            "support_calls_90d": calls,
            "data_usage_gb": usage,
            "churned": churned,
            "spend_next_quarter": np.clip(spend, 0.0, None).round(2),
        }
    )


def make_batch(kind: str, rows: int, seed: int, start: str = BATCH_START) -> pd.DataFrame:
    """A production batch after the reference period: ``iid`` (no drift) or ``shifted`` (a price rise)."""
    return make_customers(rows, seed, start=start, days=BATCH_DAYS, price_rise=PRICE_RISE[kind])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch", choices=sorted(PRICE_RISE), help="a production batch after the reference period")
    parser.add_argument("--start", default=BATCH_START, help="first day of a --batch (YYYY-MM-DD)")
    parser.add_argument("--out", type=Path, default=Path("data/reference.csv"))
    args = parser.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame = make_batch(args.batch, args.rows, args.seed, args.start) if args.batch else make_customers(args.rows, args.seed)
    frame.to_csv(args.out, index=False)


if __name__ == "__main__":
    main()
