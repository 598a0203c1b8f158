"""Two tables unlike the demo, for the bring-your-own-data tests: ``python byo_datasets.py binary|regression OUT.csv``.

Seeded and with a learnable signal, so the baked project's PR loop must pass on them.
It needs numpy, which the template's own environment lacks: the tests run it with a baked
project's interpreter (``uv run python``), where numpy is locked.

- ``binary``: tumour diagnoses. String labels (malignant/benign, malignant the rarer), a
  visit date, an id, site codes that are numbers with gaps (categories, not quantities), a
  yes/no column, a count 0..8 (a number, not categories), a sensitive attribute independent
  of the signal, and empty cells in two feature columns.
- ``regression``: flat prices. No date at all, an integer id, and a free-text column.
"""

from __future__ import annotations

import csv
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np

ROWS = 2000
SITES = [11, 23, 37, 42, 58]
NEIGHBOURHOODS = ["old town", "harbour", "university", "riverside", "station", "hills"]
ADJECTIVES = ["bright", "quiet", "renovated", "spacious", "cosy", "modern", "sunny", "charming"]
NEAR = ["the park", "the river", "shops", "the tram", "schools", "the market", "the station"]


def binary(rows: int = ROWS, seed: int = 7) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    start = date(2022, 1, 1)
    visit_days = np.sort(rng.integers(0, 730, rows))
    site = rng.choice(SITES, rows)
    sex = rng.choice(["female", "male"], rows)
    age = rng.integers(25, 86, rows)
    radius = rng.normal(14.0, 3.0, rows)
    texture = rng.normal(19.0, 4.0, rows)
    lesions = rng.integers(0, 9, rows)
    smoker = rng.choice(["yes", "no"], rows, p=[0.3, 0.7])
    site_effect = {11: -0.5, 23: 0.0, 37: 0.5, 42: -0.2, 58: 0.3}
    logit = (
        2.8 * (radius - 14.0) / 3.0
        + 1.6 * (texture - 19.0) / 4.0
        + 0.35 * (lesions - 4)
        + 0.6 * (smoker == "yes")
        + np.vectorize(site_effect.get)(site)
        - 1.2
    )
    malignant = rng.random(rows) < 1 / (1 + np.exp(-logit))
    radius_cells = [f"{value:.2f}" for value in radius]
    texture_cells = [f"{value:.2f}" for value in texture]
    for cells, share in ((radius_cells, 0.03), (texture_cells, 0.05)):
        for index in rng.choice(rows, int(share * rows), replace=False):
            cells[index] = ""  # an empty cell: missing
    return [
        {
            "patient_id": f"P{100000 + index}",
            "visit_date": (start + timedelta(days=int(visit_days[index]))).isoformat(),
            "site": int(site[index]),
            "sex": str(sex[index]),
            "age": int(age[index]),
            "radius_mean": radius_cells[index],
            "texture_mean": texture_cells[index],
            "lesions": int(lesions[index]),
            "smoker": str(smoker[index]),
            "diagnosis": "malignant" if malignant[index] else "benign",
        }
        for index in range(rows)
    ]


def regression(rows: int = ROWS, seed: int = 11) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    neighbourhood = rng.choice(NEIGHBOURHOODS, rows)
    rooms = rng.integers(1, 7, rows)
    area = np.round(rooms * rng.normal(24.0, 5.0, rows) + rng.normal(15.0, 5.0, rows), 1).clip(12.0)
    floor = rng.integers(0, 9, rows)
    premium = {"old town": 1.35, "harbour": 1.25, "university": 1.0, "riverside": 1.15, "station": 0.9, "hills": 1.05}
    price = np.round(np.vectorize(premium.get)(neighbourhood) * (2800 * area + 4000 * floor) + rng.normal(0, 12000, rows), -2)
    return [
        {
            "listing_id": 5000 + 3 * index,
            "neighbourhood": str(neighbourhood[index]),
            "rooms": int(rooms[index]),
            "area_m2": f"{area[index]:.1f}",
            "floor": int(floor[index]),
            "description": (
                f"{rng.choice(ADJECTIVES).capitalize()} {rooms[index]}-room flat near {rng.choice(NEAR)}, floor {floor[index]}"
            ),
            "price": f"{price[index]:.0f}",
        }
        for index in range(rows)
    ]


def write(records: list[dict[str, object]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


if __name__ == "__main__":
    kind, out = sys.argv[1], Path(sys.argv[2])
    write({"binary": binary, "regression": regression}[kind](), out)
