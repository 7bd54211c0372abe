"""Prediction logging: a sample of requests and their predictions, written to storage in
batches as CSV, under a prefix that a monitoring pipeline can be triggered on.

Configured by ``[serving.prediction_log]`` (see :data:`OPTIONS`); absent or empty means off.
One object per flushed batch and served version::

    <prefix><model>/<YYYY-MM-DD>/<YYYYMMDDTHHMMSSffffff>Z-<8 hex>.csv

with the header ``hookline_timestamp,hookline_request_id,hookline_model_version,<features in
the model's column order>,prediction`` -- the feature columns are named as in training data,
so a drift check can compare them column by column.

Logging never blocks or fails a request: the request appends to an in-memory buffer; one
background thread writes a batch when it reaches ``batch_size`` rows or its oldest row is
``max_age_seconds`` old. If storage is slow or failing, rows beyond ``max_buffer`` are
dropped (and counted) rather than held without bound. What is still buffered is written
when the server shuts down; on a platform that freezes idle instances (Lambda) a partial
batch waits for the next invocation, and is lost if the instance is reclaimed first.
"""

from __future__ import annotations

import csv
import io
import logging
import queue
import random
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from hookline.config import Option, check_table
from hookline.storage import Storage

__all__ = ["OPTIONS", "LogSettings", "PredictionLog"]

log = logging.getLogger("hookline.serving")

OPTIONS = {
    "sample_rate": Option(float, 1.0, "fraction of requests logged, 0 to 1"),
    "prefix": Option(str, "landing/predictions/", "key prefix the batches are written under"),
    "batch_size": Option(int, 500, "rows per written object"),
    "max_age_seconds": Option(float, 60.0, "write a batch once its oldest row is this old"),
    "max_buffer": Option(int, 10_000, "rows held in memory at most; more are dropped"),
    "storage": Option(str, None, "storage root URI to write to (default: the project's)"),
}
META_COLUMNS = ("hookline_timestamp", "hookline_request_id", "hookline_model_version")


@dataclass(frozen=True, slots=True)
class LogSettings:
    """A validated ``[serving.prediction_log]`` table."""

    sample_rate: float
    prefix: str
    batch_size: int
    max_age_seconds: float
    max_buffer: int
    storage: str | None

    @classmethod
    def from_table(cls, table: Mapping[str, Any], source: str | None = None) -> LogSettings | None:
        """``None`` when logging is off (empty table or ``sample_rate = 0``).

        :raises ConfigError: unknown key, wrong type, or a value out of range.
        """
        from hookline.errors import ConfigError

        if not table:
            return None
        values = check_table(dict(table), OPTIONS, "serving.prediction_log", source)
        key = "serving.prediction_log."
        if not 0.0 <= values["sample_rate"] <= 1.0:
            raise ConfigError(
                "expected a number from 0 to 1", key=key + "sample_rate", source=source
            )
        for name in ("batch_size", "max_buffer"):
            if values[name] < 1:
                raise ConfigError("expected a positive integer", key=key + name, source=source)
        if values["max_age_seconds"] <= 0:
            raise ConfigError(
                "expected a positive number of seconds", key=key + "max_age_seconds", source=source
            )
        prefix = values["prefix"].strip("/")
        if not prefix or ".." in prefix.split("/"):
            raise ConfigError(
                "expected a relative key prefix such as 'landing/predictions/'",
                key=key + "prefix",
                source=source,
            )
        if values["sample_rate"] == 0.0:
            return None
        return cls(
            values["sample_rate"],
            prefix + "/",
            values["batch_size"],
            values["max_age_seconds"],
            values["max_buffer"],
            values["storage"],
        )


