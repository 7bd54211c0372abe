"""Reading a secret's text from the cloud it lives in, through :func:`hookline.secrets.read_secret`
(which asks the installed cloud packages which one recognises the reference; the cloud's SDK
is imported only then)."""

from __future__ import annotations

from hookline.adapters.serving._auth import SecretRef

__all__ = ["fetch_secret"]


def fetch_secret(ref: SecretRef) -> str:
    """The text of the secret ``ref`` points at, read with the function's own identity.

    :raises ConfigError: no installed cloud reads the reference, or its SDK is not installed.
    :raises Exception: whatever the SDK raises (not found, access denied...).
    """
    from hookline.secrets import read_secret

    return read_secret(ref.raw)
