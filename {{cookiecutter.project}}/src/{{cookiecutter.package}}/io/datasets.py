"""Reading data files and the manifest that pins them.

pandas is imported by the functions that read or write tables: hashing a file or reading the
manifest does not need it.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from ..core.manifest import Manifest
from ..errors import InputError, MlopsError

if TYPE_CHECKING:
    import pandas as pd


def is_uri(location: str | Path) -> bool:
    """Whether ``location`` is read through fsspec (s3://, gs://, https://, ...) rather than as a local path."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


@contextmanager
def storage_errors(location: str | Path) -> Iterator[None]:
    """Failures of the storage behind ``location`` as one-line input errors that name it.

    A missing file, an unknown protocol, a storage package not installed, a host that does not answer,
    a folder where a file was expected: the data is not there to read, which is bad input, not a bug.
    fsspec and its backends (aiohttp, s3fs, ...) raise errors of their own kinds, so for a URI every
    error raised while reaching the storage is taken as the storage's.
    """
    try:
        yield
    except MlopsError:
        raise
    except FileNotFoundError as error:
        raise InputError(f"{location}: data file not found") from error
    except ImportError as error:
        raise InputError(f"{location}: {_first_line(error)} (add that package to the project: `uv add <package>`)") from error
    except ValueError as error:
        if str(error).startswith("Protocol not known"):
            raise InputError(
                f"{location}: unknown protocol {str(location).split('://')[0]!r} "
                "(expected a local path or an fsspec URI such as s3://, gs:// or https://)"
            ) from error
        raise InputError(f"{location}: could not be read ({type(error).__name__}: {_first_line(error)})") from error
    except OSError as error:  # a folder, no permission, a refused connection, a timeout
        raise InputError(f"{location}: could not be read ({type(error).__name__}: {_first_line(error)})") from error
    except Exception as error:
        if not is_uri(location):
            raise
        raise InputError(f"{location}: could not be read ({type(error).__name__}: {_first_line(error)})") from error


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [""])[0][:200]


def _open(location: str | Path, mode: str = "rb"):
    """Local paths directly; any other URI (s3://, gs://, https://) through fsspec. Call inside ``storage_errors``."""
    text = str(location)
    if is_uri(text):
        import fsspec

        return fsspec.open(text, mode).open()
    return open(text.removeprefix("file://"), mode)


def sha256_of(location: str | Path) -> str:
    digest = hashlib.sha256()
    with storage_errors(location), _open(location) as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl",)


def read_table(location: str | Path, missing_values: Sequence[str] = ("",)) -> pd.DataFrame:
    """Every cell as text, only ``missing_values`` read as missing: the schema decides the types.

    So a stray ``n/a`` in a numeric column is a reported bad value, not silently a null, unless
    ``confs/data.yaml`` declares it under ``missing_values``. CSV, or Parquet or JSON lines (the
    service's prediction log) by the suffix.
    """
    import pandas as pd

    if str(location).lower().endswith(PARQUET_SUFFIXES):
        frame = _read_parquet(location, missing_values)
    elif str(location).lower().endswith(JSONL_SUFFIXES):
        frame = _read_jsonl(location, missing_values)
    else:
        with storage_errors(location), _open(location) as stream:
            try:
                frame = pd.read_csv(stream, dtype=str, keep_default_na=False, na_values=list(missing_values), skipinitialspace=True)
            except pd.errors.EmptyDataError as error:
                raise InputError(f"{location}: data file is empty (expected a CSV with a header row)") from error
            except (pd.errors.ParserError, UnicodeDecodeError) as error:
                raise InputError(f"{location}: could not parse as CSV ({_first_line(error)})") from error
        # pandas takes the first column as the index when the rows hold more fields than the header: every
        # column would shift by one. (A row with fewer fields reads as empty trailing cells, which the
        # contract then judges; telling those apart would mean parsing every file twice.)
        if not isinstance(frame.index, pd.RangeIndex):
            raise InputError(
                f"{location}: could not parse as CSV (the rows have more fields than the header's {len(frame.columns)} names; "
                "a delimiter at the end of every line?)"
            )
    if frame.empty:
        raise InputError(f"{location}: data file has a header but no rows")
    return frame


