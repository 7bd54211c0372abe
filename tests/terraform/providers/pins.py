"""The provider schemas the modules are checked against: both ends of every version constraint.

Each entry names the Terraform provider version and the registry packages its schema is read
from:

- ``npm``: a CDK for Terraform provider package (``@cdktf/provider-*``, or the ``@cdktn/*`` fork
  that carries releases after the original project stopped), generated from exactly that
  provider version (its ``package.json`` says which: ``cdktf.provider.version``). Its ``.jsii``
  assembly lists every resource and data source with every argument, block and required flag.
- ``pypi``: the Pulumi SDK generated from the same provider's schema, which keeps the
  deprecation messages the assembly drops. Pulumi releases one SDK major per provider major,
  and its releases do not say which provider release they wrap; the release used is the newest
  one that knows no argument (of the types terraform/ uses) the high end lacks, and it serves
  both ends: deprecations only accumulate within a major line, so the low end is checked at
  least as strictly as it would be at its exact version. The extract lists the Pulumi-only
  arguments it saw (``pulumi_only_arguments``) so a too-new pin shows. ``None`` where no such
  SDK is published (time: its schema has no deprecated argument to miss, see the report).

``low`` is the lowest version the constraint in ``terraform/`` allows (and the constraint's floor
is the first release with every argument the modules need: aws 6.40 for
``invoked_via_function_url``, azurerm 4.46 for ``storage_account_id`` on queues). ``high`` is the
newest release the constraint allows that has a published schema package (newer patch releases
may exist; the constraint's upper bound is the next major, which these checks cannot see yet).
Change a constraint, change the pins here, and run ``python -m tests.terraform.providers.extract``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PINS", "Pin"]


@dataclass(frozen=True, slots=True)
class Pin:
    provider: str  # local name, e.g. "aws"
    source: str  # registry address, e.g. "hashicorp/aws"
    end: str  # "low" or "high"
    version: str  # the Terraform provider version
    npm: str  # package@version
    pypi: str | None  # package==version, or None

    @property
    def key(self) -> str:
        return f"{self.provider}-{self.version}"


PINS: tuple[Pin, ...] = (
    Pin(
        "aws", "hashicorp/aws", "low", "6.40.0", "@cdktn/provider-aws@23.7.0", "pulumi-aws==7.51.1"
    ),
    Pin(
        "aws", "hashicorp/aws", "high", "6.66.0", "@cdktn/provider-aws@25.7.0", "pulumi-aws==7.51.1"
    ),
    Pin(
        "google",
        "hashicorp/google",
        "low",
        "5.30.0",
        "@cdktf/provider-google@13.19.0",
        "pulumi-gcp==7.38.0",
    ),
    Pin(
        "google",
        "hashicorp/google",
        "high",
        "6.50.0",
        "@cdktf/provider-google@16.12.1",
        "pulumi-gcp==8.41.1",
    ),
    Pin(
        "azurerm",
        "hashicorp/azurerm",
        "low",
        "4.46.0",
        "@cdktf/provider-azurerm@14.14.0",
        "pulumi-azure==6.38.0",
    ),
    Pin(
        "azurerm",
        "hashicorp/azurerm",
        "high",
        "4.73.0",
        "@cdktn/provider-azurerm@16.1.0",
        "pulumi-azure==6.38.0",
    ),
    Pin("time", "hashicorp/time", "low", "0.9.0", "@cdktf/provider-time@3.0.0", None),
    Pin("time", "hashicorp/time", "high", "0.13.1", "@cdktf/provider-time@11.0.1", None),
)
