"""The data manifest: which files the project's data is, pinned by content."""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict


class DataFile(BaseModel):
    """One pinned file: where it is, what its bytes hash to, its rows and schema."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    path: str
    sha256: str
    rows: int
    schema_hash: str


class Manifest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    files: list[DataFile]

    def entry(self, path: str) -> DataFile | None:
        return next((file for file in self.files if file.path == path), None)

    @property
    def digest(self) -> str:
        """One hash for the whole data snapshot, logged with every run."""
        return hashlib.sha256("".join(f"{f.path}:{f.sha256}" for f in self.files).encode()).hexdigest()


def compare(pinned: DataFile, *, sha256: str, rows: int, schema_hash: str) -> list[str]:
    """What differs between the pinned entry and the file as found (empty when they agree)."""
    problems = []
    if pinned.sha256 != sha256:
        problems.append(f"sha256 is {sha256[:12]}…, manifest pins {pinned.sha256[:12]}…")
    if pinned.rows != rows:
        problems.append(f"{rows} rows, manifest pins {pinned.rows}")
    if pinned.schema_hash != schema_hash:
        problems.append("the declared columns changed since the manifest was written")
    return problems