def _read_parquet(location: str | Path, missing_values: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    try:
        import pyarrow  # noqa: F401  (pandas needs it for Parquet; it comes with mlflow)
    except ImportError as error:
        raise InputError(f"{location}: reading Parquet needs pyarrow: `uv add pyarrow`, or export the table as CSV") from error
    from pyarrow import ArrowException

    with storage_errors(location), _open(location) as stream:
        content = stream.read()
    try:
        frame = pd.read_parquet(io.BytesIO(content))
    except (ArrowException, OSError, ValueError, TypeError, NotImplementedError) as error:  # what pyarrow raises on a bad file
        raise InputError(f"{location}: could not read as Parquet ({type(error).__name__}: {_first_line(error)})") from error
    return _as_text(frame, missing_values)


def _read_jsonl(location: str | Path, missing_values: Sequence[str]) -> pd.DataFrame:
    """One JSON object per line (the service's prediction log), every value as its text: no type guessed."""
    import pandas as pd

    with storage_errors(location), _open(location) as stream:
        content = stream.read()
    records = []
    for number, line in enumerate(content.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as error:
            raise InputError(f"{location}: line {number} is not JSON ({_first_line(error)})") from error
        if not isinstance(record, dict):
            raise InputError(f"{location}: line {number} is not a JSON object (expected one row per line)")
        records.append({str(key): _cell_text(value, missing_values) for key, value in record.items()})
    if not records:
        raise InputError(f"{location}: data file has no rows")
    frame = pd.DataFrame.from_records(records)
    return frame.astype(object).where(frame.notna(), None)


def _cell_text(value: object, missing_values: Sequence[str]) -> str | None:
    # As a CSV export writes it: 42, 70.5, true as True (pandas' own text of a bool), nested values as JSON.
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value) if isinstance(value, dict | list) else str(value)
    return None if text in missing_values else text


def _as_text(frame: pd.DataFrame, missing_values: Sequence[str]) -> pd.DataFrame:
    """The same text a CSV export would hold, so that validation and inference see one representation."""
    import pandas as pd

    text = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            text[name] = column.dt.strftime("%Y-%m-%dT%H:%M:%S").where(column.notna())
        else:
            text[name] = column.astype("string").where(column.notna())
        text[name] = text[name].where(~text[name].isin(list(missing_values)))
    return text.astype(object).where(text.notna(), None)


def frames_can_be_stored() -> bool:
    """True when a typed frame can be written as Parquet (pyarrow installed; MLflow brings it)."""
    try:
        import pyarrow.parquet  # noqa: F401
    except ImportError:
        return False
    return True


def frame_to_parquet(frame: pd.DataFrame) -> bytes:
    """The frame as Parquet bytes: types, index and values round-trip, and nothing is pickled."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine="pyarrow", index=True)
    return buffer.getvalue()


def frame_from_parquet(data: bytes) -> pd.DataFrame:
    import pandas as pd

    return pd.read_parquet(io.BytesIO(data), engine="pyarrow")


def read_manifest(path: Path) -> Manifest:
    try:
        return Manifest.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError as error:
        raise InputError(f"{path}: data manifest not found; run `mlops manifest` to pin the data") from error
    except (json.JSONDecodeError, ValidationError) as error:
        raise InputError(f"{path}: not a valid data manifest ({str(error).splitlines()[0]})") from error


DATA_SUFFIXES = (".csv", *PARQUET_SUFFIXES, *JSONL_SUFFIXES)


def matching_files(pattern: str | Path) -> list[str]:
    """The CSV and Parquet files a glob matches, sorted: local paths directly, other URIs through fsspec."""
    text = str(pattern)
    if is_uri(text):
        import fsspec

        with storage_errors(text):
            filesystem, _, paths = fsspec.get_fs_token_paths(text)
            found = [filesystem.unstrip_protocol(path) for path in filesystem.glob(paths[0]) if filesystem.isfile(path)] if paths else []
    else:
        local = Path(text.removeprefix("file://"))
        anchor = Path(local.anchor) if local.is_absolute() else Path(".")
        relative = local.relative_to(local.anchor) if local.is_absolute() else local
        found = [str(path) for path in anchor.glob(str(relative)) if path.is_file()]
    return sorted(name for name in found if name.lower().endswith(DATA_SUFFIXES))


def read_tables(files: Sequence[str], missing_values: Sequence[str] = ("",)) -> pd.DataFrame:
    """Several files read as ``read_table`` reads one, stacked; columns absent from a file are empty there."""
    import pandas as pd

    frames = [read_table(file, missing_values) for file in files]
    frame = pd.concat(frames, ignore_index=True, sort=False) if len(frames) > 1 else frames[0]
    return frame.astype(object).where(frame.notna(), None)
