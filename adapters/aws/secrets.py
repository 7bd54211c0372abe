"""AWS Secrets Manager references, read with the function's own role.

A reference is the secret's ARN (``arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME``, in
any partition: ``aws``, ``aws-cn``, ``aws-us-gov``), as the Terraform module passes it, or
``aws-sm://ID`` (a name or an ARN). boto3 is imported when a secret is read; an ARN is
read in its own region.
"""

from __future__ import annotations

import re

from hookline.errors import ConfigError

__all__ = ["claims", "read_secret", "secret_id"]

_ARN = re.compile(r"arn:aws(?:-[a-z]+)*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+")
_PREFIX = "aws-sm://"


def claims(ref: str) -> bool:
    """Whether ``ref`` names a Secrets Manager secret (never raises)."""
    return isinstance(ref, str) and (
        ref.startswith(_PREFIX) or bool(re.match(r"arn:aws(?:-[a-z]+)*:secretsmanager:", ref))
    )


def secret_id(ref: str) -> tuple[str, str | None]:
    """``(SecretId, region)`` of a reference; the region is the ARN's, else ``None``.

    :raises ConfigError: an empty id, or an ARN that is not a secret's.
    """
    ident = ref.removeprefix(_PREFIX).strip().strip("/")
    if not ident:
        raise ConfigError(f"secret reference {ref!r} names no secret", hint="aws-sm://NAME")
    if ident.startswith("arn:"):
        match = _ARN.fullmatch(ident)
        if not match:
            raise ConfigError(
                f"malformed Secrets Manager ARN {ident!r}",
                hint="arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME",
            )
        return ident, match.group(1)
    return ident, None


def read_secret(ref: str) -> str:
    """The text of the secret ``ref`` names (its current version).

    :raises ImportError: boto3 is not installed.
    """
    ident, region = secret_id(ref)
    import boto3

    client = boto3.client("secretsmanager", **({"region_name": region} if region else {}))
    answer = client.get_secret_value(SecretId=ident)
    if "SecretString" in answer:
        return str(answer["SecretString"])
    return bytes(answer["SecretBinary"]).decode()
