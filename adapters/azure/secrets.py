"""Azure Key Vault references, read with the function's managed identity.

A reference is the secret's URI, ``https://VAULT.vault.azure.net/secrets/NAME[/VERSION]``
(any Azure cloud's vault domain), as the Terraform module passes it, or
``azure-kv://VAULT/NAME`` (a vault name, host or URL). azure-keyvault-secrets and
azure-identity are imported when a secret is read.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from hookline.errors import ConfigError

__all__ = ["claims", "read_secret", "secret_location"]

_PREFIX = "azure-kv://"


def claims(ref: str) -> bool:
    """Whether ``ref`` names a Key Vault secret (never raises)."""
    if not isinstance(ref, str):
        return False
    if ref.startswith(_PREFIX):
        return True
    try:
        parts = urlsplit(ref)
    except ValueError:
        return False
    return (
        parts.scheme == "https"
        and ".vault." in (parts.hostname or "")
        and parts.path.startswith("/secrets/")
    )


def secret_location(ref: str) -> tuple[str, str, str | None]:
    """``(vault URL, secret name, version or None)`` of a reference.

    :raises ConfigError: a reference without a vault or a secret name.
    """
    if ref.startswith(_PREFIX):
        rest = ref[len(_PREFIX) :].strip().strip("/")
        vault, _, name = rest.partition("/")
        if rest.startswith("https://"):  # azure-kv://https://HOST/NAME
            host_and_name = rest[len("https://") :]
            vault, _, name = host_and_name.partition("/")
            vault = "https://" + vault
        version = None
    else:
        parts = urlsplit(ref.strip())
        vault = f"https://{parts.netloc}"
        _, _, rest = parts.path.strip("/").partition("/")  # drop "secrets/"
        name, _, version_text = rest.partition("/")
        version = version_text or None
    if not vault or not name or "/" in name:
        raise ConfigError(
            f"malformed Azure Key Vault reference {ref!r}",
            hint="write it as https://VAULT.vault.azure.net/secrets/NAME or azure-kv://VAULT/NAME",
        )
    if vault.startswith("https://"):
        url = vault
    elif "." in vault:
        url = f"https://{vault}"
    else:
        url = f"https://{vault}.vault.azure.net"
    return url, name, version


def read_secret(ref: str) -> str:
    """The text of the secret ``ref`` names (the version it names, else the current one).

    :raises ImportError: azure-keyvault-secrets or azure-identity is not installed.
    """
    url, name, version = secret_location(ref)
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    client = SecretClient(vault_url=url, credential=DefaultAzureCredential())
    return str(client.get_secret(name, version).value or "")