class PredictionLog:
    """Buffers sampled predictions and writes them in batches from one background thread.

    :param storage: where batches go.
    :param model: the served model's name (part of every key).
    :param settings: sampling, prefix and batching.
    :param random_: returns a number in [0, 1) (tests pass their own).
    """

    def __init__(
        self,
        storage: Storage,
        model: str,
        settings: LogSettings,
        *,
        random_: Callable[[], float] = random.random,
    ) -> None:
        self.storage = storage
        self.model = model
        self.settings = settings
        self._random = random_
        self._lock = threading.Lock()
        self._rows: list[tuple[Any, ...]] = []
        self._columns: dict[int, tuple[str, ...]] = {}
        self._first_at = 0.0
        self._pending = 0
        self._queue: queue.SimpleQueue[list[tuple[Any, ...]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self.dropped = 0
        self.written: list[str] = []
        self.failures = 0

    # -- the request path (never raises, never does I/O) --------------------------------------

    def sampled(self) -> bool:
        return self.settings.sample_rate >= 1.0 or self._random() < self.settings.sample_rate

    def record(
        self,
        version: int,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        predictions: Sequence[Any],
        request_id: str,
    ) -> None:
        """Buffer one request's rows (the caller decided it is sampled)."""
        try:
            stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            new = [
                (version, stamp, request_id, version, *row, pred)
                for row, pred in zip(rows, predictions, strict=True)
            ]
            batch = None
            with self._lock:
                if self._pending + len(new) > self.settings.max_buffer:
                    self.dropped += len(new)
                    return
                self._columns.setdefault(version, tuple(columns))
                if not self._rows:
                    self._first_at = time.monotonic()
                self._rows.extend(new)
                self._pending += len(new)
                if len(self._rows) >= self.settings.batch_size or self._aged():
                    batch, self._rows = self._rows, []
            self._ensure_thread()
            if batch:
                self._queue.put(batch)
        except Exception as exc:
            log.warning("prediction log: a record was not buffered: %s", exc)

    def _aged(self) -> bool:
        return bool(self._rows) and (
            time.monotonic() - self._first_at >= self.settings.max_age_seconds
        )

    # -- the writer ------------------------------------------------------------------------

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            with self._lock:
                if self._thread is None or not self._thread.is_alive():
                    self._thread = threading.Thread(
                        target=self._run, daemon=True, name="hookline-prediction-log"
                    )
                    self._thread.start()

    def _run(self) -> None:
        wait = min(self.settings.max_age_seconds, 5.0)
        while True:
            try:
                batch = self._queue.get(timeout=wait)
            except queue.Empty:
                with self._lock:
                    batch, self._rows = (self._rows, []) if self._aged() else (None, self._rows)
            if batch is None:
                continue
            self._write(batch)

    def _write(self, batch: list[tuple[Any, ...]]) -> None:
        by_version: dict[int, list[tuple[Any, ...]]] = {}
        for row in batch:
            by_version.setdefault(row[0], []).append(row[1:])
        for version, rows in by_version.items():
            key = self._key()
            try:
                self.storage.write(key, self.encode(self._columns[version], rows))
                self.written.append(key)
            except Exception as exc:
                self.failures += 1
                log.warning(
                    "prediction log: %d rows not written to %s: %s",
                    len(rows),
                    self.storage.url(key),
                    exc,
                )
            finally:
                with self._lock:
                    self._pending -= len(rows)

    def _key(self) -> str:
        now = datetime.now(UTC)
        return (
            f"{self.settings.prefix}{self.model}/{now:%Y-%m-%d}/"
            f"{now:%Y%m%dT%H%M%S%f}Z-{secrets.token_hex(4)}.csv"
        )

    @staticmethod
    def encode(columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> bytes:
        """The CSV bytes of one batch (``None`` is written as an empty field)."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow([*META_COLUMNS, *columns, "prediction"])
        writer.writerows(rows)
        return out.getvalue().encode("utf-8")

    def flush(self) -> None:
        """Write whatever is buffered now, in the calling thread (shutdown, tests)."""
        with self._lock:
            batch, self._rows = self._rows, []
        if batch:
            self._write(batch)

    def drain(self, timeout: float = 10.0) -> None:
        """Flush and wait until every queued batch has been written (shutdown, tests)."""
        self.flush()
        deadline = time.monotonic() + timeout
        while self._pending > 0 and time.monotonic() < deadline:
            time.sleep(0.01)
