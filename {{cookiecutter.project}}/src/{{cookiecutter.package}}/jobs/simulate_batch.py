"""``mlops simulate-batch``: a production batch sampled from the project's own data, with named columns shifted.

For trying the monitoring leg on a laptop: write it under ``data/current/`` and run `mlops drift`.
"""

from __future__ import annotations

import logging
from io import BytesIO
from pathlib import Path

from ..config import Settings
from ..core import simulation
from ..errors import InputError
from ..io import datasets
from ..io.artifacts import write_all

logger = logging.getLogger(__name__)
MAX_ROWS = 10_000_000


def run(settings: Settings, shifts: list[str], *, rows: int, seed: int, output: Path) -> str:
    """Write the batch to ``output`` (CSV, or Parquet by its suffix); the line that says what was written."""
    if not 1 <= rows <= MAX_ROWS:
        raise InputError(f"--rows {rows}: expected 1 to {MAX_ROWS:,}")
    data = settings.data
    parsed = [simulation.parse_shift(text) for text in shifts]
    simulation.check_shifts(parsed, data.columns, "confs/data.yaml")
    table = datasets.read_table(settings.path(data.path), data.missing_values)
    absent = [shift.column for shift in parsed if shift.column not in table.columns]
    if absent:
        raise InputError(f"--shift {absent[0]}: declared in confs/data.yaml but not a column of {data.path}")
    batch = simulation.simulate(
        table, parsed, data.columns, rows=rows, seed=seed, id_column=data.id_column, timestamp_column=data.timestamp_column
    )
    destination = output if output.is_absolute() else settings.path(str(output))
    if destination.suffix.lower() == ".parquet":
        buffer = BytesIO()
        batch.to_parquet(buffer, index=False)
        content: bytes = buffer.getvalue()
    else:
        content = batch.to_csv(index=False).encode()
    write_all({destination: content})
    what = ", ".join(shifts) if shifts else "no shift"
    line = f"wrote {rows} rows sampled from {data.path} (seed {seed}; {what}) to {output}"
    logger.debug("%s", line)
    return line
