"""API keys of the prediction service and the dashboard: the one loader both use.

Two sets of keys (see docs/security.md, "Secrets come from the environment"), each optional:

* **prediction keys** -- ``$HOOKLINE_API_KEYS`` (the name follows ``[serving] api_keys_env``)
  or a secret reference in ``$HOOKLINE_API_KEYS_SECRET``: they call ``/predict`` and the
  other prediction routes, and may look at the dashboard;
* **administration keys** -- ``$HOOKLINE_ADMIN_KEYS`` or ``$HOOKLINE_ADMIN_KEYS_SECRET``:
  they may also move aliases from the dashboard (approve, promote, roll back).

A variable holds comma-separated keys; a secret reference is resolved with the cloud's SDK
on first use and cached for the life of the instance:

* ``aws-sm://NAME`` -- AWS Secrets Manager (secret id or ARN)
* ``gcp-sm://projects/P/secrets/S/versions/V`` -- Google Secret Manager
* ``azure-kv://VAULT/SECRET`` -- Azure Key Vault (``VAULT.vault.azure.net``)

A secret holds comma-separated keys or a JSON array of keys. A request carries its key in
``X-API-Key`` or ``Authorization: Bearer KEY``; it is compared with every configured key
using :func:`hmac.compare_digest`, so the time taken says nothing about which key nearly
matched. When a secret reference cannot be resolved the service fails closed (503).
"""

from __future__ import annotations

import hmac
import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hookline.errors import ConfigError, HooklineError, Unavailable

__all__ = [
    "ADMIN_KEYS_ENV",
    "PREDICTION_KEYS_ENV",
    "ApiKeys",
    "KeysUnavailable",
    "SecretRef",
    "Unauthorized",
    "admin_keys_from_env",
    "fingerprint",
    "keys_from_env",
    "parse_keys",
    "parse_secret_ref",
    "read_secret_text",
]

SCHEMES = ("aws-sm", "gcp-sm", "azure-kv")
PREDICTION_KEYS_ENV = "HOOKLINE_API_KEYS"
ADMIN_KEYS_ENV = "HOOKLINE_ADMIN_KEYS"


class Unauthorized(HooklineError):
    """The request carries no key, or a key that is not configured (HTTP 401)."""

    http_status = 401
    exit_code = 2
    title = "unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class KeysUnavailable(Unavailable):
    """The configured secret holding the keys cannot be read: fail closed (HTTP 503)."""

    title = "keys unavailable"


def fingerprint(key: str | bytes) -> str:
    """A short, non-secret name for a key: the first 8 hex digits of its sha256."""
    import hashlib

    return hashlib.sha256(key if isinstance(key, bytes) else key.encode()).hexdigest()[:8]


@dataclass(frozen=True, slots=True)
class SecretRef:
    """A parsed secret reference: ``scheme`` and the scheme-specific parts."""

    scheme: str
    name: str
    """AWS: secret id; GCP: full resource name; Azure: secret name."""
    vault: str | None = None
    """Azure only: the vault's name or URL."""
    raw: str = ""


def _native_to_uri(ref: str) -> str:
    """Accept each cloud's own way of naming a secret, as the Terraform modules pass it:
    an AWS secret ARN, a GCP ``projects/.../secrets/...`` resource name, or an Azure Key
    Vault secret URI (``https://VAULT.vault.azure.net/secrets/NAME[/VERSION]``)."""
    if ref.startswith("arn:aws:secretsmanager:"):
        return f"aws-sm://{ref}"
    if ref.startswith("projects/") and "/secrets/" in ref:
        return f"gcp-sm://{ref}"
    if ref.startswith("https://") and ".vault." in ref and "/secrets/" in ref:
        host, _, path = ref.removeprefix("https://").partition("/")
        name = path.removeprefix("secrets/").split("/")[0]
        return f"azure-kv://{host}/{name}"
    return ref


def parse_secret_ref(ref: str, *, env: str = "HOOKLINE_API_KEYS_SECRET") -> SecretRef:
    """Parse a secret reference.

    :raises ConfigError: unknown scheme or malformed reference (naming ``env``).
    """
    raw = ref
    ref = _native_to_uri(ref.strip())
    scheme, sep, rest = ref.partition("://")
    rest = rest.strip("/")
    if not sep or scheme not in SCHEMES or not rest:
        raise ConfigError(
            f"${env}: not a secret reference: {ref!r}",
            hint="use aws-sm://NAME (or the secret's ARN), "
            "gcp-sm://projects/P/secrets/S/versions/latest (or projects/P/secrets/S/...), "
            "azure-kv://VAULT/SECRET (or https://VAULT.vault.azure.net/secrets/SECRET)",
        )
    if scheme == "aws-sm":
        return SecretRef(scheme, rest, raw=raw)
    if scheme == "gcp-sm":
        parts = rest.split("/")
        if len(parts) == 4 and parts[0] == "projects" and parts[2] == "secrets":
            parts += ["versions", "latest"]
        if (
            len(parts) != 6
            or parts[0] != "projects"
            or parts[2] != "secrets"
            or parts[4] != "versions"
            or not all(parts)
        ):
            raise ConfigError(
                f"${env}: malformed Google Secret Manager reference {ref!r}",
                hint="write it as gcp-sm://projects/PROJECT/secrets/SECRET/versions/latest",
            )
        return SecretRef(scheme, "/".join(parts), raw=raw)
    vault, _, secret = rest.partition("/")
    if not vault or not secret or "/" in secret:
        raise ConfigError(
            f"${env}: malformed Azure Key Vault reference {ref!r}",
            hint="write it as azure-kv://VAULT/SECRET",
        )
    return SecretRef(scheme, secret, vault=vault, raw=raw)


