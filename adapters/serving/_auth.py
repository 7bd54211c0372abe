"""Optional API keys for the prediction service.

Keys come from the environment variable named by ``serving.api_keys_env``
(``HOOKLINE_API_KEYS`` by default: comma-separated), or from a secret reference in
``<that name>_SECRET`` (``HOOKLINE_API_KEYS_SECRET``), resolved with the cloud's SDK on
first use and cached for the life of the instance:

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

from hookline.errors import ConfigError, HooklineError

__all__ = ["ApiKeys", "AuthFailure", "SecretRef", "keys_from_env", "parse_keys", "parse_secret_ref"]

SCHEMES = ("aws-sm", "gcp-sm", "azure-kv")


class AuthFailure(HooklineError):
    """The request is not authorised (HTTP 401), or keys cannot be loaded (HTTP 503)."""

    def __init__(self, message: str, *, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.status = status


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

    def _resolve(self) -> tuple[bytes, ...]:
        keys = self._keys
        if keys is not None:
            return keys
        with self._lock:
            if self._keys is None:
                assert self.secret is not None
                from hookline.adapters.serving._secrets import fetch_secret

                try:
                    text = (self._resolver or fetch_secret)(self.secret)
                except HooklineError as exc:
                    raise AuthFailure(
                        f"API keys unavailable: {exc.message}", status=503, hint=exc.hint
                    ) from exc
                except Exception as exc:
                    raise AuthFailure(
                        f"API keys unavailable: cannot read secret {self.secret.raw}: "
                        f"{type(exc).__name__}: {exc}",
                        status=503,
                        hint="check the secret exists and the function's identity may read it",
                    ) from exc
                parsed = parse_keys(text)
                if not parsed:
                    raise AuthFailure(
                        f"API keys unavailable: secret {self.secret.raw} holds no key", status=503
                    )
                self._keys = tuple(k.encode() for k in parsed)
            return self._keys

    def check(self, headers: Mapping[str, str]) -> None:
        """Accept the request or raise :class:`AuthFailure`.

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
            raise AuthFailure(
                "missing API key",
                status=401,
                hint="send it in the X-API-Key header or as 'Authorization: Bearer KEY'",
            )
        candidate = given.encode()
        ok = False
        for key in keys:  # no early exit: every key is compared
            ok |= hmac.compare_digest(candidate, key)
        if not ok:
            raise AuthFailure("invalid API key", status=401)


def keys_from_env(env_name: str, environ: Mapping[str, str] | None = None) -> ApiKeys:
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
