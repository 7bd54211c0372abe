"""Reading a secret from Azure Key Vault with the function's managed identity."""

from __future__ import annotations


def read_secret(vault: str, name: str) -> str:
    """The text of secret ``name`` in ``vault`` (a vault name, host or URL)."""
    from azure.identity import DefaultAzureCredential
    from azure.keyvault.secrets import SecretClient

    if vault.startswith("https://"):
        url = vault
    elif "." in vault:
        url = f"https://{vault}"
    else:
        url = f"https://{vault}.vault.azure.net"
    client = SecretClient(vault_url=url, credential=DefaultAzureCredential())
    return str(client.get_secret(name).value or "")
