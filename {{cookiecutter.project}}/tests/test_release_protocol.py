"""The release protocol: checksum file, release record, reproducible packing and bounded unpacking."""

from __future__ import annotations

import gzip
import io
import re
import tarfile
from pathlib import Path

import pytest

from {{ cookiecutter.package }}.core.versioning import Fingerprint
from {{ cookiecutter.package }}.errors import InputError
from {{ cookiecutter.package }}.io import release_protocol as protocol

DIGEST = "ab" * 32


def tar_gz(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for info, content in members:
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return buffer.getvalue()


def file_member(name: str, content: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(content)
    return info, content


def test_checksum_file_round_trips():
    assert protocol.parse_checksum(protocol.checksum_text(DIGEST).encode(), where="release v1.0.0") == DIGEST


@pytest.mark.parametrize(
    "content",
    [b"", b"   \n", b"not-a-digest  model.tar.gz\n", f"{DIGEST}  other.tar.gz\n".encode(), f"{DIGEST}\n{DIGEST}\n".encode(), b"\xff\xfe"],
    ids=["empty", "blank", "not-hex", "other-file", "two-lines", "binary"],
)
def test_a_malformed_checksum_file_is_an_input_error_naming_the_asset(content: bytes):
    with pytest.raises(InputError, match=r"release v1\.0\.0: model\.tar\.gz\.sha256 is not one"):
        protocol.parse_checksum(content, where="release v1.0.0")


def test_release_record_round_trips_with_its_fingerprint():
    record = protocol.ReleaseRecord(
        version="v1.2.0",
        run_id="abc",
        model_sha256=DIGEST,
        fingerprint=Fingerprint(schema_hash="s", data_digest="d", model_digest="m"),
        metrics={"roc_auc": 0.8, "brier": float("nan")},
        released_by="octocat",
        reason="reviewed in https://github.com/acme/churn-model/pull/12",
    )
    parsed = protocol.ReleaseRecord.parse(record.to_bytes(), where="release v1.2.0")
    assert parsed.fingerprint == record.fingerprint
    assert parsed.metrics["roc_auc"] == 0.8 and parsed.released_by == "octocat"


@pytest.mark.parametrize(
    "content", [b"{", b"[]", b'{"version": "v1.0.0"}', b'{"version": "v1", "run_id": "r", "model_sha256": "x", "metrics": {}}']
)
def test_a_malformed_release_record_is_an_input_error_naming_the_asset(content: bytes):
    with pytest.raises(InputError, match=r"release v1\.0\.0: release\.json is not a valid release record"):
        protocol.ReleaseRecord.parse(content, where="release v1.0.0")


def test_packing_is_reproducible_and_unpacks_to_the_same_files(tmp_path: Path):
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "sub" / "model.skops").write_bytes(b"\x00" * 10)
    first = protocol.pack_model(model)
    (model / "MLmodel").touch()  # a new mtime must not change the archive
    assert protocol.pack_model(model) == first
    protocol.unpack_model(first, tmp_path / "out", where="release v1.0.0")
    assert (tmp_path / "out" / "MLmodel").read_text() == "flavors: {}\n"
    assert (tmp_path / "out" / "sub" / "model.skops").read_bytes() == b"\x00" * 10


def test_an_archive_with_too_many_members_is_refused_before_extracting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(protocol, "MAX_MEMBERS", 5)
    archive = tar_gz([file_member(f"f{index}", b"x") for index in range(6)])
    with pytest.raises(InputError, match="more than 5 members"):
        protocol.unpack_model(archive, tmp_path / "out", where="release v1.0.0")
    assert not (tmp_path / "out").exists() and list(tmp_path.iterdir()) == []


def test_an_archive_declaring_more_than_the_unpacked_bound_is_refused_from_its_headers(tmp_path: Path):
    # A header claiming 3 GiB followed by almost nothing: refused on the header, nothing is read or written.
    header = tarfile.TarInfo("model.skops")
    header.size = 3 * 1024**3
    archive = gzip.compress(header.tobuf(format=tarfile.PAX_FORMAT) + b"\x00" * 1024)
    with pytest.raises(InputError, match="unpacks to more than"):
        protocol.unpack_model(archive, tmp_path / "out", where="release v1.0.0")
    assert list(tmp_path.iterdir()) == []


def test_members_each_within_the_bound_but_over_it_together_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Three files of 4,000 bytes (4,096 with padding, 512 more for each header): each fits 10,000, together they do not.
    monkeypatch.setattr(protocol, "MAX_UNPACKED_BYTES", 10_000)
    archive = tar_gz([file_member(f"f{index}", b"x" * 4_000) for index in range(3)])
    with pytest.raises(InputError, match="unpacks to more than 10000 bytes"):
        protocol.unpack_model(archive, tmp_path / "out", where="release v1.0.0")
    assert list(tmp_path.iterdir()) == []
    protocol.unpack_model(tar_gz([file_member(f"f{index}", b"x" * 4_000) for index in range(2)]), tmp_path / "out", where="v1")
    assert sorted(path.name for path in (tmp_path / "out").iterdir()) == ["f0", "f1"]


def with_pax_comments(files: dict[str, bytes], padding: int) -> bytes:
    """A pax tar.gz whose members' headers each carry ``padding`` bytes of a record tar readers keep (a comment)."""
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb") as zipped, tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.pax_headers = {"comment": "z" * padding}
            tar.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def test_pax_headers_count_toward_the_unpacked_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    # Ten one-byte files whose pax headers hold 3,000 bytes each: their sizes sum to 10 bytes, the archive to 40 KB.
    monkeypatch.setattr(protocol, "MAX_UNPACKED_BYTES", 30_000)
    archive = with_pax_comments({f"f{index}": b"x" for index in range(10)}, 3_000)
    with pytest.raises(InputError, match="unpacks to more than 30000 bytes"):
        protocol.unpack_model(archive, tmp_path / "out", where="release v1.0.0")
    assert list(tmp_path.iterdir()) == []


def test_a_pax_header_larger_than_any_this_project_writes_is_refused_before_it_is_read(tmp_path: Path):
    # 16 MiB in one pax record, 16 KB compressed (the download bound alone would let 512 MiB of them through,
    # many GiB unpacked): refused without decompressing it into memory.
    archive = with_pax_comments({"model.skops": b"x"}, 16 * 1024**2)
    assert len(archive) < 64 * 1024
    with pytest.raises(InputError, match="has a member whose headers are larger than 4096 bytes"):
        protocol.unpack_model(archive, tmp_path / "out", where="release v1.0.0")


def test_a_sparse_member_is_refused(tmp_path: Path):
    # GNU pax sparse 1.0: one stored byte, declared (and, unpacked, written) as 256 MiB.
    data = b"1\n0\n1\n".ljust(tarfile.BLOCKSIZE, b"\0") + b"x"
    info = tarfile.TarInfo("model.skops")
    info.size = len(data)
    info.pax_headers = {
        "GNU.sparse.major": "1",
        "GNU.sparse.minor": "0",
        "GNU.sparse.name": "model.skops",
        "GNU.sparse.realsize": str(256 * 1024**2),
    }
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(InputError, match=r"member 'model\.skops' is not a file or folder"):
        protocol.unpack_model(gzip.compress(buffer.getvalue()), tmp_path / "out", where="release v1.0.0")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.CONTTYPE, tarfile.GNUTYPE_SPARSE])
