"""``mlops init-data PATH``: draft confs/data.yaml, confs/gates.yaml and the manifest from a user's table.

Steps: locate the table (copy it into ``data/`` when it lives outside the project), read every
cell as text, infer a spec per column, choose the roles (target, task, positive class,
timestamp, sensitive attribute, id), write the three files, and return one line per decision.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..core.inference import (
    Decision,
    InferenceError,
    InferredSchema,
    check_labels,
    check_names,
    choose_group,
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
    group: str | None = None
    exclude: tuple[str, ...] = ()
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
    group: str | None
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
            confs / "data.yaml": render_data_yaml(draft),
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
    check_names(columns)
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
    check_labels(specs)
    timestamp, timestamp_decision = choose_timestamp(schema, choices.timestamp, raw)
    sensitive = choices.sensitive
    if sensitive is not None:
        if sensitive not in schema.columns or sensitive == target:
            raise InferenceError(f"--sensitive {sensitive!r} is not a column other than the target")
        if schema.columns[sensitive].kind != "categorical":
            raise InferenceError(
                f"--sensitive {sensitive!r} holds {schema.columns[sensitive].kind} values: expected a column of a few groups "
                f"(one of: {', '.join(name for name in schema.names('categorical') if name != target) or 'none found'})"
            )
    group, group_decision = choose_group(schema, choices.group, {target, sensitive, timestamp})
    for name in choices.exclude:
        if name not in schema.columns or name == target:
            raise InferenceError(f"--exclude {name!r} is not a column other than the target")
    roles = {target, sensitive, timestamp, group, *choices.exclude}
    ids = [name for name in schema.names("id") if name not in roles]
    id_column = next((name for name in ids if named_like_id(name)), ids[0] if ids else None)
    numeric = [name for name in schema.names("numeric") if name not in roles]
    categorical = [name for name in schema.names("categorical") if name not in roles]
    if not numeric and not categorical:
        raise InferenceError("no column is usable as a feature (every column is the target, an id, a group, a date, free text or excluded)")

    for name, column in schema.columns.items():
        if name == target:
            continue
        role = {
            sensitive: "sensitive attribute, never a feature",
            timestamp: "timestamp, orders the split",
            group: "group, never a feature",
            id_column: "id column",
            **dict.fromkeys(choices.exclude, "excluded with --exclude, never a feature"),
        }.get(name)
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
    decisions.append(group_decision)
    decisions.append(Decision("split", *_split(task.choice, target, timestamp, group)))
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
        group=group,
        id_column=id_column,
        numeric=numeric,
        categorical=categorical,
        columns=specs,
        decisions=decisions,
    )


def _split(task: str, target: str, timestamp: str | None, group: str | None = None) -> tuple[str, str]:
    share = f"{HOLDOUT_FRACTION * 100:.0f}%"
    if timestamp is not None:
        return f"the most recent {share} of rows by {timestamp} are the holdout", "a time split mimics production"
    if group is not None:
        return f"a seeded random {share} of the {group} values, with all their rows", f"no timestamp; no {group} in both train and holdout"
    if task == "binary_classification":
        return f"a seeded random {share}, stratified by {target}", "no timestamp; stratified so both labels are in the holdout"
    return f"a seeded random {share}", "no timestamp"


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True


# --- Rendering: YAML a person can review, written by a YAML emitter --------------------------
#
# Every name, label and path from the table is a YAML value written by PyYAML's emitter, so it reads
# back as itself whatever it holds; comments are lines of the project's own text, never the data's.


class _Flow(dict):
    """A mapping written on one line (a column's spec, a gate), as a person would write it."""


class _Dumper(yaml.SafeDumper):
    """Block mappings, with every list and ``_Flow`` mapping on one line."""


_Dumper.add_representer(_Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
_Dumper.add_representer(list, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def _yaml(mapping: dict[str, Any]) -> str:
    """``mapping`` as YAML; no line folded (a long name stays on its line)."""
    return yaml.dump(mapping, Dumper=_Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=math.inf)


def _document(*parts: tuple[str, dict[str, Any]]) -> str:
    """Top-level mappings, each after its comment: block mappings at column 0 with distinct keys concatenate into one."""
    lines = []
    for comment, mapping in parts:
        lines += [f"# {line}" for line in comment.splitlines()]
        lines.append(_yaml(mapping).rstrip("\n"))
    return "\n".join(lines) + "\n"


def _spec(spec: ColumnSpec) -> _Flow:
    return _Flow(spec.model_dump(exclude_defaults=True))


def render_data_yaml(draft: Draft) -> str:
    parts: list[tuple[str, dict[str, Any]]] = [
        (
            f"The data contract, drafted by `mlops init-data` from {draft.rows} rows: review it, then commit it.\n"
            "`mlops validate` checks the data against `columns`; after editing `columns` or the data, run `mlops manifest`.\n"
            "Why each column got its spec: the lines `mlops init-data` printed (names and values from the data appear\n"
            "only as YAML values here, never in comments).\n"
            "Local path or any fsspec-style URI, pinned by the manifest.",
            {"path": draft.location, "manifest": "data/manifest.json"},
        ),
        ("binary_classification or regression.", {"task": draft.task, "target": draft.target}),
    ]
    if draft.positive_class is not None:
        parts.append(("The label counted as positive.", {"positive_class": draft.positive_class}))
    if draft.id_column is not None:
        parts.append(("A distinct value on every row: never a feature.", {"id_column": draft.id_column}))
    if draft.timestamp is not None:
        parts.append(("The holdout is the most recent rows by this column.", {"timestamp_column": draft.timestamp}))
    if draft.group is not None:
        parts.append(("Rows of one value (one entity) stay on one side of the split; never a feature.", {"group_column": draft.group}))
    if draft.sensitive is not None:
        parts.append(("Used by the fairness report and gates, never as a feature.", {"sensitive_attribute": draft.sensitive}))
    split = _split(draft.task, "the target", None, "group_column" if draft.group else None)[0]  # no data in comments
    timing = "" if draft.timestamp is not None else f"No timestamp_column: the holdout is {split}.\n"
    parts += [
        (f"{timing}Cell texts read as missing.", {"missing_values": ["", *draft.schema.missing_tokens]}),
        (
            "The features; the other columns under `columns` are the target, roles, ids, dates, free text or constants.",
            {"features": {"numeric": draft.numeric, "categorical": draft.categorical}},
        ),
        ("Share of rows both the challenger and the champion are scored on.", {"holdout_fraction": HOLDOUT_FRACTION}),
        ("", {"columns": {name: _spec(spec) for name, spec in draft.columns.items()}}),
    ]
    return _document(*parts)


def render_gates_yaml(draft: Draft) -> str:
    gates = GATES[draft.task]
    primary = next(iter(gates["beat_baseline"]))
    baseline = "the prior/majority classifier" if draft.task == "binary_classification" else "predicting the training mean"
    fairness = (
        "Largest allowed gap of a group metric between groups of the sensitive attribute."
        if draft.sensitive is not None
        else "No sensitive attribute: add one to data.yaml to gate fairness gaps."
    )
    return _document(
        (
            f"Gates decide whether a challenger may replace the champion; drafted by `mlops init-data` for {draft.task}.\n"
            "A failed gate fails the pull request. Margins are in each metric's own units.\n"
            f"The challenger must beat a trivial baseline ({baseline}) on the same holdout by this margin.",
            {"beat_baseline": _Flow(gates["beat_baseline"])},
        ),
        (
            "Absolute bounds on the holdout: none until you know what this data allows (e.g. minimums: {" + primary + ": 0.7}).",
            {"minimums": {}, "maximums": {}},
        ),
        ("How much worse than the champion the challenger may be.", {"max_regression": _Flow(gates["max_regression"])}),
        (fairness, {"max_fairness_gap": _Flow(gates["max_fairness_gap"] if draft.sensitive is not None else {})}),
    )
