"""``mlops init-data PATH``: draft confs/data.yaml, confs/gates.yaml and the manifest from a user's table.

Steps: locate the table (copy it into ``data/`` when it lives outside the project), read every
cell as text, infer a spec per column, choose the roles (target, task, positive class,
timestamp, sensitive attribute, id), write the three files, and return one line per decision.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..core.inference import (
    Decision,
    InferenceError,
    InferredSchema,
    choose_timestamp,
    infer_positive_class,
    infer_schema,
    infer_task,
    named_like_id,
)
from ..core.manifest import DataFile, Manifest
from ..core.schemas import schema_hash
from ..core.specs import ColumnSpec
from ..errors import InputError
from ..io import datasets
from ..io.artifacts import write_all

logger = logging.getLogger(__name__)

HOLDOUT_FRACTION = 0.2
# Column names that usually hold a protected attribute: init-data suggests --sensitive for them.
SENSITIVE_NAMES = {"sex", "gender", "race", "ethnicity", "religion", "nationality", "disability", "marital_status"}
# Data-agnostic gates: beat a trivial baseline by a margin, never fall behind the champion,
# keep error rates close across groups. No absolute bounds: what is "good" depends on the data.
GATES = {
    "binary_classification": {
        "beat_baseline": {"roc_auc": 0.05},
        "max_regression": {"roc_auc": 0.01, "average_precision": 0.02},
        "max_fairness_gap": {"recall": 0.15, "false_positive_rate": 0.15},
    },
    "regression": {
        "beat_baseline": {"r2": 0.1},
        "max_regression": {"r2": 0.02},
        "max_fairness_gap": {"relative_mae": 0.25},
    },
}


@dataclass(frozen=True)
class Choices:
    """What the user said on the command line; ``None`` lets init-data decide."""

    target: str | None = None
    task: str | None = None
    timestamp: str | None = None
    sensitive: str | None = None
    positive_class: str | None = None
    force: bool = False


@dataclass
class Draft:
    """The contract init-data drafted, and the decisions to print."""

    location: str
    source_name: str
    rows: int
    schema: InferredSchema
    target: str
    task: str
    positive_class: int | str | None
    timestamp: str | None
    sensitive: str | None
    id_column: str | None
    numeric: list[str]
    categorical: list[str]
    columns: dict[str, ColumnSpec]
    decisions: list[Decision] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [decision.line() for decision in self.decisions]


def run(source: str, *, root: Path, confs: Path, choices: Choices, ask_target: Callable[[list[str]], str] | None = None) -> Draft:
    """Draft and write the contract for ``source``; returns the draft with its decisions."""
    location, local_source, copy_to = _locate(source, root)
    outputs = [confs / "data.yaml", confs / "gates.yaml", root / "data" / "manifest.json"]
    if copy_to is not None and copy_to.exists() and not _same_bytes(local_source, copy_to):
        outputs.append(copy_to)
    if not choices.force:
        for output in outputs:
            if output.exists():
                raise InputError(f"{_shown(output, root)} exists: pass --force to overwrite it")
    raw = read_raw(local_source if local_source is not None else location)
    target = choices.target
    if target is None:
        if ask_target is None:
            raise InputError(f"--target is required: name the column to predict (one of: {', '.join(map(str, raw.columns))})")
        target = ask_target([str(name) for name in raw.columns])
    try:
        draft = draft_contract(raw, location, Path(source).name, target, choices)
    except InferenceError as error:
        raise InputError(f"{source}: {error}") from error
    if copy_to is not None and local_source is not None:
        copy_to.parent.mkdir(parents=True, exist_ok=True)
        if not copy_to.exists() or not _same_bytes(local_source, copy_to):
            shutil.copyfile(local_source, copy_to)
        draft.decisions.insert(0, Decision("data", location, f"copied from {source}, which is outside the project"))
    pinned = copy_to if copy_to is not None else (local_source if local_source is not None else location)
    manifest = Manifest(
        files=[
            DataFile(
                name="reference",
                path=location,
                sha256=datasets.sha256_of(pinned),
                rows=draft.rows,
                schema_hash=schema_hash(draft.columns),
            )
        ]
    )
    write_all(
        {
            confs / "data.yaml": render_data_yaml(draft, source),
            confs / "gates.yaml": render_gates_yaml(draft),
            root / "data" / "manifest.json": manifest.model_dump_json(indent=2) + "\n",
        }
    )
    logger.info("wrote %s, %s and %s", *(_shown(output, root) for output in outputs[:3]))
    return draft


def _locate(source: str, root: Path) -> tuple[str, Path | None, Path | None]:
    """(location written into data.yaml, local file to read or None for a URI, where to copy it or None)."""
    if "://" in source and not source.startswith("file://"):
        return source, None, None
    path = Path(source.removeprefix("file://")).expanduser()
    if not path.is_file():
        raise InputError(f"{source}: data file not found (expected a CSV or Parquet file, or an fsspec URI such as s3://bucket/table.csv)")
    resolved, project = path.resolve(), root.resolve()
    if resolved.is_relative_to(project):
        return resolved.relative_to(project).as_posix(), resolved, None
    return f"data/{path.name}", resolved, project / "data" / path.name


def _same_bytes(one: Path | None, other: Path) -> bool:
    return one is not None and (one.resolve() == other.resolve() or datasets.sha256_of(one) == datasets.sha256_of(other))


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def read_raw(location: str | Path) -> pd.DataFrame:
    """Every cell as text, only empty cells missing: inference decides what ``n/a`` means."""
    return datasets.read_table(location, missing_values=[""])


def draft_contract(raw: pd.DataFrame, location: str, source_name: str, target: str, choices: Choices) -> Draft:
    """The whole contract from the table as text: pure, so the tests can call it on a small frame."""
    columns = [str(name) for name in raw.columns]
    if target not in columns:
        raise InferenceError(f"target {target!r} is not a column (columns: {', '.join(columns)})")
    missing_labels = int(raw[target].isna().sum())
    if missing_labels:
        raise InferenceError(f"target {target!r} is missing on {missing_labels} row(s): drop those rows or label them first")
    schema = infer_schema(raw)
    target_column = schema.columns[target]
    task = infer_task(target, target_column, raw[target], choices.task)
    decisions: list[Decision] = []
    specs = {name: column.spec for name, column in schema.columns.items()}
    positive: int | str | None = None
    if task.choice == "binary_classification":
        label, positive_decision = infer_positive_class(target, raw[target], choices.positive_class)
        labels = sorted(raw[target].astype(str).str.strip().unique())
        if all(_is_int(value) for value in labels):
            specs[target] = ColumnSpec(dtype="int", allowed=sorted(int(value) for value in labels))
            positive = int(label)
        else:
            specs[target] = ColumnSpec(dtype="category", allowed=labels)
            positive = label
    else:
        if choices.positive_class is not None:
            raise InferenceError("--positive-class applies to binary classification only")
        positive_decision = None
        if target_column.kind != "numeric":  # a 0/1 target asked to be regression: bounds, not labels
            numbers = pd.to_numeric(raw[target])
            specs[target] = ColumnSpec(dtype=target_column.spec.dtype, min=float(numbers.min()), max=float(numbers.max()))
    timestamp, timestamp_decision = choose_timestamp(schema, choices.timestamp)
    sensitive = choices.sensitive
    if sensitive is not None:
        if sensitive not in schema.columns or sensitive == target:
            raise InferenceError(f"--sensitive {sensitive!r} is not a column other than the target")
        if schema.columns[sensitive].kind != "categorical":
            raise InferenceError(
                f"--sensitive {sensitive!r} holds {schema.columns[sensitive].kind} values: expected a column of a few groups "
                f"(one of: {', '.join(name for name in schema.names('categorical') if name != target) or 'none found'})"
            )
    roles = {target, sensitive, timestamp}
    ids = [name for name in schema.names("id") if name not in roles]
    id_column = next((name for name in ids if named_like_id(name)), ids[0] if ids else None)
    numeric = [name for name in schema.names("numeric") if name not in roles]
    categorical = [name for name in schema.names("categorical") if name not in roles]
    if not numeric and not categorical:
        raise InferenceError("no column is usable as a feature (every column is the target, an id, a date or free text)")

    for name, column in schema.columns.items():
        if name == target:
            continue
        role = {sensitive: "sensitive attribute, never a feature", timestamp: "timestamp, orders the split", id_column: "id column"}.get(
            name
        )
        if role is None and not column.is_feature:
            role = "not a feature"
        decisions.append(Decision(f"column {name}", column.kind, column.reason + (f"; {role}" if role else "")))
    if schema.missing_tokens:
        decisions.append(
            Decision("missing values", ", ".join(['""', *map(json.dumps, schema.missing_tokens)]), "found among numbers or dates")
        )
    decisions.append(Decision("target", target, f"{target_column.kind} column, given with --target"))
    decisions.append(task)
    if positive_decision is not None:
        decisions.append(positive_decision)
    decisions.append(timestamp_decision)
    decisions.append(Decision("split", *_split(task.choice, target, timestamp)))
    if sensitive is not None:
        metrics = " and ".join(GATES[task.choice]["max_fairness_gap"])
        decisions.append(Decision("sensitive attribute", sensitive, f"fairness gaps on {metrics} are gated; never a feature"))
    else:
        likely = [name for name in categorical if name.lower() in SENSITIVE_NAMES]
        hint = f"{likely[0]} looks like one: pass --sensitive {likely[0]} to gate fairness gaps" if likely else "none given (--sensitive)"
        decisions.append(Decision("sensitive attribute", "none", f"{hint}; no fairness gate"))
    return Draft(
        location=location,
        source_name=source_name,
        rows=len(raw),
        schema=schema,
        target=target,
        task=task.choice,
        positive_class=positive,
        timestamp=timestamp,
        sensitive=sensitive,
        id_column=id_column,
        numeric=numeric,
        categorical=categorical,
        columns=specs,
        decisions=decisions,
    )


def _split(task: str, target: str, timestamp: str | None) -> tuple[str, str]:
    share = f"{HOLDOUT_FRACTION * 100:.0f}%"
    if timestamp is not None:
        return f"the most recent {share} of rows by {timestamp} are the holdout", "a time split mimics production"
    if task == "binary_classification":
        return f"a seeded random {share}, stratified by {target}", "no timestamp; stratified so both labels are in the holdout"
    return f"a seeded random {share}", "no timestamp"


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


# --- Rendering: commented YAML a person can review -------------------------------------------


def _q(value: object) -> str:
    """A YAML scalar that reads back as the same value: strings JSON-quoted (so `no` stays text)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        text = np.format_float_positional(float(value), precision=12, trim="-")
        return text if text not in ("-0",) else "0"
    return json.dumps(str(value), ensure_ascii=False)


