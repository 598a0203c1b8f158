"""Tables unlike the demo, for the bring-your-own-data tests: ``python byo_datasets.py KIND OUT.csv [--sort-by COLUMN]``.

Seeded and with a learnable signal, so the baked project's PR loop must pass on them.
It needs numpy, which the template's own environment lacks: the tests run it with a baked
project's interpreter (``uv run python``), where numpy is locked.

- ``binary``: tumour diagnoses. String labels (malignant/benign, malignant the rarer), a
  visit date, an id, site codes that are numbers with gaps (categories, not quantities), a
  yes/no column, a count 0..8 (a number, not categories), a sensitive attribute independent
  of the signal, and empty cells in two feature columns.
- ``regression``: flat prices. No date at all, an integer id, and a free-text column.
- ``loans``: loan decisions. String labels (approved/declined), many categorical columns, an
  application date and an id, in no particular order.
- ``cars``: used-car prices, 6,000 rows: categoricals, quantities, an integer id, no date.
- ``diamonds``: diamond prices, 54,000 rows (the size of the public table): three graded
  categoricals and six quantities, no id and no date.

``--sort-by COLUMN`` writes the rows ordered by that column (numbers as numbers), as real
exports often are: by id, by date, or by the very target.
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


LOAN_CATEGORIES = {
    "region": (["north", "south", "east", "west", "centre", "islands", "coast", "mountains"], [0.2, 0.0, 0.1, -0.1, 0.3, -0.4, 0.0, -0.2]),
    "employment": (["salaried", "self-employed", "contractor", "retired", "unemployed"], [0.8, 0.0, 0.2, 0.4, -1.5]),
    "housing": (["owner", "mortgage", "renter"], [0.5, 0.3, -0.3]),
    "purpose": (["car", "home", "education", "holiday", "debt", "business", "medical"], [0.3, 0.5, 0.2, -0.4, -0.6, -0.2, 0.0]),
    "education": (["primary", "secondary", "bachelor", "master", "doctorate"], [-0.4, 0.0, 0.3, 0.4, 0.4]),
    "marital": (["single", "married", "divorced", "widowed"], [0.0, 0.2, -0.1, 0.0]),
    "channel": (["branch", "web", "app", "broker"], [0.0, 0.1, 0.1, -0.3]),
    "product": (["standard", "plus", "premium"], [0.0, 0.1, 0.2]),
    "has_guarantor": (["yes", "no"], [0.6, 0.0]),
}


def loans(rows: int = 3000, seed: int = 13) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    start = date(2021, 1, 1)
    days = rng.integers(0, 900, rows)  # not in date order: the sorted copy is made by --sort-by
    categories = {name: rng.integers(0, len(values), rows) for name, (values, _) in LOAN_CATEGORIES.items()}
    income = np.round(rng.lognormal(10.4, 0.4, rows), 0)
    amount = np.round(rng.lognormal(9.2, 0.6, rows), -1)
    term = rng.choice([12, 24, 36, 48, 60], rows)
    age = rng.integers(19, 80, rows)
    logit = 2.5 * (np.log(income) - np.log(amount) - 1.2) - 0.01 * (term - 36) + 0.01 * (age - 45)
    for name, (_, effects) in LOAN_CATEGORIES.items():
        logit = logit + np.asarray(effects)[categories[name]]
    approved = rng.random(rows) < 1 / (1 + np.exp(-logit))
    return [
        {
            "application_id": f"A{200000 + index}",
            "applied_on": (start + timedelta(days=int(days[index]))).isoformat(),
            **{name: values[categories[name][index]] for name, (values, _) in LOAN_CATEGORIES.items()},
            "income": f"{income[index]:.0f}",
            "amount": f"{amount[index]:.0f}",
            "term_months": int(term[index]),
            "age": int(age[index]),
            "decision": "approved" if approved[index] else "declined",
        }
        for index in range(rows)
    ]


MAKES = {"avra": 1.0, "belto": 1.2, "corvan": 0.85, "dacia": 0.7, "elvo": 1.5, "fiorra": 0.95, "garna": 1.1, "hesper": 1.8}
FUELS = {"petrol": 1.0, "diesel": 1.05, "hybrid": 1.2, "electric": 1.35}
BODIES = {"hatchback": 0.9, "saloon": 1.0, "estate": 1.05, "suv": 1.25, "coupe": 1.15, "van": 0.95}


def cars(rows: int = 6000, seed: int = 17) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    make, fuel, body = rng.choice(list(MAKES), rows), rng.choice(list(FUELS), rows), rng.choice(list(BODIES), rows)
    gearbox = rng.choice(["manual", "automatic"], rows, p=[0.55, 0.45])
    age_years = rng.integers(0, 19, rows)
    mileage = np.round(age_years * rng.normal(13000, 4000, rows).clip(2000) + rng.normal(0, 3000, rows).clip(0), -2)
    engine = np.round(rng.choice([1.0, 1.2, 1.4, 1.6, 2.0, 2.5, 3.0], rows), 1)
    factor = np.vectorize(MAKES.get)(make) * np.vectorize(FUELS.get)(fuel) * np.vectorize(BODIES.get)(body)
    price = 24000 * factor * (0.88**age_years) * (1 + 0.15 * (engine - 1.6)) * (1 + 0.06 * (gearbox == "automatic"))
    price = np.round(price - 0.03 * mileage + rng.normal(0, 1200, rows), -1).clip(500)
    return [
        {
            "car_id": 90000 + index,
            "make": str(make[index]),
            "fuel": str(fuel[index]),
            "body": str(body[index]),
            "gearbox": str(gearbox[index]),
            "age_years": int(age_years[index]),
            "mileage_km": f"{mileage[index]:.0f}",
            "engine_litres": f"{engine[index]:.1f}",
            "price": f"{price[index]:.0f}",
        }
        for index in range(rows)
    ]


CUTS = ["Fair", "Good", "Very Good", "Premium", "Ideal"]
COLOURS = ["J", "I", "H", "G", "F", "E", "D"]
CLARITIES = ["I1", "SI2", "SI1", "VS2", "VS1", "VVS2", "VVS1", "IF"]


def diamonds(rows: int = 54000, seed: int = 19) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    carat = np.round(rng.lognormal(-0.4, 0.55, rows).clip(0.2, 5.0), 2)
    cut, colour, clarity = rng.integers(0, len(CUTS), rows), rng.integers(0, len(COLOURS), rows), rng.integers(0, len(CLARITIES), rows)
    depth = np.round(rng.normal(61.7, 1.4, rows), 1)
    table = np.round(rng.normal(57.4, 2.2, rows), 0)
    x = np.round(6.5 * carat ** (1 / 3) + rng.normal(0, 0.05, rows), 2)
    log_price = 8.4 + 1.7 * np.log(carat) + 0.05 * cut + 0.07 * colour + 0.09 * clarity + rng.normal(0, 0.15, rows)
    return [
        {
            "carat": f"{carat[index]:.2f}",
            "cut": CUTS[cut[index]],
            "color": COLOURS[colour[index]],
            "clarity": CLARITIES[clarity[index]],
            "depth": f"{depth[index]:.1f}",
            "table": f"{table[index]:.0f}",
            "x": f"{x[index]:.2f}",
            "y": f"{x[index] + rng.normal(0, 0.03):.2f}",
            "z": f"{x[index] * 0.618:.2f}",
            "price": int(np.exp(log_price[index])),
        }
        for index in range(rows)
    ]


KINDS = {"binary": binary, "regression": regression, "loans": loans, "cars": cars, "diamonds": diamonds}


def sorted_by(records: list[dict[str, object]], column: str) -> list[dict[str, object]]:
    """The rows ordered by ``column``: numbers as numbers, anything else as text (ISO dates sort as text); stable."""

    def key(record: dict[str, object]) -> tuple[int, float, str]:
        value = record[column]
        try:
            return (0, float(value), "")
        except (TypeError, ValueError):
            return (1, 0.0, str(value))

    return sorted(records, key=key)


def write(records: list[dict[str, object]], path: Path) -> None:
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(records[0]))
        writer.writeheader()
        writer.writerows(records)


if __name__ == "__main__":
    kind, out, *options = sys.argv[1:]
    records = KINDS[kind]()
    if options:
        flag, column = options
        assert flag == "--sort-by", f"unknown option {flag}"
        records = sorted_by(records, column)
    write(records, Path(out))
