"""Reading a secret from Google Secret Manager with the function's service account."""

from __future__ import annotations


def read_secret(resource: str) -> str:
    """The text of ``projects/P/secrets/S/versions/V``."""
    from google.cloud import secretmanager  # type: ignore[attr-defined]

    client = secretmanager.SecretManagerServiceClient()
    return str(client.access_secret_version(name=resource).payload.data.decode())
