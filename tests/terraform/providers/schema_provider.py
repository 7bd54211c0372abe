"""A Terraform provider that only knows its schema: `terraform validate` and mocked `terraform
test` runs need the provider binary for its schema, and nothing else.

Run by Terraform as a plugin, with the interpreter of the virtualenv that holds the ``tf``
package (``tests/terraform/setup_provider.sh``), never imported by the test suite:

    python schema_provider.py SCHEMA.json

SCHEMA.json is an extract written by ``extract.py``. The provider answers GetProviderSchema
from it, accepts every configuration (Terraform itself checks names, types and required
arguments against the schema) and warns about deprecated arguments the way the real
providers do. Planning creates what the configuration says and leaves computed values unknown;
tests use ``mock_provider`` blocks, so nothing is ever applied.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tf import runner
from tf.gen import tfplugin_pb2 as pb
from tf.iface import Config, DataSource, Resource
from tf.utils import Diagnostics

_NESTING_BLOCK = {
    "list": pb.Schema.NestedBlock.NestingMode.LIST,
    "set": pb.Schema.NestedBlock.NestingMode.SET,
    "single": pb.Schema.NestedBlock.NestingMode.SINGLE,
}
_NESTING_ATTR = {
    "list": pb.Schema.Object.NestingMode.LIST,
    "set": pb.Schema.Object.NestingMode.SET,
    "single": pb.Schema.Object.NestingMode.SINGLE,
    "map": pb.Schema.Object.NestingMode.MAP,
}


def _attribute(name: str, spec: dict[str, Any]) -> pb.Schema.Attribute:
    read_only = bool(spec.get("read_only"))
    common = dict(
        name=name,
        required=bool(spec.get("required")),
        optional=not spec.get("required") and not read_only,
        computed=bool(spec.get("computed")),
        deprecated="deprecated" in spec,
        description=spec.get("deprecated", ""),
    )
    if "nested" in spec:
        nested = spec["nested"]
        return pb.Schema.Attribute(
            nested_type=pb.Schema.Object(
                attributes=[_attribute(n, s) for n, s in sorted(nested["attributes"].items())],
                nesting=_NESTING_ATTR[nested["nesting"]],
            ),
            **common,
        )
    return pb.Schema.Attribute(type=json.dumps(spec["type"]).encode(), **common)


def _block(spec: dict[str, Any]) -> pb.Schema.Block:
    return pb.Schema.Block(
        attributes=[_attribute(n, s) for n, s in sorted(spec.get("attributes", {}).items())],
        block_types=[
            pb.Schema.NestedBlock(
                type_name=name,
                block=_block(inner),
                nesting=_NESTING_BLOCK[inner["nesting"]],
                min_items=inner.get("min_items") or 0,
                max_items=inner.get("max_items") or 0,
            )
            for name, inner in sorted(spec.get("blocks", {}).items())
        ],
        deprecated="deprecated" in spec,
    )


class _Schema:
    """What the tf framework asks of a schema: its protobuf form."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.attributes: list[Any] = []
        self.block_types: list[Any] = []

    def to_pb(self) -> pb.Schema:
        return pb.Schema(version=0, block=_block(self.spec))


def _deprecated_in(config: Any, spec: dict[str, Any], path: str = "") -> list[tuple[str, str]]:
    """(path, message) for every deprecated argument or block a configuration sets."""
    if not isinstance(config, dict):
        return []
    out = []
    for name, value in config.items():
        if value is None:
            continue
        where = f"{path}.{name}" if path else name
        item = spec.get("attributes", {}).get(name) or spec.get("blocks", {}).get(name)
        if item is None:
            continue
        if value not in ([], {}) and "deprecated" in item:
            out.append((where, item["deprecated"]))
        if name in spec.get("blocks", {}):
            for element in value if isinstance(value, list) else [value]:
                out += _deprecated_in(element, item, where)
    return out


def _warn_deprecated(
    diags: Diagnostics, type_name: str, config: Config, spec: dict[str, Any]
) -> None:
    for where, message in _deprecated_in(config, spec):
        diags.add_warning(f"Argument is deprecated: {type_name}.{where}", message)


def _resource_class(type_name: str, spec: dict[str, Any]) -> type:
    schema = _Schema(spec)

    class _Resource(Resource):
        def __init__(self, provider: Any) -> None:
            self.provider = provider

        @classmethod
        def get_name(cls) -> str:
            return type_name

        @classmethod
        def get_schema(cls) -> Any:
            return schema

        def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
            _warn_deprecated(diags, type_name, config, spec)

        def create(self, ctx: Any, planned: Any) -> Any:
            return planned

        def read(self, ctx: Any, current: Any) -> Any:
            return current

        def update(self, ctx: Any, current: Any, planned: Any) -> Any:
            return planned

        def delete(self, ctx: Any, current: Any) -> None:
            return None

    return _Resource


def _data_source_class(type_name: str, spec: dict[str, Any]) -> type:
    schema = _Schema(spec)

    class _DataSource(DataSource):
        def __init__(self, provider: Any) -> None:
            self.provider = provider

        @classmethod
        def get_name(cls) -> str:
            return type_name

        @classmethod
        def get_schema(cls) -> Any:
            return schema

        def validate(self, diags: Diagnostics, type_name: str, config: Config) -> None:
            _warn_deprecated(diags, type_name, config, spec)

        def read(self, ctx: Any, config: Any) -> Any:
            return config

    return _DataSource


class SchemaProvider:
    """tf's Provider interface over one extract."""

    def __init__(self, extract: dict[str, Any]) -> None:
        self.extract = extract
        self._resources = [_resource_class(t, s) for t, s in sorted(extract["resources"].items())]
        self._data = [_data_source_class(t, s) for t, s in sorted(extract["data_sources"].items())]

    def get_model_prefix(self) -> str:
        return ""

    def get_provider_schema(self, diags: Diagnostics) -> Any:
        return _Schema(self.extract["provider_schema"])

    def full_name(self) -> str:
        return f"registry.terraform.io/{self.extract['source']}"

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        _warn_deprecated(diags, "provider", config, self.extract["provider_schema"])

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        return None

    def get_data_sources(self) -> list[type]:
        return self._data

    def get_resources(self) -> list[type]:
        return self._resources

    def get_functions(self) -> list[type]:
        return []

    def new_resource(self, klass: Any) -> Any:
        return klass(self)

    def new_data_source(self, klass: Any) -> Any:
        return klass(self)


def main(argv: list[str]) -> None:
    with open(argv[1]) as fh:
        extract = json.load(fh)
    runner.run_provider(SchemaProvider(extract), argv[:1] + argv[2:])  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv)
