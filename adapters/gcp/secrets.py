"""Google Secret Manager references, read with the function's service account.

A reference is the secret's resource name, ``projects/P/secrets/S`` (its latest version) or
``projects/P/secrets/S/versions/V``, as the Terraform module passes it, or the same after
``gcp-sm://``. google-cloud-secret-manager is imported when a secret is read.
"""

from __future__ import annotations

from hookline.errors import ConfigError

__all__ = ["claims", "read_secret", "resource_name"]

_PREFIX = "gcp-sm://"


def claims(ref: str) -> bool:
    """Whether ``ref`` names a Secret Manager secret (never raises)."""
    return isinstance(ref, str) and (
        ref.startswith(_PREFIX) or (ref.startswith("projects/") and "/secrets/" in ref)
    )


def resource_name(ref: str) -> str:
    """``projects/P/secrets/S/versions/V`` of a reference (``latest`` when none is named).

    :raises ConfigError: a malformed resource name.
    """
    parts = ref.removeprefix(_PREFIX).strip().strip("/").split("/")
    if len(parts) == 4:
        parts += ["versions", "latest"]
    if (
        len(parts) != 6
        or parts[0] != "projects"
        or parts[2] != "secrets"
        or parts[4] != "versions"
        or not all(parts)
    ):
        raise ConfigError(
            f"malformed Google Secret Manager reference {ref!r}",
            hint="write it as projects/PROJECT/secrets/SECRET[/versions/VERSION]",
        )
    return "/".join(parts)


def read_secret(ref: str) -> str:
    """The text of the secret version ``ref`` names.

    :raises ImportError: google-cloud-secret-manager is not installed.
    """
    name = resource_name(ref)
    from google.cloud import secretmanager  # type: ignore[attr-defined]

    client = secretmanager.SecretManagerServiceClient()
    return str(client.access_secret_version(name=name).payload.data.decode())
