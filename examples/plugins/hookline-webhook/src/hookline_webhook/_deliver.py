"""Posting with a timeout, bounded retries and an optional signature; never raising."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

__all__ = ["Delivery", "deliver", "redact", "sign"]

log = logging.getLogger("hookline_webhook")

RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
MAX_WAIT_SECONDS = 30.0


@dataclass(frozen=True)
class Delivery:
    """How one delivery went.

    :param delivered: the endpoint answered 2xx.
    :param attempts: requests made.
    :param status: the last HTTP status, or ``None`` when no answer came.
    :param error: what went wrong last, when it did.
    """

    delivered: bool
    attempts: int
    status: int | None = None
    error: str | None = None


def redact(url: str) -> str:
    """``scheme://host[:port]`` only: webhook paths and queries often carry tokens."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``timestamp + "." + body`` with the shared secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def _wait(attempt: int, backoff: float, retry_after: str | None) -> float:
    if retry_after and retry_after.strip().isdigit():
        return min(float(retry_after), MAX_WAIT_SECONDS)
    return min(backoff * (2 ** (attempt - 1)), MAX_WAIT_SECONDS)


def deliver(
    url: str,
    payload: dict[str, Any],
    *,
    timeout: float,
    retries: int,
    backoff: float,
    secret: str | None,
    delivery_id: str,
) -> Delivery:
    """POST ``payload`` as JSON to ``url``.

    Retries (``retries`` more times, waiting ``backoff`` seconds, doubled each time, or the
    server's ``Retry-After``) on connection errors, timeouts and 408/425/429/5xx; any other
    answer is final. Never raises: an unreachable webhook must not fail the run.
    """
    body = json.dumps(payload, default=str, allow_nan=False).encode()
    attempts, status, error = 0, None, None
    while attempts <= retries:
        attempts += 1
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "hookline-webhook/0.1",
            "X-Hookline-Delivery": delivery_id,
            "X-Hookline-Timestamp": timestamp,
        }
        if secret:
            headers["X-Hookline-Signature"] = sign(secret, timestamp, body)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        retry_after = None
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
                return Delivery(True, attempts, status)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code} {exc.reason}"
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            exc.close()
            if exc.code not in RETRY_STATUSES:
                break
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            status, error = None, str(getattr(exc, "reason", exc)) or type(exc).__name__
        except Exception as exc:  # a bug here must still not fail the run
            status, error = None, f"{type(exc).__name__}: {exc}"
            break
        if attempts <= retries:
            time.sleep(_wait(attempts, backoff, retry_after))
    log.warning(
        "webhook %s: delivery %s failed after %d attempt(s): %s",
        redact(url),
        delivery_id,
        attempts,
        error,
    )
    return Delivery(False, attempts, status, error)