def _list(values: list) -> str:
    return "[" + ", ".join(_q(value) for value in values) + "]"


def _spec(spec: ColumnSpec) -> str:
    parts = [f"dtype: {spec.dtype}"]
    if spec.nullable:
        parts.append("nullable: true")
    if spec.unique:
        parts.append("unique: true")
    if spec.min is not None:
        parts.append(f"min: {_q(spec.min)}")
    if spec.max is not None:
        parts.append(f"max: {_q(spec.max)}")
    if spec.allowed is not None:
        parts.append(f"allowed: {_list(spec.allowed)}")
    return "{" + ", ".join(parts) + "}"


def _line(text: str, comment: str = "") -> str:
    return f"{text:<40} # {comment}" if comment else text


def render_data_yaml(draft: Draft, source: str) -> str:
    reasons = {decision.subject: decision.reason for decision in draft.decisions}
    unused = [name for name, column in draft.schema.columns.items() if not column.is_feature and name not in _roles(draft)]
    lines = [
        f"# The data contract, drafted by `mlops init-data {source}` from {draft.rows} rows: review it, then commit it.",
        "# `mlops validate` checks the data against `columns`; after editing `columns` or the data, run `mlops manifest`.",
        "# Strings are JSON-quoted so that labels such as no/yes/on stay text.",
        _line(f"path: {_q(draft.location)}", "local path or any fsspec-style URI, pinned by the manifest"),
        f"manifest: {_q('data/manifest.json')}",
        _line(f"task: {draft.task}", reasons.get("task", "")),
        f"target: {_q(draft.target)}",
    ]
    if draft.positive_class is not None:
        lines.append(_line(f"positive_class: {_q(draft.positive_class)}", reasons.get("positive class", "")))
    if draft.id_column is not None:
        lines.append(f"id_column: {_q(draft.id_column)}")
    if draft.timestamp is not None:
        lines.append(_line(f"timestamp_column: {_q(draft.timestamp)}", "the holdout is the most recent rows by this column"))
    else:
        holdout = _split(draft.task, draft.target, None)[0]
        lines.append(f"# timestamp_column: none ({reasons.get('timestamp', 'no date column')}); the holdout is {holdout}")
    if draft.sensitive is not None:
        lines.append(_line(f"sensitive_attribute: {_q(draft.sensitive)}", "used by the fairness report and gates, never as a feature"))
    lines.append(_line(f"missing_values: {_list(['', *draft.schema.missing_tokens])}", "cell texts read as missing"))
    lines += ["features:", f"  numeric: {_list(draft.numeric)}", f"  categorical: {_list(draft.categorical)}"]
    if unused:
        lines.append(f"# Not features: {', '.join(unused)} (see the comments under columns).")
    lines += [
        _line(f"holdout_fraction: {_q(HOLDOUT_FRACTION)}", "share of rows both the challenger and the champion are scored on"),
        "columns:",
    ]
    for name, spec in draft.columns.items():
        column = draft.schema.columns[name]
        comment = "the target" if name == draft.target else f"{column.kind}: {column.reason}"
        lines.append(_line(f"  {_q(name)}: {_spec(spec)}", comment))
    return "\n".join(lines) + "\n"