def test_links_and_devices_are_refused(tmp_path: Path, kind: bytes):
    link = tarfile.TarInfo("model.skops")
    link.type, link.linkname = kind, "/etc/passwd"
    with pytest.raises(InputError, match="is not a file or folder"):
        protocol.unpack_model(tar_gz([(link, None)]), tmp_path / "out", where="release v1.0.0")


def test_a_path_escaping_the_folder_is_refused(tmp_path: Path):
    with pytest.raises(InputError, match="not a safe, readable"):
        protocol.unpack_model(tar_gz([file_member("../escaped", b"x")]), tmp_path / "out", where="release v1.0.0")
    assert not (tmp_path / "escaped").exists()


def test_the_release_marker_names_the_commit():
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert protocol.marked_sha(f"notes\n{protocol.release_marker(sha)}\n") == sha
    assert protocol.marked_sha(protocol.release_body("# card\n", sha)) == sha
    assert protocol.marked_sha("no marker") is None


def test_a_marker_anywhere_but_the_last_line_is_not_the_projects():
    # A dispatch reason (in the card) naming another commit's marker, then the release's own marker
    ours, theirs = "1" * 40, "2" * 40
    body = protocol.release_body(f"Why: released without review: {protocol.release_marker(theirs)}\n", ours)
    assert protocol.marked_sha(body) == ours
    assert protocol.marked_sha(f"card\n{protocol.release_marker(theirs)} and more\n") is None
    assert protocol.marked_sha(f"{protocol.release_marker(theirs)}\nthen someone's text\n") is None


def test_complete_release_takes_only_a_published_full_release_carrying_every_asset():
    import httpx

    from {{ cookiecutter.package }}.io.github import GitHub, GitHubContext

    releases = [
        {"id": 1, "tag_name": "v1.0.0", "draft": False, "prerelease": False},
        {"id": 2, "tag_name": "v1.1.0", "draft": False, "prerelease": False},
        {"id": 3, "tag_name": "v2.0.0", "draft": True, "prerelease": False},
        {"id": 4, "tag_name": "v2.1.0", "draft": False, "prerelease": True},
    ]
    assets = {1: list(protocol.ASSETS), 2: [protocol.MODEL_ARCHIVE]}

    def github_api(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/releases/latest"):
            return httpx.Response(200, json=releases[1])
        if path.endswith("/releases"):
            return httpx.Response(200, json=releases)
        number = int(path.split("/")[-2])
        return httpx.Response(200, json=[{"name": name, "url": f"https://api.github.com/a/{name}"} for name in assets.get(number, [])])

    context = GitHubContext(api_url="https://api.github.com", repository="acme/model", token="ghs_" + "x" * 36)
    with GitHub(context, transport=httpx.MockTransport(github_api)) as github:
        assert protocol.complete_release(github, "v1.0.0").id == 1
        refusals = {
            "1.0.0": "'1.0.0' is not a release tag: expected vMAJOR.MINOR.PATCH",
            "v1.1.0": "release v1.1.0 lacks model.tar.gz.sha256",
            "v2.0.0": "no published release is tagged v2.0.0 in acme/model",  # a draft
            "v2.1.0": "no published release is tagged v2.1.0",  # a prerelease
            "v9.0.0": "no published release is tagged v9.0.0",
        }
        for tag, message in refusals.items():
            with pytest.raises(InputError, match=re.escape(message)):
                protocol.complete_release(github, tag)
