"""``mlops simulate-batch``: the ``--shift`` forms, and a batch that is the data's own rows with exactly the asked shift."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.package }}.core.simulation import Shift, check_shifts, parse_shift, simulate
from {{ cookiecutter.package }}.core.specs import ColumnSpec
from {{ cookiecutter.package }}.errors import InputError

COLUMNS = {
    "id": ColumnSpec(dtype="string", unique=True),
    "day": ColumnSpec(dtype="datetime"),
    "income": ColumnSpec(dtype="float", min=0),
    "visits": ColumnSpec(dtype="int"),
    "plan": ColumnSpec(dtype="category", allowed=["basic", "pro"]),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("income=+10%", Shift("income", amount=0.10, relative=True)),
        ("income=-2.5%", Shift("income", amount=-0.025, relative=True)),
        ("visits=-3", Shift("visits", amount=-3.0)),
        ("visits=4", Shift("visits", amount=4.0)),
        ("plan=pro:30%", Shift("plan", category="pro", share=0.30)),
        (" my col = 1e3 ", Shift("my col", amount=1000.0)),
    ],
)
def test_each_shift_form_reads_as_meant(text, expected):
    assert parse_shift(text) == expected


@pytest.mark.parametrize("text", ["income", "income=", "income=+10%%", "=+1%", "income=ten", "plan=pro:0%", "plan=pro:101%", "plan=:30%"])
def test_a_malformed_shift_is_one_input_error(text):
    with pytest.raises(InputError, match="--shift"):
        parse_shift(text)


@pytest.mark.parametrize(
    ("text", "names"),
    [("salary=+1%", "no such column"), ("plan=+1%", "takes plan=value:30%"), ("visits=pro:30%", "numeric"), ("plan=gold:30%", "allows")],
)
def test_a_shift_that_does_not_fit_its_column_is_refused(text, names):
    with pytest.raises(InputError, match=names):
        check_shifts([parse_shift(text)], COLUMNS, "confs/data.yaml")


def table(rows: int = 200) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"c{i}" for i in range(rows)],
            "day": [f"2025-01-{1 + i % 28:02d}" for i in range(rows)],
            "income": [str(100.0 + i) for i in range(rows)],
            "visits": [str(i % 7) for i in range(rows)],
            "plan": ["basic"] * rows,
        }
    )


def test_numeric_shifts_move_the_sampled_rows_by_exactly_the_amount():
    data = table()
    plain = simulate(data, [], COLUMNS, rows=300, seed=4)
    shifted = simulate(data, [parse_shift("income=+10%"), parse_shift("visits=-3")], COLUMNS, rows=300, seed=4)
    assert pd.to_numeric(shifted["income"]).tolist() == pytest.approx((pd.to_numeric(plain["income"]) * 1.10).tolist())
    assert (pd.to_numeric(shifted["visits"]) == pd.to_numeric(plain["visits"]) - 3).all()
    assert shifted["visits"].str.fullmatch(r"-?\d+").all(), "an int column must stay integers"
    assert set(plain["income"]) <= set(data["income"]), "rows must come from the data"


def test_a_category_shift_sets_about_its_share_and_the_rest_stays():
    shifted = simulate(table(), [parse_shift("plan=pro:30%")], COLUMNS, rows=2000, seed=1)
    assert 0.25 < (shifted["plan"] == "pro").mean() < 0.35
    assert set(shifted["plan"]) == {"basic", "pro"}


def test_the_batch_has_new_ids_and_comes_after_the_data():
    data = table()
    batch = simulate(data, [], COLUMNS, rows=50, seed=0, id_column="id", timestamp_column="day")
    assert batch["id"].is_unique and not set(batch["id"]) & set(data["id"])
    assert pd.to_datetime(batch["day"]).min() > pd.to_datetime(data["day"]).max()
    assert simulate(data, [], COLUMNS, rows=50, seed=0).equals(simulate(data, [], COLUMNS, rows=50, seed=0))
