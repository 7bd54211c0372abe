"""Reading a secret's text from the cloud it lives in, through :func:`hookline.secrets.read_secret`
(which asks the installed cloud packages which one recognises the reference; the cloud's SDK
is imported only then)."""

from __future__ import annotations

from hookline.adapters.web.keys import SecretRef

__all__ = ["fetch_secret", "read_secret_text"]


def fetch_secret(ref: SecretRef) -> str:
    """The text of the secret ``ref`` points at, read with the function's own identity.

    :raises ConfigError: no installed cloud reads the reference, or its SDK is not installed.
    :raises Exception: whatever the SDK raises (not found, access denied...).
    """
    from hookline.secrets import read_secret

    return read_secret(ref.raw)


def read_secret_text(reference: str) -> str:
    """The text of the secret a reference (as in ``$..._SECRET`` variables) points at: the
    registry's signing key reader (``hookline.registry.open_registry(secret_reader=...)``)."""
    from hookline.adapters.web.keys import parse_secret_ref

    return fetch_secret(parse_secret_ref(reference, env="HOOKLINE_SIGNING_KEY_SECRET"))
