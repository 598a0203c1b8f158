"""The release protocol: checksum file, release record, reproducible packing and bounded unpacking."""

from __future__ import annotations

import gzip
import io
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


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE])
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
    assert protocol.marked_sha("no marker") is None
