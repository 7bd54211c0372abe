"""hookline on Azure: Blob Storage, Event Grid and queue messages, the function app, Key Vault.

============  ===================================================================
``events``    Event Grid ``BlobCreated`` (both schemas), queue messages, blob and
              timer triggers -> events (no SDK)
``pipeline``  the pipeline role's functions (``functions/azure_functions/function_app.py``)
``serving``   the serving role: the prediction service as an ``AsgiFunctionApp``
``storage``   ``az://`` storage (azure-storage-blob, imported when a client is needed)
``secrets``   Key Vault references (imported when one is read)
============  ===================================================================

:data:`CLOUD` describes all of it to the rest of hookline (entry point ``hookline.clouds``).
Importing this package imports no Azure SDK.
"""

from __future__ import annotations

import os

from hookline.adapters.azure._samples import SCHEMAS
from hookline.adapters.cloud import Cloud, Packaging, Role, configure_logging

__all__ = ["AZURE", "CLOUD"]

_SITE = ".python_packages/lib/site-packages"


class AZURE(Cloud):
    name = "azure"
    title = "Azure"
    package = "hookline.adapters.azure"
    scheme = "az"
    extra = "azure"
    kinds = SCHEMAS
    sample_option = "schema"
    secret_sdk = "azure-keyvault-secrets azure-identity"
    secret_forms = ("https://VAULT.vault.azure.net/secrets/NAME[/VERSION]", "azure-kv://VAULT/NAME")
    packaging = Packaging(
        functions="azure_functions",
        roles=tuple(
            Role(
                role,
                ("function_app.py", "host.json"),
                "function_app.py",
                env={"HOOKLINE_ROLE": role},
                requirements=("azure-functions",),
            )
            for role in ("pipeline", "serving")
        ),
        site_dir=_SITE,
        prepend_dir=f"/home/site/wwwroot/{_SITE}",
        extras=("azure",),
        runtime="{python}",
        pythons=("3.11", "3.12"),
        architectures=("x86_64",),
        glibc={"*": 31},  # Debian 11 based workers
    )

    def configure_logging(self) -> bool:
        """In the Functions Python worker (``FUNCTIONS_WORKER_RUNTIME`` is set): each line the
        worker sends to the host (Application Insights ``traces``) is the JSON object."""
        return configure_logging(on_platform=bool(os.environ.get("FUNCTIONS_WORKER_RUNTIME")))


CLOUD = AZURE()
