"""A benchmark project: the quickstart's ``hookline.toml`` on a chosen storage root, its
production model trained once, scoring uploads of any size, and the storage emulators.

Used by :mod:`bench.coldstart` and :mod:`bench.throughput`.
"""

from __future__ import annotations

import csv
import io
import os
import random
import sys
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
QUICKSTART = REPO / "examples" / "quickstart"
SCHEMES = {"local": "file", "aws": "s3", "gcp": "gs", "azure": "az"}
EMULATOR = {"aws": "s3", "gcp": "gcs", "azure": "azure"}
SCORE_PREFIX = "landing/score/"
TRAIN_PREFIX = "landing/train/"

__all__ = ["BenchProject", "emulators", "score_csv"]


def _rows() -> tuple[list[str], list[list[str]]]:
    with (QUICKSTART / "batch1.csv").open() as a, (QUICKSTART / "batch2.csv").open() as b:
        first, second = list(csv.reader(a)), list(csv.reader(b))
    return first[0], first[1:] + second[1:]


def score_csv(rows: int, seed: int) -> bytes:
    """``rows`` labelled penguins drawn (with replacement) from the quickstart batches: the
    training distribution, so monitoring finds no drift and does its full work."""
    header, pool = _rows()
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rng.choice(pool) for _ in range(rows))
    return out.getvalue().encode()


@contextmanager
def emulators(*clouds: str) -> Iterator[dict[str, str]]:
    """Start the emulators of ``clouds`` (``aws``, ``gcp``, ``azure``) from tests/emulators,
    export their client environment into ``os.environ``, and stop them afterwards.

    :returns: the environment variables that point the SDKs at them.
    """
    sys.path.insert(0, str(REPO))
    from tests.emulators import client_env, emulator

    started = []
    env: dict[str, str] = {}
    saved = dict(os.environ)
    try:
        for cloud in clouds:
            server = emulator(EMULATOR[cloud])
            server.start()
            started.append(server)
            env.update(client_env(EMULATOR[cloud], server.url))
        os.environ.update(env)
        yield env
    finally:
        os.environ.clear()
        os.environ.update(saved)
        for server in started:
            server.stop()


def _new_bucket(cloud: str, name: str) -> None:
    if cloud == "aws":
        import boto3

        boto3.client("s3").create_bucket(Bucket=name)
    elif cloud == "gcp":
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import storage

        storage.Client(project="bench", credentials=AnonymousCredentials()).create_bucket(name)
    elif cloud == "azure":
        from azure.storage.blob import BlobServiceClient

        conn = os.environ["AZURE_STORAGE_CONNECTION_STRING"]
        BlobServiceClient.from_connection_string(conn).create_container(name)


@dataclass
class BenchProject:
    """The quickstart project on a fresh storage root of kind ``cloud``.

    :param cloud: ``local``, ``aws``, ``gcp`` or ``azure`` (their emulators must run).
    :param folder: where ``hookline.toml`` is written (and, for ``local``, the root).
    """

    cloud: str
    folder: Path
    root: str = ""

    def __post_init__(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.cloud == "local":
            self.root = str(self.folder / "root")
        else:
            bucket = f"bench-{os.getpid()}-{random.randrange(10**8)}"
            _new_bucket(self.cloud, bucket)
            self.root = f"{SCHEMES[self.cloud]}://{bucket}/root"
        text = (QUICKSTART / "hookline.toml").read_text()
        data = tomllib.loads(text)
        old = data["project"]["storage"]
        text = text.replace(f'storage = "{old}"', f'storage = "{self.root}"', 1)
        (self.folder / "hookline.toml").write_text(text)
        self._storage: Any = None

    @property
    def config(self) -> Path:
        return self.folder / "hookline.toml"

    @property
    def storage(self) -> Any:
        if self._storage is None:
            from hookline.storage import open_storage

            self._storage = open_storage(self.root)
        return self._storage

    def app(self) -> Any:
        from hookline.runner import Hookline

        return Hookline.from_config(str(self.config))

    def train(self) -> int:
        """Train and promote the production model from the quickstart's first batch."""
        from hookline.cli._app import event_for

        info = self.storage.write(
            f"{TRAIN_PREFIX}batch1.csv", (QUICKSTART / "batch1.csv").read_bytes()
        )
        [result] = self.app().handle(event_for(self.storage, info))
        if result.status != "succeeded":
            raise RuntimeError(f"training the benchmark's model failed: {result.message}")
        return int(result.record["deployments"][0]["version"])

    def upload(self, key: str, data: bytes) -> Any:
        """Write a scoring upload; return the storage event a trigger would deliver."""
        from hookline.cli._app import event_for

        return event_for(self.storage, self.storage.write(key, data))
