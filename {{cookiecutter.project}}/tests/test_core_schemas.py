import pandas as pd
import pandera.pandas as pa
import pytest

from {{ cookiecutter.package }}.config import ColumnSpec, load_settings
from {{ cookiecutter.package }}.core.schemas import build_schema, schema_hash, summarize_failures

from tests.conftest import PROJECT

COLUMNS = {
    "id": ColumnSpec(dtype="string", unique=True),
    "age": ColumnSpec(dtype="int", min=18, max=110),
    "plan": ColumnSpec(dtype="category", allowed=["basic", "pro"]),
}


def failures_of(frame: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        build_schema(COLUMNS).validate(frame, lazy=True)
    return {(failure.column, failure.check): failure.examples for failure in summarize_failures(caught.value.failure_cases)}


def test_valid_text_data_is_coerced_to_the_declared_types():
    frame = pd.DataFrame({"id": ["a", "b"], "age": ["30", "41"], "plan": ["basic", "pro"]})
    validated = build_schema(COLUMNS).validate(frame)
    assert validated["age"].dtype == "int64"
    assert validated["age"].tolist() == [30, 41]


def test_each_failing_column_and_check_is_named_with_examples():
    frame = pd.DataFrame({"id": ["a", "a", "c"], "age": ["17", "forty", None], "plan": ["basic", "gold", "pro"]})
    found = failures_of(frame)
    assert found[("age", "coerce_dtype('int64')")] == ["'forty'", "null"]
    assert ("age", "not_nullable") in found
    assert found[("plan", "isin(['basic', 'pro'])")] == ["'gold'"]
    assert ("id", "field_uniqueness") in found


def test_a_value_below_the_minimum_is_reported_once_coercible():
    found = failures_of(pd.DataFrame({"id": ["a"], "age": ["12"], "plan": ["pro"]}))
    assert found == {("age", "greater_than_or_equal_to(18)"): ["12"]}


def test_missing_and_extra_columns_are_named():
    found = failures_of(pd.DataFrame({"id": ["a"], "plan": ["pro"], "colour": ["red"]}))
    assert ("age", "required column is missing") in found
    assert ("colour", "column is not declared in confs/data.yaml") in found


def test_schema_hash_changes_when_a_type_changes_and_not_otherwise():
    same = dict(COLUMNS)
    retyped = {**COLUMNS, "age": ColumnSpec(dtype="float", min=18)}
    assert schema_hash(same) == schema_hash(COLUMNS)
    assert schema_hash(retyped) != schema_hash(COLUMNS)


def test_schema_hash_changes_when_the_column_order_changes():
    # The shipped columns, whatever data this project was given: same specs, another order.
    columns = load_settings(PROJECT / "confs").data.columns
    assert len(columns) >= 2
    reordered = dict(reversed(list(columns.items())))
    assert list(reordered) != list(columns)
    assert schema_hash(reordered) != schema_hash(columns)
    assert schema_hash(dict(columns.items())) == schema_hash(columns)


def test_numeric_category_codes_need_no_quoting():
    # Given a category column whose allowed codes YAML reads as numbers (allowed: [11, 23])
    codes = {"site": ColumnSpec(dtype="category", allowed=[11, 23])}
    # Then the text read from a CSV matches them, and an unknown code is still refused
    build_schema(codes).validate(pd.DataFrame({"site": ["11", "23"]}))
    with pytest.raises(pa.errors.SchemaErrors):
        build_schema(codes).validate(pd.DataFrame({"site": ["11", "99"]}), lazy=True)


def test_a_long_list_of_missing_columns_is_complete_or_counted():
    from {{ cookiecutter.package }}.core.schemas import CheckFailure, failure_reasons

    missing = [CheckFailure(column=f"c{index:02d}", check="required column is missing", rows=0, examples=[]) for index in range(38)]
    (reason,) = failure_reasons(missing)
    assert reason.startswith("required columns missing: c00, c01,") and reason.endswith("c09 and 28 more")
    (short,) = failure_reasons(missing[:3])
    assert short == "required columns missing: c00, c01, c02"
