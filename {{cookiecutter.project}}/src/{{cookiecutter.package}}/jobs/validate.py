"""``mlops validate``: schema checks on the pinned data and the manifest hash check."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import pandas as pd
import pandera.pandas as pa

from ..config import Settings
from ..core import manifest as manifest_rules
from ..core.report import validation_section
from ..core.schemas import CheckFailure, build_schema, schema_hash, summarize_failures
from ..errors import CheckFailed
from ..io import datasets
from ..io.artifacts import to_json, write_all
from ..jobs import VALIDATION_JSON, VALIDATION_MD

logger = logging.getLogger(__name__)


@dataclass
class DataCheck:
    """The data as read, the typed frame when it passed, and everything that failed."""

    raw: pd.DataFrame
    frame: pd.DataFrame | None
    failures: list[CheckFailure] = field(default_factory=list)
    manifest_problems: list[str] = field(default_factory=list)
    manifest_digest: str = ""

    @property
    def passed(self) -> bool:
        return self.frame is not None and not self.failures and not self.manifest_problems


def check_data(settings: Settings) -> DataCheck:
    """Read the configured data, compare it with its manifest entry, validate it against the schema."""
    location = settings.data.path
    source = location if "://" in location else settings.path(location)
    manifest = datasets.read_manifest(settings.path(settings.data.manifest))
    raw = datasets.read_table(source)
    pinned = manifest.entry(location)
    problems = (
        manifest_rules.compare(pinned, sha256=datasets.sha256_of(source), rows=len(raw), schema_hash=schema_hash(settings.data.columns))
        if pinned
        else [f"{location} is not pinned in {settings.data.manifest}; run `mlops manifest`"]
    )
    try:
        frame = build_schema(settings.data.columns).validate(raw, lazy=True)
        failures: list[CheckFailure] = []
    except pa.errors.SchemaErrors as error:
        frame, failures = None, summarize_failures(error.failure_cases)
    return DataCheck(raw=raw, frame=frame, failures=failures, manifest_problems=problems, manifest_digest=manifest.digest)


def run(settings: Settings) -> dict:
    """Write the validation report (md + json); raise ``CheckFailed`` when the data fails."""
    check = check_data(settings)
    result = {
        "dataset": settings.data.path,
        "rows": len(check.raw),
        "columns": len(check.raw.columns),
        "passed": check.passed,
        "manifest": {"path": settings.data.manifest, "problems": check.manifest_problems},
        "failures": [vars(failure) for failure in check.failures],
    }
    write_all({settings.path(str(VALIDATION_JSON)): to_json(result), settings.path(str(VALIDATION_MD)): validation_section(result) + "\n"})
    if not check.passed:
        reasons = [f"manifest: {problem}" for problem in check.manifest_problems] + [failure.describe() for failure in check.failures]
        raise CheckFailed(f"data failed validation: {'; '.join(reasons)} (report: {VALIDATION_MD})")
    logger.info("data passed validation: %d rows, %d columns", len(check.raw), len(check.raw.columns))
    return result