def _roles(draft: Draft) -> set[str]:
    return {name for name in (draft.target, draft.id_column, draft.timestamp, draft.sensitive) if name is not None}


def render_gates_yaml(draft: Draft) -> str:
    gates = GATES[draft.task]
    primary = next(iter(gates["beat_baseline"]))
    baseline = "the prior/majority classifier" if draft.task == "binary_classification" else "predicting the training mean"
    fairness = (
        f"max_fairness_gap: {_mapping(gates['max_fairness_gap'])}"
        if draft.sensitive is not None
        else "max_fairness_gap: {}                    # no sensitive attribute: add one to data.yaml to gate fairness gaps"
    )
    lines = [
        f"# Gates decide whether a challenger may replace the champion; drafted by `mlops init-data` for {draft.task}.",
        "# A failed gate fails the pull request. Margins are in each metric's own units.",
        f"# The challenger must beat a trivial baseline ({baseline}) on the same holdout by this margin.",
        f"beat_baseline: {_mapping(gates['beat_baseline'])}",
        "# Absolute bounds on the holdout: none until you know what this data allows (e.g. minimums: {" + primary + ": 0.7}).",
        "minimums: {}",
        "maximums: {}",
        "# How much worse than the champion the challenger may be.",
        f"max_regression: {_mapping(gates['max_regression'])}",
        "# Largest allowed gap of a group metric between groups of the sensitive attribute.",
        fairness,
    ]
    return "\n".join(lines) + "\n"


def _mapping(values: dict[str, float]) -> str:
    return "{" + ", ".join(f"{key}: {_q(value)}" for key, value in values.items()) + "}"
