import pytest

from {{ cookiecutter.package }}.core.versioning import Fingerprint, model_digest, next_version

BASE = Fingerprint(schema_hash="s1", data_digest="d1", model_digest="m1")


def test_the_first_release_is_1_0_0():
    assert next_version(None, None, BASE) == ("v1.0.0", "first release")


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        pytest.param(Fingerprint("s2", "d1", "m1"), "v2.0.0", id="schema-change-is-major"),
        pytest.param(Fingerprint("s2", "d2", "m2"), "v2.0.0", id="schema-wins-over-data"),
        pytest.param(Fingerprint("s1", "d2", "m1"), "v1.5.0", id="data-change-is-minor"),
        pytest.param(Fingerprint("s1", "d1", "m2"), "v1.5.0", id="model-change-is-minor"),
        pytest.param(Fingerprint("s1", "d1", "m1"), "v1.4.3", id="nothing-model-related-is-patch"),
    ],
)
def test_the_bump_follows_what_changed(current, expected):
    version, reason = next_version("v1.4.2", BASE, current)
    assert version == expected
    assert reason.split(":")[0] in {"major", "minor", "patch"}


@pytest.mark.parametrize(
    ("previous_tag", "previous", "expected"),
    [
        pytest.param(None, None, ("v1.0.0", "first release"), id="first"),
        pytest.param("v1.4.2", None, ("v1.5.0", "minor: the previous release records no fingerprint"), id="no-fingerprint"),
        pytest.param("v1.4.2", Fingerprint("s0", "d1", "m1"), ("v2.0.0", "major: the input schema changed"), id="major"),
        pytest.param("v1.4.2", Fingerprint("s1", "d0", "m1"), ("v1.5.0", "minor: data changed"), id="minor-data"),
        pytest.param("v1.4.2", Fingerprint("s1", "d1", "m0"), ("v1.5.0", "minor: model config changed"), id="minor-model-config"),
        pytest.param("v1.4.2", Fingerprint("s1", "d0", "m0"), ("v1.5.0", "minor: data and model config changed"), id="minor-both"),
        pytest.param("v1.4.2", Fingerprint("s1", "d1", "m1"), ("v1.4.3", "patch: same schema, data and model config"), id="patch"),
    ],
)
def test_each_bump_says_why(previous_tag, previous, expected):
    assert next_version(previous_tag, previous, BASE) == expected


def test_a_previous_release_without_fingerprint_bumps_minor():
    assert next_version("v3.1.4", None, BASE)[0] == "v3.2.0"


def test_a_non_semver_tag_is_refused():
    with pytest.raises(ValueError, match="not a semantic version"):
        next_version("latest", BASE, BASE)


def test_model_digest_ignores_key_order_but_not_values():
    one = model_digest({"estimator": "linear", "params": {"C": 1.0}}, {"numeric": ["a"]}, "y")
    same = model_digest({"params": {"C": 1.0}, "estimator": "linear"}, {"numeric": ["a"]}, "y")
    other = model_digest({"estimator": "linear", "params": {"C": 2.0}}, {"numeric": ["a"]}, "y")
    assert one == same != other
