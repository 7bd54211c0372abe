"""terraform/ against the real provider schemas, at both ends of every version constraint.

The schemas are the committed extracts of tests/terraform/providers/schemas (see
tests/terraform/README.md for why they are committed); the check needs no network.
"""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
import pytest

from .providers import extract
from .providers.check import (
    KINDS,
    Finding,
    check_block,
    check_tree,
    figures,
    load_schema,
    used_paths,
)
from .providers.pins import PINS
from .providers.usage import OPTIONS, TERRAFORM, Block, tf_files, used_types

ENDS = ("low", "high")


@pytest.mark.parametrize("end", ENDS)
def test_no_unknown_missing_or_deprecated_argument(end: str) -> None:
    findings = check_tree(end)
    table = figures(findings)
    summary = ", ".join(
        f"{p.key}: " + "/".join(str(table[p.key][k]) for k in KINDS) for p in PINS if p.end == end
    )
    assert not findings, f"unknown/missing/deprecated {summary}\n" + "\n".join(map(str, findings))


@pytest.mark.parametrize("end", ENDS)
def test_the_deprecation_source_covers_every_argument_used(end: str) -> None:
    """An argument the Pulumi SDK has no counterpart for could be deprecated unseen."""
    for key, paths in used_paths(end).items():
        schema = load_schema(key)
        if schema["packages"]["deprecations"] is None:
            continue
        blind = paths & set(schema["deprecations_not_covered"])
        assert not blind, f"{key}: no deprecation information for {sorted(blind)}"
        unmatched = [t for t, c in schema["pulumi_classes"].items() if c is None]
        assert not unmatched, f"{key}: no Pulumi class for {unmatched}"


def test_every_pin_has_its_extract() -> None:
    committed = {p.stem for p in extract.SCHEMAS.glob("*.json")}
    assert committed == {p.key for p in PINS}, "extracts without a pin, or pins without one"
    for pin in PINS:
        schema = load_schema(pin.key)
        assert schema["format"] == extract.FORMAT
        assert (schema["provider"], schema["version"]) == (pin.provider, pin.version)
        assert schema["packages"]["schema"] == pin.npm
        assert schema["problems"] == [], (pin.key, schema["problems"])


def test_extracts_cover_every_type_terraform_uses() -> None:
    for provider, kinds in used_types().items():
        for pin in (p for p in PINS if p.provider == provider):
            schema = load_schema(pin.key)
            assert kinds["resource"] <= set(schema["resources"]), (
                pin.key,
                kinds["resource"] - set(schema["resources"]),
            )
            assert kinds["data"] <= set(schema["data_sources"]), pin.key


def _constraints() -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in tf_files():
        parsed = hcl2.load(path.open(), serialization_options=OPTIONS)
        for block in parsed.get("terraform", []):
            for entry in block.get("required_providers", []):
                for name, spec in entry.items():
                    if name != "__is_block__":
                        out.setdefault(name, set()).add(spec["version"])
    return out


def _floor(constraint: str) -> tuple[int, ...]:
    match = re.search(r">=\s*([0-9.]+)", constraint)
    assert match, constraint
    return tuple(int(x) for x in match.group(1).split("."))


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split("."))


def test_pins_are_the_ends_of_the_constraints() -> None:
    """Every module and example states the same constraint; its floor is the low pin and the
    high pin is inside it (below the next major)."""
    for provider, constraints in _constraints().items():
        assert len(constraints) == 1, f"{provider}: modules and examples disagree: {constraints}"
        constraint = constraints.pop()
        pins = {p.end: p for p in PINS if p.provider == provider}
        floor = _floor(constraint)
        assert _version(pins["low"].version)[: len(floor)] == floor, (
            provider,
            constraint,
            pins["low"].version,
        )
        upper = re.search(r"<\s*([0-9.]+)", constraint)
        if upper:
            assert _version(pins["high"].version) < _version(upper.group(1)), (provider, constraint)


