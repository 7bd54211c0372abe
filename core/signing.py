"""Signed registry versions (optional, off by default): HMAC-SHA256 over each version's
manifest and artifact digests, with a key from the environment or a cloud secret.

Without a key nothing changes. With one (``$HOOKLINE_SIGNING_KEY``, or a secret reference
in ``$HOOKLINE_SIGNING_KEY_SECRET``; the variable's name is ``signing_key_env`` in the
registry's settings), every version the registry writes gets ``signature.json`` beside
its manifest, and a version whose signature is missing or does not match is refused for
loading and for every alias move::

    {"schema": "hookline.signature/1", "algorithm": "HMAC-SHA256", "key_id": "k-1f0c...",
     "signed": {"model": "churn", "version": 7,
                "manifest_sha256": "<sha256 of the manifest's canonical JSON>",
                "artifacts": {"model.skops": "<sha256>", "schema.json": "<sha256>"}},
     "signature": "<hex HMAC-SHA256 of the canonical JSON of 'signed'>",
     "signed_at": "...", "signed_by": "..."}

Canonical JSON (:func:`hookline.jsonio.canonical`): keys sorted, separators ``,`` and
``:``, UTF-8, no ASCII escaping. The
manifest is signed as parsed (so its formatting may change, its content may not); the
artifacts through the digests the manifest records, which every load checks against the
bytes. Standard library only: this is on every load's path.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hookline.errors import ConfigError

__all__ = [
    "ALGORITHM",
    "ENV_KEY",
    "MIN_KEY_CHARS",
    "SCHEMA",
    "SIGNATURE",
    "SigningKey",
    "canonical",
    "key_from_settings",
    "signed_payload",
]

ENV_KEY = "HOOKLINE_SIGNING_KEY"
ALGORITHM = "HMAC-SHA256"
SCHEMA = "hookline.signature/1"
SIGNATURE = "signature.json"
MIN_KEY_CHARS = 32


def canonical(doc: Any) -> bytes:
    """The bytes that are signed: :func:`hookline.jsonio.canonical` (sorted keys, compact
    separators, UTF-8, non-finite numbers as ``null``), the one canonical form."""
    from hookline import jsonio

    return jsonio.canonical(doc)


def signed_payload(model: str, version: int, manifest: Mapping[str, Any]) -> dict[str, Any]:
    """What a version's signature covers: its identity, the manifest's canonical digest
    and every artifact's recorded sha256."""
    artifacts = manifest.get("artifacts") or {}
    return {
        "model": model,
        "version": int(version),
        "manifest_sha256": hashlib.sha256(canonical(manifest)).hexdigest(),
        "artifacts": {
            str(name): str((meta or {}).get("sha256")) for name, meta in sorted(artifacts.items())
        },
    }


@dataclass(frozen=True)
class SigningKey:
    """A signing key: the secret (never shown) and its public id.

    :param secret: the key's bytes.
    :param key_id: named in every signature; by default a digest of the key, so a
        signature made with another key says so.
    """

    secret: bytes = field(repr=False)
    key_id: str = ""

    def __post_init__(self) -> None:
        if not self.key_id:
            digest = hashlib.sha256(b"hookline-signing-key-id\0" + self.secret).hexdigest()
            object.__setattr__(self, "key_id", f"k-{digest[:16]}")

    @classmethod
    def from_text(cls, text: str, *, key_id: str = "", source: str = ENV_KEY) -> SigningKey:
        """:raises ConfigError: an empty or short key (naming ``source``)."""
        secret = text.strip()
        if len(secret) < MIN_KEY_CHARS:
            raise ConfigError(
                f"the signing key in {source} has {len(secret)} characters; at least "
                f"{MIN_KEY_CHARS} are needed",
                hint="generate one: python -c 'import secrets; print(secrets.token_hex(32))'",
            )
        return cls(secret.encode("utf-8"), key_id)

    def sign(self, payload: Mapping[str, Any]) -> str:
        return hmac.new(self.secret, canonical(payload), hashlib.sha256).hexdigest()

    def document(self, payload: Mapping[str, Any], *, at: str, by: str) -> dict[str, Any]:
        """The ``signature.json`` of ``payload``."""
        return {
            "schema": SCHEMA,
            "algorithm": ALGORITHM,
            "key_id": self.key_id,
            "signed": dict(payload),
            "signature": self.sign(payload),
            "signed_at": at,
            "signed_by": by,
        }

    def problem(self, payload: Mapping[str, Any], doc: Any) -> str | None:
        """Why ``doc`` (a parsed ``signature.json``) is not this key's valid signature of
        ``payload``, or ``None`` when it is."""
        if not isinstance(doc, Mapping) or doc.get("schema") != SCHEMA:
            return "its signature.json is not a hookline signature"
        if doc.get("algorithm") != ALGORITHM:
            return f"it is signed with {doc.get('algorithm')!r}, not {ALGORITHM}"
        if doc.get("key_id") != self.key_id:
            theirs = doc.get("key_id")
            return f"it is signed with key {theirs!r}, not the configured {self.key_id!r}"
        signed = doc.get("signed")
        if not isinstance(signed, Mapping):
            return "its signature.json says nothing about what was signed"
        if dict(signed) != dict(payload):
            changed = sorted(k for k in {*signed, *payload} if signed.get(k) != payload.get(k))
            return f"its {', '.join(changed)} changed after it was signed"
        if not hmac.compare_digest(str(doc.get("signature", "")), self.sign(payload)):
            return "the signature does not match (signed with another key, or forged)"
        return None


def key_from_settings(
    settings: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    secret_reader: Callable[[str], str] | None = None,
) -> SigningKey | None:
    """The registry's signing key, or ``None`` (signing off).

    ``settings`` is the registry's table: ``signing_key_env`` names the variable
    (``HOOKLINE_SIGNING_KEY``) holding the key; ``<that name>_SECRET`` may hold a secret
    reference instead, read with ``secret_reader`` (the core never imports a cloud SDK);
    ``signing_key_id`` overrides the key's id.

    :raises ConfigError: both variables set, a reference but no reader, a failing reader,
        or a key that is too short.
    """
    environ = os.environ if environ is None else environ
    name = str(settings.get("signing_key_env") or ENV_KEY)
    direct = environ.get(name, "").strip()
    ref = environ.get(f"{name}_SECRET", "").strip()
    key_id = str(settings.get("signing_key_id") or "")
    if direct and ref:
        raise ConfigError(
            f"both ${name} and ${name}_SECRET are set",
            hint="set only one: the key, or a reference to a secret holding it",
        )
    if ref:
        if secret_reader is None:
            raise ConfigError(
                f"${name}_SECRET is set, but this command cannot read cloud secrets",
                hint=f"set ${name} itself here, or run where the cloud adapter is installed",
            )
        try:
            text = secret_reader(ref)
        except ConfigError:
            raise
        except Exception as exc:
            raise ConfigError(
                f"cannot read the signing key from ${name}_SECRET ({ref}): "
                f"{type(exc).__name__}: {exc}",
                hint="check the reference and the function's permission to read it",
            ) from exc
        return SigningKey.from_text(text, key_id=key_id, source=f"${name}_SECRET")
    if direct:
        return SigningKey.from_text(direct, key_id=key_id, source=f"${name}")
    return None
