"""The attestation policy: auto, required and off against what GitHub offers each kind of repository."""

from __future__ import annotations

import pytest

from {{ cookiecutter.package }}.core.provenance import attestation_decision
from {{ cookiecutter.package }}.errors import ConfigError


@pytest.mark.parametrize(
    ("policy", "visibility", "enterprise_server", "private_attestations", "attest"),
    [
        ("auto", "public", False, False, True),
        ("auto", "private", False, False, False),  # GitHub Free, Pro, Team: public repositories only
        ("auto", "internal", False, False, False),
        ("auto", "private", False, True, True),  # Enterprise Cloud, as confs/release.yaml says
        ("auto", "public", True, False, False),  # Enterprise Server: no attestation API
        ("required", "public", False, False, True),
        ("required", "private", False, False, True),  # attempted: GitHub refuses it, the release stops unpublished
        ("required", "private", False, True, True),
        ("off", "public", False, False, False),
        ("off", "private", False, True, False),
        ("off", "public", True, False, False),
    ],
)
def test_each_policy_attests_where_it_should(
    policy: str, visibility: str, enterprise_server: bool, private_attestations: bool, attest: bool
):
    decision = attestation_decision(
        policy, visibility=visibility, enterprise_server=enterprise_server, private_attestations=private_attestations
    )
    assert decision.attest is attest
    assert decision.reason  # said in the log and the plan, whichever way it goes


def test_a_skipped_attestation_says_why_and_how_to_change_it():
    decision = attestation_decision("auto", visibility="private", enterprise_server=False, private_attestations=False)
    assert "public repositories only" in decision.reason and "private_attestations: true" in decision.reason


def test_required_on_enterprise_server_is_a_config_error():
    with pytest.raises(ConfigError, match="attestation: required, but GitHub Enterprise Server has no artifact attestations"):
        attestation_decision("required", visibility="private", enterprise_server=True, private_attestations=False)
