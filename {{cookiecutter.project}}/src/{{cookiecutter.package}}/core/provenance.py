"""Whether a release attests its model archive, and what a champion's attestations must show.

The policy (``confs/release.yaml``) meets what GitHub offers: artifact attestations are stored for
public repositories on every current plan, for private and internal ones only on GitHub Enterprise
Cloud, and not at all on GitHub Enterprise Server (no attestation API). Pure logic: the caller asks
GitHub for the repository's visibility and kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError


@dataclass(frozen=True)
class AttestationDecision:
    """Whether this release attests its archive, and why (logged, kept in the release plan)."""

    attest: bool
    reason: str


def attestation_decision(policy: str, *, visibility: str, enterprise_server: bool, private_attestations: bool) -> AttestationDecision:
    """Apply the policy (auto, required, off) to the repository GitHub describes.

    ``required`` on GitHub Enterprise Server is a ``ConfigError``: no attestation could ever be made there.
    """
    if policy == "off":
        return AttestationDecision(False, "attestation: off in confs/release.yaml")
    if enterprise_server:
        if policy == "required":
            raise ConfigError(
                "confs/release.yaml: attestation: required, but GitHub Enterprise Server has no artifact attestations; "
                "set attestation: auto or off"
            )
        return AttestationDecision(False, "GitHub Enterprise Server has no artifact attestations (attestation: auto)")
    if visibility == "public":
        return AttestationDecision(True, f"public repository (attestation: {policy})")
    if private_attestations:
        return AttestationDecision(True, f"{visibility} repository on a plan that stores its attestations (private_attestations: true)")
    if policy == "required":
        # Attest anyway: GitHub refuses it unless the plan is Enterprise Cloud, and the release stops before publishing.
        return AttestationDecision(
            True,
            f"{visibility} repository (attestation: required; GitHub stores it only on Enterprise Cloud: "
            "set private_attestations: true there, or expect the attest step to fail)",
        )
    return AttestationDecision(
        False,
        f"{visibility} repository: GitHub Free, Pro and Team store attestations for public repositories only "
        "(on Enterprise Cloud set private_attestations: true in confs/release.yaml)",
    )
