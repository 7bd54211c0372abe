"""``hookline.secrets.read_secret``: a reference in a cloud's own form is read by the cloud that
recognises it; an unknown one, a malformed one or a missing SDK is a ConfigError that says
what to do. AWS Secrets Manager is read from moto's server over the network; Google Secret
Manager and Azure Key Vault have no local stand-in, so for them the dispatch and the
parsing of the reference are what is tested."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hookline.adapters.aws.secrets import secret_id
from hookline.adapters.azure.secrets import secret_location
from hookline.adapters.cloud import get_cloud
from hookline.adapters.gcp.secrets import resource_name
from hookline.errors import ConfigError
from hookline.secrets import read_secret

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hookline/keys-AbCdEf"


@pytest.mark.parametrize(
    ("ref", "cloud"),
    [
        (ARN, "aws"),
        ("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:k-1", "aws"),
        ("aws-sm://hookline/keys", "aws"),
        ("projects/p1/secrets/keys", "gcp"),
        ("projects/p1/secrets/keys/versions/3", "gcp"),
        ("gcp-sm://projects/p1/secrets/keys", "gcp"),
        ("https://my-vault.vault.azure.net/secrets/api-keys", "azure"),
        ("https://my-vault.vault.azure.cn/secrets/api-keys/0123abcd", "azure"),
        ("azure-kv://my-vault/api-keys", "azure"),
    ],
)
def test_each_reference_is_claimed_by_exactly_its_cloud(ref: str, cloud: str) -> None:
    claims = [name for name in ("aws", "gcp", "azure") if get_cloud(name).claims_secret(ref)]
    assert claims == [cloud]


def test_references_are_read_into_what_each_sdk_takes() -> None:
    assert secret_id(ARN) == (ARN, "eu-west-1")
    assert secret_id("aws-sm://hookline/keys") == ("hookline/keys", None)
    assert resource_name("projects/p/secrets/s") == "projects/p/secrets/s/versions/latest"
    assert resource_name("gcp-sm://projects/p/secrets/s/versions/7") == (
        "projects/p/secrets/s/versions/7"
    )
    assert secret_location("https://v.vault.azure.net/secrets/k/abc") == (
        "https://v.vault.azure.net",
        "k",
        "abc",
    )
    assert secret_location("azure-kv://v/k") == ("https://v.vault.azure.net", "k", None)
    assert secret_location("azure-kv://v.vault.azure.cn/k")[0] == "https://v.vault.azure.cn"


@pytest.mark.parametrize(
    ("ref", "fragment"),
    [
        ("vault://x", "no installed cloud recognises"),
        ("s3://bucket/keys", "no installed cloud recognises"),
        ("", "empty secret reference"),
        ("arn:aws:secretsmanager:eu-west-1:12:secret:x", "malformed Secrets Manager ARN"),
        ("projects/p/secrets", "no installed cloud recognises"),
        ("projects/p/secrets/s/versions", "malformed Google Secret Manager reference"),
        ("azure-kv://vault-only", "malformed Azure Key Vault reference"),
    ],
)
def test_bad_references_are_config_errors_naming_the_forms(ref: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as err:
        read_secret(ref)
    assert fragment in str(err.value)
    if "recognises" in fragment:  # the hint lists what every installed cloud accepts
        assert "arn:aws:secretsmanager" in str(err.value) and "projects/" in str(err.value)


@pytest.mark.parametrize(
    ("ref", "module", "install"),
    [
        (ARN, "boto3", "pip install boto3"),
        ("projects/p/secrets/s", "google.cloud.secretmanager", "google-cloud-secret-manager"),
        ("azure-kv://v/k", "azure.keyvault.secrets", "azure-keyvault-secrets"),
    ],
)
def test_a_missing_sdk_is_named_with_what_to_install(ref: str, module: str, install: str) -> None:
    code = (
        "import sys\n"
        f"sys.modules[{module!r}] = None\n"  # the import fails as if it were not installed
        "from hookline.secrets import read_secret\n"
        "from hookline.errors import ConfigError\n"
        "try:\n"
        f"    read_secret({ref!r})\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert "SDK is not installed" in done.stdout and install in done.stdout, done.stdout


def test_the_core_reads_an_aws_secret_by_its_arn(s3_server: Any) -> None:
    """Secrets Manager on moto's server: the ARN's own region is used, and both text and
    binary secrets come back as text."""
    import boto3

    client = boto3.session.Session().client(
        "secretsmanager", endpoint_url=s3_server.url, region_name="eu-west-1"
    )
    arn = client.create_secret(Name="hookline/api-keys", SecretString='["k1", "k2"]')["ARN"]
    binary = client.create_secret(Name="hookline/signing", SecretBinary=b"s3cr3t")["ARN"]
    assert ":eu-west-1:" in arn
    assert read_secret(arn) == '["k1", "k2"]'  # the default region is us-east-1
    assert read_secret(f"aws-sm://{binary}") == "s3cr3t"
    with pytest.raises(Exception, match="ResourceNotFound"):
        read_secret(arn.replace("api-keys", "nope"))


def test_a_project_signs_with_a_key_kept_in_secrets_manager(
    s3_server: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the Terraform modules deploy: ``$HOOKLINE_SIGNING_KEY_SECRET`` holds the ARN,
    and every command's project (pipeline, CLI, dashboard) reads the key through it."""
    import boto3
    from hookline.project import Project

    client = boto3.session.Session().client(
        "secretsmanager", endpoint_url=s3_server.url, region_name="eu-west-1"
    )
    key = "k" * 48
    arn = client.create_secret(Name="hookline/signing-key", SecretString=key)["ARN"]
    monkeypatch.delenv("HOOKLINE_SIGNING_KEY", raising=False)
    monkeypatch.setenv("HOOKLINE_SIGNING_KEY_SECRET", arn)
    root = str(tmp_path / "root")
    registry = Project.open(storage=root, require_config=False).registry
    mv = registry.register("m", {"model.bin": b"bytes"}, {"run_id": "r1"})
    check = registry.verify("m", mv.version)
    assert check.ok and check.signature == "valid", check
    # the same key read directly verifies it too; another key does not
    monkeypatch.delenv("HOOKLINE_SIGNING_KEY_SECRET")
    monkeypatch.setenv("HOOKLINE_SIGNING_KEY", key)
    assert Project.open(storage=root, require_config=False).registry.verify("m", 1).ok
    monkeypatch.setenv("HOOKLINE_SIGNING_KEY", "o" * 48)
    assert not Project.open(storage=root, require_config=False).registry.verify("m", 1).ok