# --- the checker itself, on the real schemas ----------------------------------------------


def _block(kind: str, type_: str, text: str) -> Block:
    parsed = hcl2.loads(text, serialization_options=OPTIONS)
    named = parsed[kind][0][type_]
    name = next(k for k in named if k != "__is_block__")
    return Block(kind, type_, name, named[name], Path("mutated.tf"))


def _pin(key: str):
    return next(p for p in PINS if p.key == key)


def _kinds(findings: list[Finding]) -> list[tuple[str, str]]:
    return sorted((f.kind, f.path) for f in findings)


PERMISSION = """
resource "aws_lambda_permission" "x" {
  action        = "lambda:InvokeFunction"
  function_name = "f"
  principal     = "*"
  %s
}
"""


def test_checker_reports_an_unknown_argument_with_a_suggestion() -> None:
    bad = _block(
        "resource", "aws_lambda_permission", PERMISSION % "invoked_via_function_urls = true"
    )
    findings = check_block(bad, _pin("aws-6.66.0"))
    assert _kinds(findings) == [("unknown", "invoked_via_function_urls")]
    assert "invoked_via_function_url" in findings[0].message
    good = _block(
        "resource", "aws_lambda_permission", PERMISSION % "invoked_via_function_url = true"
    )
    assert check_block(good, _pin("aws-6.66.0")) == []


def test_checker_reports_missing_required_arguments_and_blocks() -> None:
    text = 'resource "aws_s3_bucket_versioning" "x" {\n  region = "eu-west-1"\n}\n'
    block = _block("resource", "aws_s3_bucket_versioning", text)
    assert _kinds(check_block(block, _pin("aws-6.40.0"))) == [
        ("missing", "bucket"),
        ("missing", "versioning_configuration"),
    ]


KEY_VAULT = """
resource "azurerm_key_vault" "x" {
  name                      = "v"
  location                  = "l"
  resource_group_name       = "g"
  sku_name                  = "standard"
  tenant_id                 = "t"
  enable_rbac_authorization = true
  dynamic "network_acls" {
    for_each = []
    content {
      bypass         = "None"
      default_action = "Deny"
      bogus          = 1
    }
  }
}
"""


def test_checker_reports_deprecated_arguments_and_looks_inside_dynamic_blocks() -> None:
    found = check_block(_block("resource", "azurerm_key_vault", KEY_VAULT), _pin("azurerm-4.73.0"))
    assert _kinds(found) == [
        ("deprecated", "enable_rbac_authorization"),
        ("unknown", "network_acls.bogus"),
    ]
    assert "rbac_authorization_enabled" in found[0].message


def test_checker_reports_a_block_written_as_an_argument() -> None:
    text = (
        'resource "aws_lambda_function_url" "x" {\n  function_name = "f"\n'
        '  authorization_type = "NONE"\n  cors = {}\n}\n'
    )
    found = check_block(_block("resource", "aws_lambda_function_url", text), _pin("aws-6.66.0"))
    assert [f.kind for f in found] == ["unknown"] and "is a block" in found[0].message


def test_checker_reports_unknown_types() -> None:
    block = _block("resource", "aws_lambda_functions", 'resource "aws_lambda_functions" "x" {\n}\n')
    found = check_block(block, _pin("aws-6.66.0"))
    assert [f.kind for f in found] == ["unknown"] and "has no resource type" in found[0].message


def test_the_tree_under_check_is_terraform() -> None:
    assert len(tf_files()) >= 20 and (TERRAFORM / "modules" / "aws" / "functions.tf") in tf_files()


# --- the committed extracts are what the pinned packages give -----------------------------


@pytest.mark.skipif(
    not all(extract.cached(p) for p in PINS),
    reason="the pinned packages are not in .cache/provider-packages "
    "(python -m tests.terraform.providers.extract --fetch-only)",
)
@pytest.mark.timeout(2400)
def test_extracts_are_what_the_pinned_packages_give() -> None:
    assert extract.main(["--check"]) == 0
