"""Reading a secret's text from the cloud it lives in. Each cloud's adapter (and its SDK)
is imported only when a reference to that cloud is resolved, and only then."""

from __future__ import annotations

from hookline.adapters.serving._auth import SecretRef
from hookline.errors import ConfigError

__all__ = ["fetch_secret", "read_secret_text"]

_PACKAGES = {
    "aws-sm": "boto3",
    "gcp-sm": "google-cloud-secret-manager",
    "azure-kv": "azure-keyvault-secrets azure-identity",
}


def fetch_secret(ref: SecretRef) -> str:
    """The text of the secret ``ref`` points at, read with the function's own identity.

    :raises ConfigError: the cloud's SDK is not installed.
    :raises Exception: whatever the SDK raises (not found, access denied...).
    """
    try:
        if ref.scheme == "aws-sm":
            return _aws(ref)
        if ref.scheme == "gcp-sm":
            return _gcp(ref)
        return _azure(ref)
    except ImportError as exc:
        raise ConfigError(
            f"cannot resolve {ref.raw}: the SDK for {ref.scheme} is not installed ({exc})",
            hint=f"pip install {_PACKAGES[ref.scheme]}",
        ) from exc


def _aws(ref: SecretRef) -> str:
    from hookline.adapters.aws.secrets import read_secret

    return read_secret(ref.name)


def _gcp(ref: SecretRef) -> str:
    from hookline.adapters.gcp.secrets import read_secret

    return read_secret(ref.name)


def _azure(ref: SecretRef) -> str:
    from hookline.adapters.azure.secrets import read_secret

    return read_secret(ref.vault or "", ref.name)


def read_secret_text(reference: str) -> str:
    """The text of the secret a reference (as in ``$..._SECRET`` variables) points at."""
    from hookline.adapters.serving._auth import parse_secret_ref

    return fetch_secret(parse_secret_ref(reference, env="HOOKLINE_SIGNING_KEY_SECRET"))
