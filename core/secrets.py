"""Reading a secret's text from the cloud that holds it.

A deployment names its secrets in each cloud's own form, the way the Terraform modules pass
them (``<NAME>_SECRET`` beside the plain ``<NAME>`` variable):

* AWS Secrets Manager: the secret's ARN, ``arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME``
  (or ``aws-sm://NAME``);
* Google Secret Manager: ``projects/P/secrets/S[/versions/V]`` (or ``gcp-sm://...``);
* Azure Key Vault: the secret's URI, ``https://VAULT.vault.azure.net/secrets/NAME[/VERSION]``
  (or ``azure-kv://VAULT/NAME``).

:func:`read_secret` asks the installed clouds (:mod:`hookline.clouds`) which one recognises
the reference and lets that cloud's package read it, with its SDK imported only then. The
core imports no cloud SDK (an import-linter contract keeps it so).
"""

from __future__ import annotations

from hookline.clouds import broken, installed
from hookline.errors import ConfigError

__all__ = ["read_secret"]


def read_secret(ref: str) -> str:
    """The text of the secret ``ref`` names, read with the process's own identity.

    :raises ConfigError: no installed cloud recognises the reference (the message lists the
        forms that are recognised), the reference is malformed, or the cloud's SDK is not
        installed (the hint says what to install).
    :raises Exception: what the SDK raises when reading fails (not found, access denied).
    """
    text = ref.strip() if isinstance(ref, str) else ""
    if not text:
        raise ConfigError("an empty secret reference", hint=_forms_hint())
    for name, cloud in installed().items():
        try:
            claimed = bool(cloud.claims_secret(text))
        except Exception:  # a descriptor must not break the others
            claimed = False
        if not claimed:
            continue
        try:
            return str(cloud.read_secret(text))
        except ImportError as exc:
            raise ConfigError(
                f"cannot read secret {text}: the {name} SDK is not installed ({exc})",
                hint=f"pip install {cloud.secret_sdk}",
            ) from exc
    shown = text if len(text) <= 200 else text[:200] + "..."
    raise ConfigError(
        f"no installed cloud recognises the secret reference {shown!r}", hint=_forms_hint()
    )


def _forms_hint() -> str:
    forms = [form for cloud in installed().values() for form in cloud.secret_forms]
    hint = "write it as " + " or ".join(forms) if forms else "no cloud package is installed"
    failed = broken()
    if failed:
        hint += "; could not load: " + "; ".join(f"{n} ({e})" for n, e in failed.items())
    return hint
