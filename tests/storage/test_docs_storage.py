"""docs/storage.md is exercised: its Python sample runs against every back-end (through the
emulators), and its tables and keyword arguments match the code."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
from hookline.adapters.aws.storage import S3Storage
from hookline.adapters.azure.storage import AzureBlobStorage
from hookline.adapters.gcp.storage import GCSStorage
from hookline.storage import Storage, storage_schemes

DOC = Path(__file__).parents[2] / "docs" / "storage.md"
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)


def blocks(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(DOC.read_text()) if kind == lang]


def test_python_sample_runs_on_every_backend(
    storage_root: Storage, capsys: pytest.CaptureFixture[str]
) -> None:
    [sample] = blocks("python")
    namespace: dict[str, object] = {"uri": storage_root.uri}
    exec(compile(sample, str(DOC), "exec"), namespace)
    assert capsys.readouterr().out.strip() == "['notes/hello.txt']"
    assert namespace["first"] == b"hello"
    assert storage_root.read("notes/hello.txt") == b"hello"
    assert storage_root.read("claims/run-42") == b"worker-1"  # the second create lost
    assert storage_root.read("counters/runs") == b"1"


def test_every_registered_scheme_is_documented() -> None:
    text = DOC.read_text()
    for scheme, target in storage_schemes().items():
        if scheme == "file":
            assert "file://" in text and "LocalStorage" in text
            continue
        assert f"`{scheme}://" in text, scheme
        assert f"`{target.rsplit(':', 1)[1]}`" in text, target


def test_error_and_condition_tables_name_the_real_classes() -> None:
    import hookline.errors as errors

    text = DOC.read_text()
    for name in (
        "NotFound",
        "AlreadyExists",
        "PreconditionFailed",
        "InvalidKey",
        "StorageError",
        "TransientStorageError",
        "TransientError",
    ):
        assert f"`{name}`" in text
        assert hasattr(errors, name)
    assert issubclass(errors.AlreadyExists, errors.PreconditionFailed)  # as the page says
    assert issubclass(errors.TransientStorageError, errors.TransientError)


def test_documented_keyword_arguments_exist() -> None:
    text = DOC.read_text()
    calls = re.findall(r"`((?:S3Storage|GCSStorage|AzureBlobStorage)\(uri, [^`]*\))`", text)
    assert len(calls) == 3
    for call in calls:
        uri = {"S3": "s3://b", "GC": "gs://b", "Az": "az://c"}[call[:2]]
        backend = eval(
            call,
            {
                "S3Storage": S3Storage,
                "GCSStorage": GCSStorage,
                "AzureBlobStorage": AzureBlobStorage,
                "uri": uri,
            },
        )
        assert backend._client is None  # constructing it sent nothing


def test_shell_sample_uses_real_commands() -> None:
    [shell] = blocks("sh")
    actions = []
    for line in shell.splitlines():
        words = shlex.split(line.split("#")[0].replace('eval "$(', "").replace(')"', ""))
        if words[:3] == ["python", "-m", "tests.emulators"]:
            actions.append(words[3])
        elif words[:1] == ["bash"]:
            assert (DOC.parents[1] / words[1]).is_file(), words[1]
    assert actions == ["up", "status", "down"]
