"""Reading a secret's text from the cloud it lives in. Each cloud's SDK is imported only
when a reference to that cloud is resolved, and only then."""

from __future__ import annotations

from hookline.adapters.serving._auth import SecretRef
from hookline.errors import ConfigError

__all__ = ["fetch_secret"]

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
    import boto3

    answer = boto3.client("secretsmanager").get_secret_value(SecretId=ref.name)
    if "SecretString" in answer:
        return str(answer["SecretString"])
    return bytes(answer["SecretBinary"]).decode()


def _gcp(ref: SecretRef) -> str:
    from google.cloud import secretmanager  # type: ignore[attr-defined]

    client = secretmanager.SecretManagerServiceClient()
    return str(client.access_secret_version(name=ref.name).payload.data.decode())


def _azure(ref: SecretRef) -> str:
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    vault = ref.vault or ""
    url = vault if vault.startswith("https://") else f"https://{vault}.vault.azure.net"
    client = SecretClient(vault_url=url, credential=DefaultAzureCredential())
    return str(client.get_secret(ref.name).value or "")