def parse_keys(text: str) -> tuple[str, ...]:
    """Keys from a secret or variable: a JSON array of strings, or comma-separated."""
    text = text.strip()
    if text.startswith("["):
        try:
            items = json.loads(text)
        except ValueError:
            items = None
        if isinstance(items, list) and all(isinstance(i, str) for i in items):
            return tuple(i.strip() for i in items if i.strip())
    return tuple(k.strip() for k in text.split(",") if k.strip())


class ApiKeys:
    """The configured keys (possibly none: auth off), resolved lazily.

    :param keys: keys given directly (from the environment).
    :param secret: a secret reference to resolve on first use instead.
    :param resolver: fetches a secret's text (tests pass their own).
    """

    def __init__(
        self,
        keys: tuple[str, ...] = (),
        secret: SecretRef | None = None,
        resolver: Callable[[SecretRef], str] | None = None,
    ) -> None:
        self._keys: tuple[bytes, ...] | None = (
            tuple(k.encode() for k in keys) if secret is None else None
        )
        self.secret = secret
        self._resolver = resolver
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.secret is not None or bool(self._keys)

    @property
    def pending(self) -> bool:
        """Whether a secret reference is still to be read (the first check reads it)."""
        return self._keys is None

    def _resolve(self) -> tuple[bytes, ...]:
        keys = self._keys
        if keys is not None:
            return keys
        with self._lock:
            if self._keys is None:
                assert self.secret is not None
                from hookline.adapters.web._secrets import fetch_secret

                try:
                    text = (self._resolver or fetch_secret)(self.secret)
                except HooklineError as exc:
                    raise KeysUnavailable(
                        f"API keys unavailable: {exc.message}", hint=exc.hint
                    ) from exc
                except Exception as exc:
                    raise KeysUnavailable(
                        f"API keys unavailable: cannot read secret {self.secret.raw}: "
                        f"{type(exc).__name__}: {exc}",
                        hint="check the secret exists and the function's identity may read it",
                    ) from exc
                parsed = parse_keys(text)
                if not parsed:
                    raise KeysUnavailable(
                        f"API keys unavailable: secret {self.secret.raw} holds no key"
                    )
                self._keys = tuple(k.encode() for k in parsed)
            return self._keys

    def resolved(self) -> tuple[bytes, ...]:
        """The configured keys, resolving the secret on first use.

        :raises KeysUnavailable: the secret cannot be read (fail closed).
        """
        return self._resolve() if self.enabled else ()

    def match(self, candidate: str) -> str | None:
        """The fingerprint of the configured key equal to ``candidate``, else ``None``.
        Every key is compared, in constant time, whatever matches.

        :raises KeysUnavailable: the secret cannot be read.
        """
        given = candidate.encode()
        found = None
        for key in self.resolved():  # no early exit: every key is compared
            if hmac.compare_digest(given, key):
                found = fingerprint(key)
        return found

    def check(self, headers: Mapping[str, str]) -> None:
        """Accept the request or raise :class:`Unauthorized` (or :class:`KeysUnavailable`).

        :param headers: the request headers (case-insensitive mapping).
        """
        if not self.enabled:
            return
        keys = self._resolve()
        given = headers.get("x-api-key")
        if given is None:
            auth = headers.get("authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                given = token.strip()
        if not given:
            raise Unauthorized(
                "missing API key",
                hint="send it in the X-API-Key header or as 'Authorization: Bearer KEY'",
            )
        candidate = given.encode()
        ok = False
        for key in keys:  # no early exit: every key is compared
            ok |= hmac.compare_digest(candidate, key)
        if not ok:
            raise Unauthorized("invalid API key")


def admin_keys_from_env(environ: Mapping[str, str] | None = None) -> ApiKeys:
    """The administration keys: ``$HOOKLINE_ADMIN_KEYS`` or ``$HOOKLINE_ADMIN_KEYS_SECRET``."""
    return keys_from_env(ADMIN_KEYS_ENV, environ)


def keys_from_env(
    env_name: str = PREDICTION_KEYS_ENV, environ: Mapping[str, str] | None = None
) -> ApiKeys:
    """Read ``$env_name`` (keys) and ``${env_name}_SECRET`` (a secret reference).

    :raises ConfigError: both are set, or the reference is malformed.
    """
    environ = os.environ if environ is None else environ
    direct = environ.get(env_name, "")
    ref = environ.get(f"{env_name}_SECRET", "").strip()
    if ref:
        if direct.strip():
            raise ConfigError(
                f"both ${env_name} and ${env_name}_SECRET are set",
                hint="set only one: the keys, or a reference to a secret holding them",
            )
        return ApiKeys(secret=parse_secret_ref(ref, env=f"{env_name}_SECRET"))
    return ApiKeys(parse_keys(direct))


def read_secret_text(reference: str) -> str:
    """The text of the secret ``reference`` names (``aws-sm://``, ``gcp-sm://``,
    ``azure-kv://`` or the clouds' native forms), read with the cloud's SDK on call."""
    from hookline.adapters.web._secrets import read_secret_text as read

    return read(reference)
