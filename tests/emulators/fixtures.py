"""Pytest fixtures for the storage emulators (loaded from tests/conftest.py).

* ``s3_server``, ``gcs_server``, ``azurite_server`` (session scope): start the emulator the
  first time a test of this worker asks for it, export the variables the SDKs read
  (``AWS_ENDPOINT_URL`` + dummy credentials + ``AWS_DEFAULT_REGION``;
  ``STORAGE_EMULATOR_HOST``; ``AZURE_STORAGE_CONNECTION_STRING``) for the rest of the
  session, and stop it at the end. An emulator announced in ``HOOKLINE_EMULATOR_<NAME>``
  (``python -m tests.emulators up``) is used instead of starting one.
* ``s3_bucket``, ``gcs_bucket``, ``azure_container``: a fresh, empty bucket per test
  (``server.new_bucket()`` makes more).
* ``storage_root``: a fresh storage root for the contract suite, parametrised over
  ``local``, ``s3``, ``gcs`` and ``azure``.

Every test that uses an emulator fixture is marked ``emulator`` automatically.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ._process import EmulatorProcess, wait_http
from ._servers import client_env, emulator, external_url

EMULATOR_FIXTURES = frozenset({"s3_server", "gcs_server", "azurite_server"})


@dataclass
class EmulatorServer:
    """A running emulator as the tests see it.

    :param name: ``s3``, ``gcs`` or ``azure``.
    :param url: its base URL (``http://127.0.0.1:PORT``).
    :param env: the client environment exported while the session runs.
    :param process: the process this worker started (``None`` for an external one).
    """

    name: str
    url: str
    env: dict[str, str]
    process: EmulatorProcess | None = None
    _clients: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def scheme(self) -> str:
        return {"s3": "s3", "gcs": "gs", "azure": "az"}[self.name]

    def new_bucket(self, prefix: str = "hl") -> str:
        """Create a fresh, empty bucket (container) and return its name."""
        name = f"{prefix}-{uuid.uuid4().hex[:16]}"
        if self.name == "s3":
            self.s3_client().create_bucket(Bucket=name)
        elif self.name == "gcs":
            request = urllib.request.Request(
                f"{self.url}/storage/v1/b?project=hookline-test",
                data=json.dumps({"name": name}).encode(),
                headers={"Content-Type": "application/json"},
                method="POST",
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                assert response.status == 200, response.read()
        else:
            self.blob_service().create_container(name)
        return name

    def s3_client(self) -> Any:
        """A boto3 S3 client for this emulator (S3 only)."""
        if "s3" not in self._clients:
            import boto3

            self._clients["s3"] = boto3.session.Session().client(
                "s3",
                endpoint_url=self.url,
                region_name=self.env["AWS_DEFAULT_REGION"],
                aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            )
        return self._clients["s3"]

    def blob_service(self) -> Any:
        """An azure-storage-blob ``BlobServiceClient`` for Azurite (Azure only)."""
        if "azure" not in self._clients:
            from azure.storage.blob import BlobServiceClient

            conn = self.env["AZURE_STORAGE_CONNECTION_STRING"]
            self._clients["azure"] = BlobServiceClient.from_connection_string(conn)
        return self._clients["azure"]


def _serve(name: str) -> Iterator[EmulatorServer]:
    process: EmulatorProcess | None = None
    url = external_url(name)
    if url:
        wait_http(url, timeout=5)
    else:
        process = emulator(name)
        process.start()
        url = process.url
    env = client_env(name, url)
    patch = pytest.MonkeyPatch()
    try:
        for key, value in env.items():
            patch.setenv(key, value)
        if name == "s3":
            patch.delenv("AWS_PROFILE", raising=False)
            patch.delenv("AWS_ENDPOINT_URL_S3", raising=False)
        yield EmulatorServer(name, url, env, process)
    finally:
        patch.undo()
        if process is not None:
            process.stop()
            if process.log is not None:  # kept only when the emulator failed to start
                process.log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[EmulatorServer]:
    """moto in server mode, with ``AWS_ENDPOINT_URL`` and dummy credentials exported."""
    yield from _serve("s3")


@pytest.fixture(scope="session")
def gcs_server() -> Iterator[EmulatorServer]:
    """fake-gcs-server, with ``STORAGE_EMULATOR_HOST`` exported."""
    yield from _serve("gcs")


@pytest.fixture(scope="session")
def azurite_server() -> Iterator[EmulatorServer]:
    """Azurite's blob service, with ``AZURE_STORAGE_CONNECTION_STRING`` exported."""
    yield from _serve("azure")


@pytest.fixture
def s3_bucket(s3_server: EmulatorServer) -> str:
    """A fresh, empty S3 bucket on moto."""
    return s3_server.new_bucket()


@pytest.fixture
def gcs_bucket(gcs_server: EmulatorServer) -> str:
    """A fresh, empty bucket on fake-gcs-server."""
    return gcs_server.new_bucket()


@pytest.fixture
def azure_container(azurite_server: EmulatorServer) -> str:
    """A fresh, empty container on Azurite."""
    return azurite_server.new_bucket()


STORAGE_KINDS = ("local", "s3", "gcs", "azure")
_SERVER_FOR = {"s3": "s3_server", "gcs": "gcs_server", "azure": "azurite_server"}


@pytest.fixture(
    params=[
        "local",
        pytest.param("s3", marks=pytest.mark.emulator),
        pytest.param("gcs", marks=pytest.mark.emulator),
        pytest.param("azure", marks=pytest.mark.emulator),
    ]
)
def storage_root(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh storage root (under a prefix, in a fresh bucket) for the contract suite."""
    from hookline.storage import open_storage

    kind = request.param
    if kind == "local":
        return open_storage(str(tmp_path / "root"))
    server: EmulatorServer = request.getfixturevalue(_SERVER_FOR[kind])
    return open_storage(f"{server.scheme}://{server.new_bucket()}/root")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses an emulator fixture with ``emulator``."""
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if names & EMULATOR_FIXTURES:  # fixturenames is the transitive closure
            item.add_marker(pytest.mark.emulator)
