"""The files `mlops predict` writes: predictions and the rows it could not score, each whole or not at all.

Predictions: one row per scored input row, the input's id column (``id_column`` in ``confs/data.yaml``; without
one, ``row``: the data row's number in the input, from 1) and ``prediction`` (the positive-class probability for a
classifier, the value for a regressor). CSV, or Parquet by the suffix. Rejected rows go beside them, always as CSV
(``<name>.rejected.csv``): ``row``, ``reason`` and the cells that were checked (the id and the features) as read,
so they can be fixed and scored again.

Both are written chunk by chunk to local staging files, then moved into place (a local path) or uploaded in one
piece (any fsspec URI): a failure part-way leaves the destination as it was, never half a file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InputError
from .datasets import PARQUET_SUFFIXES, is_uri, storage_errors

if TYPE_CHECKING:
    import pandas as pd

PREDICTION_COLUMN = "prediction"
ROW_COLUMN = "row"
REASON_COLUMN = "reason"
OUTPUT_SUFFIXES = (".csv", *PARQUET_SUFFIXES)


def rejected_location(output: str) -> str:
    """Where the rows that failed the contract go: beside the predictions, ``<name>.rejected.csv``."""
    stem = output[: -len(next(suffix for suffix in OUTPUT_SUFFIXES if output.lower().endswith(suffix)))]
    return f"{stem}.rejected.csv"


def check_output(output: str) -> None:
    if not output.lower().endswith(OUTPUT_SUFFIXES):
        raise InputError(f"{output}: expected an output file ending in .csv, .parquet or .pq (a local path or an fsspec URI)")


class _Staged:
    """One output file: written to a local staging file chunk by chunk, then published whole."""

    def __init__(self, location: str, scratch: Path, *, parquet: bool) -> None:
        self.location = location
        self.parquet = parquet
        self.local = None if is_uri(location) else Path(location.removeprefix("file://"))
        folder = self.local.parent if self.local is not None else scratch
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=f".{Path(location).name}.", suffix=".tmp")
        os.close(handle)
        self.staging = Path(name)
        umask = os.umask(0)
        os.umask(umask)
        self.staging.chmod(0o666 & ~umask)  # mkstemp makes it private; the published file gets the usual mode
        self._writer = None
        self._csv_started = False

    def write(self, frame: pd.DataFrame) -> None:
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            table = pa.Table.from_pandas(frame, preserve_index=False)
            if self._writer is None:
                self._writer = pq.ParquetWriter(self.staging, table.schema)
            self._writer.write_table(table.cast(self._writer.schema))
            return
        # pandas writes floats by their shortest round-trip text: read back, they are the same bits.
        frame.to_csv(self.staging, mode="a" if self._csv_started else "w", header=not self._csv_started, index=False)
        self._csv_started = True

    def finish(self, empty: pd.DataFrame) -> None:
        """Close the staging file; with nothing written yet, write ``empty`` (the header) so the file exists."""
        if not self._csv_started and self._writer is None:
            self.write(empty)
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def publish(self) -> None:
        if self.local is not None:
            os.replace(self.staging, self.local)
            return
        import fsspec

        with storage_errors(self.location):
            filesystem, path = fsspec.core.url_to_fs(self.location)
            # One upload of the finished file: object stores make it visible whole or not at all.
            filesystem.put_file(str(self.staging), path)
        self.staging.unlink(missing_ok=True)

    def discard(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self.staging.unlink(missing_ok=True)


class PredictionFiles:
    """The predictions and the rejected rows of one run; ``publish`` moves both into place, else neither appears."""

    def __init__(self, output: str) -> None:
        check_output(output)
        self.output = output
        self.rejected = rejected_location(output)
        self._scratch = Path(tempfile.mkdtemp(prefix="mlops-predict-"))
        parquet = output.lower().endswith(PARQUET_SUFFIXES)
        try:
            with storage_errors(output):
                self._predictions = _Staged(output, self._scratch, parquet=parquet)
                self._rejects = _Staged(self.rejected, self._scratch, parquet=False)
        except BaseException:
            shutil.rmtree(self._scratch, ignore_errors=True)
            raise

    def add(self, predictions: pd.DataFrame, rejected: pd.DataFrame) -> None:
        if len(predictions):
            self._predictions.write(predictions)
        if len(rejected):
            self._rejects.write(rejected)

    def publish(self, empty_predictions: pd.DataFrame, empty_rejected: pd.DataFrame) -> None:
        self._predictions.finish(empty_predictions)
        self._rejects.finish(empty_rejected)
        self._rejects.publish()  # the rejects first: predictions never appear without the account of what they lack
        self._predictions.publish()

    def discard(self) -> None:
        self._predictions.discard()
        self._rejects.discard()

    def __enter__(self) -> PredictionFiles:
        return self

    def __exit__(self, *_: object) -> None:
        self.discard()  # after publish there is nothing left to discard
        shutil.rmtree(self._scratch, ignore_errors=True)
