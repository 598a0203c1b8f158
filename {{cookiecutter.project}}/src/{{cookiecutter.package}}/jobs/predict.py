"""``mlops predict``: batch scoring of a CSV or Parquet file (a path or an fsspec URI), chunk by chunk.

Each chunk is read as ``io.datasets.read_table`` reads a table (text cells), checked and typed by the data
contract's scoring schema (``core.schemas.scoring_schema``: the features and the id, as ``mlops validate`` checks
them), and scored by ``steps.predict``, the one prediction function evaluation and the service use. Rows that break
the contract are written with their reasons to a side file, never dropped unseen; a table that lacks a column the
model needs is refused whole. Memory is bounded by the chunk size; the outputs appear whole or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from ..errors import CheckFailed, InputError
from ..io import datasets, model_files
from ..io.artifacts import read_json
from ..io.predictions import PREDICTION_COLUMN, REASON_COLUMN, ROW_COLUMN, PredictionFiles, check_output
from . import steps
from .release_model import MODEL_SUBDIR, RECORD_FILE

if TYPE_CHECKING:
    import pandas as pd

logger = logging.getLogger(__name__)

DEFAULT_MODEL_DIR = Path("outputs") / "champion"
# Rows per chunk: large enough that pandas, pandera and scikit-learn work on whole columns (their per-call
# overhead is milliseconds), small enough that a chunk's text cells stay within a few hundred MB.
DEFAULT_CHUNK_ROWS = 200_000


@dataclass(frozen=True)
class Scored:
    """What one run did: rows scored, rows rejected, where each went, and which model scored them."""

    scored: int
    rejected: int
    output: str
    rejected_output: str
    model: str

    def line(self) -> str:
        return f"scored {self.scored} row(s) with {self.model} → {self.output}; {self.rejected} row(s) rejected → {self.rejected_output}"


def load_model_folder(settings: Settings, folder: Path) -> tuple[Any, str]:
    """The model of a model folder (``champion.json`` beside ``model/``, or a bare MLflow model folder) and its name."""
    folder = settings.path(str(folder))
    record = folder / RECORD_FILE
    model_dir = folder / MODEL_SUBDIR if (folder / MODEL_SUBDIR).is_dir() else folder
    if not (model_dir / model_files.MODEL_FILE).is_file():
        raise InputError(
            f"{folder}: no model to score with (expected champion.json beside model/, as `mlops champion` writes it); "
            "run `mlops champion`, or pass --release TAG or --model-dir DIR"
        )
    name = (read_json(record, produced_by="champion").get("tag") or str(folder)) if record.is_file() else str(model_dir)
    return model_files.load_model(model_dir), name


def run(
    settings: Settings,
    source: str,
    output: str,
    *,
    model_dir: Path | None = None,
    release: str | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    progress: Callable[[int], None] | None = None,
) -> Scored:
    """Score ``source`` into ``output`` (and ``<output>.rejected.csv``); exit 1 when no row could be scored."""
    check_output(output)
    if chunk_rows < 1:
        raise InputError(f"--chunk-rows {chunk_rows}: expected a positive number of rows")
    if _same(source, output):
        raise InputError(f"{output}: the output would overwrite the input; expected another path")
    if release and model_dir:
        raise InputError(f"--release {release} and --model-dir {model_dir}: two models named; expected one of them")
    if release:
        from .release_model import fetch_release

        model_dir = fetch_release(settings, release)
    model, name = load_model_folder(settings, model_dir or DEFAULT_MODEL_DIR)
    data = settings.data
    keep = list(dict.fromkeys([*([data.id_column] if data.id_column else []), *data.features.all]))
    scored = rejected = 0
    columns: list[str] = list(keep)
    with PredictionFiles(output) as files:
        for chunk in _read_ahead(datasets.read_table_chunks(source, data.missing_values, rows=chunk_rows, columns=keep)):
            columns = list(chunk.columns)
            typed, bad = _checked(settings, source, chunk, keep)
            if len(typed):
                files.add(_predictions(settings, typed, steps.predict(model, typed[data.features.all])), bad)
            else:
                files.add(typed, bad)
            scored, rejected = scored + len(typed), rejected + len(bad)
            if progress is not None:
                progress(len(chunk))
        if not scored and not rejected:
            raise InputError(f"{source}: data file has a header but no rows")
        files.publish(_predictions(settings, _empty(keep), _no_values()), _rejected_frame(columns))
    result = Scored(scored, rejected, output, files.rejected, name)
    if rejected:
        logger.warning("%d row(s) break the data contract: written with their reasons to %s", rejected, files.rejected)
    if not scored:
        raise CheckFailed(f"no row of {source} meets the data contract: {rejected} row(s) rejected → {files.rejected}")
    return result


def _read_ahead(chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """``chunks``, the next one read by a thread while this one is checked and scored (at most two in memory).

    Parsing and the model's prediction both spend most of their time outside the GIL, so on two cores
    reading overlaps scoring. An error while reading is raised here, at the chunk it stopped at.
    """
    from concurrent.futures import ThreadPoolExecutor

    done = object()
    try:
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="predict-read") as reader:
            ahead = reader.submit(next, chunks, done)
            while (chunk := ahead.result()) is not done:
                ahead = reader.submit(next, chunks, done)
                yield chunk
    finally:
        chunks.close()  # the reader is idle here: close the file now, not when the generator is collected


def _same(source: str, output: str) -> bool:
    if datasets.is_uri(source) or datasets.is_uri(output):
        return source == output
    return Path(source.removeprefix("file://")).resolve() == Path(output.removeprefix("file://")).resolve()


def _checked(settings: Settings, source: str, chunk: pd.DataFrame, keep: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The chunk's rows that meet the contract, typed; and the others with their reasons (``row``, ``reason``, cells)."""
    import pandera.pandas as pa

    from ..core.schemas import failure_reasons, listed, row_reasons, scoring_schema, summarize_failures

    absent = [name for name in keep if name not in chunk.columns]
    if absent:
        raise InputError(
            f"{source}: lacks column(s) {listed(absent)} (expected the model's features"
            f"{' and the id column' if settings.data.id_column else ''} as named in confs/data.yaml)"
        )
    schema = scoring_schema(settings.data.columns, keep)
    reasons: list[pd.Series] = []
    good = chunk
    # pandera cannot run a column's checks on text it failed to coerce: the rows it could judge are set aside
    # and the rest checked again, until every row left passes. Each round sets aside at least one row, and
    # only a column that failed to coerce defers checks, so it ends in a few rounds.
    while len(good):
        try:
            typed = schema.validate(good, lazy=True)
            break
        except pa.errors.SchemaErrors as error:
            found = row_reasons(error.failure_cases)
            if found.empty:  # a table-level failure: nothing row by row to set aside
                raise InputError(f"{source}: {failure_reasons(summarize_failures(error.failure_cases))[0]}") from error
            reasons.append(found)
            good = good.drop(index=found.index)
    else:
        typed = good[keep]
    if not reasons:
        return typed, chunk.iloc[:0]
    import pandas as pd

    why = pd.concat(reasons).sort_index()
    bad = chunk.loc[why.index]
    bad.insert(0, REASON_COLUMN, why.to_numpy())
    bad.insert(0, ROW_COLUMN, why.index.to_numpy() + 1)
    return typed, bad


def _predictions(settings: Settings, typed: pd.DataFrame, values: Any) -> pd.DataFrame:
    import pandas as pd

    key = settings.data.id_column
    first = typed[key].to_numpy() if key else typed.index.to_numpy() + 1
    return pd.DataFrame({key or ROW_COLUMN: first, PREDICTION_COLUMN: values}, index=typed.index)


def _empty(keep: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame({name: pd.Series(dtype=object) for name in keep})


def _no_values() -> Any:
    import numpy as np

    return np.array([], dtype="float64")


def _rejected_frame(columns: list[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=[ROW_COLUMN, REASON_COLUMN, *columns])
