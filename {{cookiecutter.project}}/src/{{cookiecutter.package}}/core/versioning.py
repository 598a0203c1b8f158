"""Which semver a release gets, from what changed since the previous one.

Rules (documented in the README):
- major: the input schema changed (the declared columns: names, order or types), so
  callers of the model must change too;
- minor: the model changed (training data, features, estimator or its parameters);
- patch: anything else that reached main (code, reports, workflows).
The first release is v1.0.0: it is the first model in production.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

SEMVER = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


@dataclass(frozen=True)
class Fingerprint:
    """What a model release is made of, reduced to hashes."""

    schema_hash: str
    data_digest: str
    model_digest: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(schema_hash=data["schema_hash"], data_digest=data["data_digest"], model_digest=data["model_digest"])


def model_digest(model_config: dict[str, Any], features: dict[str, Any], target: str) -> str:
    """Hash of everything in the config that changes the fitted model."""
    canonical = json.dumps({"model": model_config, "features": features, "target": target}, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def parse(tag: str) -> tuple[int, int, int]:
    match = SEMVER.fullmatch(tag)
    if match is None:
        raise ValueError(f"tag {tag!r} is not a semantic version (expected vMAJOR.MINOR.PATCH)")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def semver_or_none(tag: str) -> tuple[int, int, int] | None:
    """The version a tag names, or None for a tag that is not semver (``latest``, ``v1.2``)."""
    match = SEMVER.fullmatch(tag)
    return (int(match.group(1)), int(match.group(2)), int(match.group(3))) if match else None


def next_version(previous_tag: str | None, previous: Fingerprint | None, current: Fingerprint) -> tuple[str, str]:
    """The next tag and the reason for the bump."""
    if previous_tag is None:
        return "v1.0.0", "first release"
    major, minor, patch = parse(previous_tag)
    if previous is None:
        return f"v{major}.{minor + 1}.0", "minor: the previous release records no fingerprint"
    if previous.schema_hash != current.schema_hash:
        return f"v{major + 1}.0.0", "major: the input schema changed"
    if previous.data_digest != current.data_digest or previous.model_digest != current.model_digest:
        changed = [
            name
            for name, before, after in (
                ("data", previous.data_digest, current.data_digest),
                ("model config", previous.model_digest, current.model_digest),
            )
            if before != after
        ]
        return f"v{major}.{minor + 1}.0", f"minor: {' and '.join(changed)} changed"
    return f"v{major}.{minor}.{patch + 1}", "patch: same schema, data and model config"
