"""Cold start: importing a back-end or an event parser imports no cloud SDK; the SDK comes
with the first request, and only that cloud's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

SDKS = ("boto3", "botocore", "google.cloud", "google.auth", "azure")

PROBE = """
import json, sys
before = set(sys.modules)
import {module}
{action}
print(json.dumps(sorted(m for m in set(sys.modules) - before)))
"""


def imported(module: str, action: str = "") -> list[str]:
    code = PROBE.format(module=module, action=action)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


def sdk_modules(modules: list[str]) -> set[str]:
    return {
        m.split(".")[0] if m.split(".")[0] != "google" else ".".join(m.split(".")[:2])
        for m in modules
        if m.startswith(SDKS)
    }


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_event_parsers_import_no_sdk(cloud: str) -> None:
    assert sdk_modules(imported(f"hookline.adapters.{cloud}.events")) == set()


@pytest.mark.parametrize(
    ("module", "cls", "uri"),
    [
        ("hookline.adapters.aws.storage", "S3Storage", "s3://b/p"),
        ("hookline.adapters.gcp.storage", "GCSStorage", "gs://b/p"),
        ("hookline.adapters.azure.storage", "AzureBlobStorage", "az://c/p"),
    ],
)
def test_backends_import_their_sdk_only_when_a_client_is_built(
    module: str, cls: str, uri: str
) -> None:
    construct = f"from {module} import {cls}; s = {cls}({uri!r}); s.url('a b')"
    assert sdk_modules(imported(module, construct)) == set()


def test_open_storage_of_s3_pulls_in_only_the_aws_sdk() -> None:
    action = (
        "import os; os.environ.update(AWS_ACCESS_KEY_ID='x', AWS_SECRET_ACCESS_KEY='x', "
        "AWS_DEFAULT_REGION='us-east-1')\n"
        "from hookline.storage import open_storage\n"
        "open_storage('s3://bucket/prefix').client"
    )
    found = sdk_modules(imported("hookline.storage", action))
    assert found == {"boto3", "botocore"}


def test_azure_identity_is_imported_only_without_a_connection_string() -> None:
    conn = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;"
    )
    action = (
        f"import os; os.environ['AZURE_STORAGE_CONNECTION_STRING'] = {conn!r}\n"
        "from hookline.adapters.azure.storage import AzureBlobStorage\n"
        "AzureBlobStorage('az://c').client"
    )
    modules = imported("hookline.storage", action)
    assert "azure.storage.blob" in modules
    assert not [m for m in modules if m.startswith("azure.identity")]
