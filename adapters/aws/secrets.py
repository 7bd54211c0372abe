"""Reading a secret from AWS Secrets Manager with the function's own role."""

from __future__ import annotations


def read_secret(secret_id: str) -> str:
    """The text of the secret ``secret_id`` (a name or an ARN)."""
    import boto3

    answer = boto3.client("secretsmanager").get_secret_value(SecretId=secret_id)
    if "SecretString" in answer:
        return str(answer["SecretString"])
    return bytes(answer["SecretBinary"]).decode()
