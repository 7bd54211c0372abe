"""Extract compact provider schemas from the pinned registry packages (see pins.py).

    python -m tests.terraform.providers.extract            # fetch (cached), write schemas/*.json
    python -m tests.terraform.providers.extract --check    # compare with the committed files

The packages are fetched with the registries' own clients (``npm pack``, ``pip download``) into
``.cache/provider-packages/`` and never installed or run. For each pinned provider version the
extract holds: every resource and data source type name (so an unknown type is told from one
that is only not extracted), and the full schema of the provider block and of each type that
``terraform/`` uses, with

- argument and block names from the registry-doc anchors of the assembly's docstrings
  (``...docs/resources/lambda_function#function_name``): never a camelCase conversion;
- required / optional from the assembly, computed from the generated code's own
  ``// name - computed: X, optional: Y, required: Z`` lines;
- block nesting (list, set, single, max one) from the generated HCL synthesis;
- deprecation messages from the Pulumi SDK generated from the same provider.

The output is deterministic (sorted keys, no timestamps), so ``--check`` can compare bytes.
"""

from __future__ import annotations

import argparse
import base64
import difflib
import json
import re
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .pins import PINS, Pin
from .usage import REPO, used_types

CACHE = REPO / ".cache" / "provider-packages"
SCHEMAS = Path(__file__).resolve().parent / "schemas"
FORMAT = "hookline.provider-schema/1"

# Registry links, current (registry.terraform.io/.../docs/resources/x#arg) and older
# (terraform.io/docs/providers/p/r/x#arg) forms.
_ANCHOR = re.compile(r"\{@link https?://[^#\s}]+#([A-Za-z0-9_]+) [A-Za-z0-9_]+#[A-Za-z0-9_]+\}")
_LINK_TYPE = re.compile(
    r"\{@link https?://\S+/(resources|data-sources|r|d)/[^\s#}]+ ([a-z0-9_]+)\}"
)
_CLASS = re.compile(r"^(?:export )?class (\w+) extends ", re.M)
_FLAGS = re.compile(
    r"// ([A-Za-z0-9_]+) - computed: (true|false), optional: (true|false), required: (true|false)\n"
    r"(?:[^\n]*\n){0,2}?\s*(?:public )?get (\w+)\(\)"
)
_SOURCE_MAP = "//# sourceMappingURL=data:application/json;base64,"
_HCL_ENTRY = re.compile(
    r"^\s+([A-Za-z0-9_]+): \{\n\s+value: [^\n]*\n\s+isBlock: (true|false),\n\s+type: \"(\w+)\",",
    re.M,
)
_HCL_FUNC = re.compile(r"^function (\w+)ToHclTerraform\(", re.M)


# --- fetching ------------------------------------------------------------------------------


def _npm_file(spec: str) -> Path:
    name, _, version = spec.rpartition("@")
    return CACHE / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"


def _pypi_file(spec: str) -> Path:
    name, _, version = spec.partition("==")
    return CACHE / f"{name.replace('-', '_')}-{version}-py3-none-any.whl"


def cached(pin: Pin) -> bool:
    """Whether every package of a pin is in the cache already."""
    return _npm_file(pin.npm).is_file() and (pin.pypi is None or _pypi_file(pin.pypi).is_file())


def fetch(pin: Pin) -> tuple[Path, Path | None]:
    """Download the pin's packages into the cache (once) and return their paths."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tgz = _npm_file(pin.npm)
    if not tgz.is_file():
        subprocess.run(
            ["npm", "pack", pin.npm, "--pack-destination", str(CACHE), "--silent"],
            check=True,
            capture_output=True,
            text=True,
        )
    wheel = None
    if pin.pypi:
        wheel = _pypi_file(pin.pypi)
        if not wheel.is_file():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--no-deps",
                    "-q",
                    "-d",
                    str(CACHE),
                    pin.pypi,
                ],
                check=True,
                capture_output=True,
                text=True,
            )
    return tgz, wheel


# --- the assembly and the generated code -----------------------------------------------------


def _name_of(prop: dict[str, Any]) -> str | None:
    docs = prop.get("docs", {})
    match = _ANCHOR.search(f"{docs.get('summary', '')} {docs.get('remarks', '')}")
    return match.group(1) if match else None


def _is_block(prop: dict[str, Any]) -> bool:
    return str(prop.get("docs", {}).get("summary", "")).endswith(" block.")


def _strip_resolvable(t: dict[str, Any]) -> dict[str, Any]:
    if "union" in t:
        rest = [
            x for x in t["union"]["types"] if not str(x.get("fqn", "")).endswith(".IResolvable")
        ]
        if len(rest) == 1:
            return _strip_resolvable(rest[0])
    return t


@dataclass
class _Code:
    """What the generated JavaScript of one module file says."""

    # class -> hcl name -> (computed, optional, required, js getter)
    flags: dict[str, dict[str, tuple[bool, bool, bool, str]]] = field(default_factory=dict)
    # struct or resource class -> hcl name -> (is_block, "list"|"set"|"struct"|"simple"|"map")
    hcl: dict[str, dict[str, tuple[bool, str]]] = field(default_factory=dict)


def _typescript(js: str) -> str:
    """The TypeScript source inlined in a generated file's source map ("" when absent).

    Newer packages strip the generator's comments from the JavaScript; the source keeps them.
    """
    at = js.rfind(_SOURCE_MAP)
    if at < 0:
        return ""
    try:
        mapping = json.loads(base64.b64decode(js[at + len(_SOURCE_MAP) :].strip()))
    except ValueError:
        return ""
    return "\n".join(s for s in mapping.get("sourcesContent") or [] if s)


def _parse_code(text: str) -> _Code:
    code = _Code()
    source = _typescript(text) if "computed: " not in text.split(_SOURCE_MAP, 1)[0] else ""
    flag_text = source or text
    flag_starts = [(m.start(), m.group(1)) for m in _CLASS.finditer(flag_text)]
    starts = [(m.start(), m.group(1)) for m in _CLASS.finditer(text)]
    funcs = [(m.start(), m.group(1)) for m in _HCL_FUNC.finditer(text)]

    def owner(pos: int, marks: list[tuple[int, str]]) -> str | None:
        name = None
        for start, n in marks:
            if start > pos:
                break
            name = n
        return name

    for m in _FLAGS.finditer(flag_text):
        cls = owner(m.start(), flag_starts)
        if cls:
            code.flags.setdefault(cls, {})[m.group(1)] = (
                m.group(2) == "true",
                m.group(3) == "true",
                m.group(4) == "true",
                m.group(5),
            )
    marks = sorted(
        [(p, "F:" + n) for p, n in funcs] + [(p, "C:" + n) for p, n in starts], key=lambda x: x[0]
    )
    for m in _HCL_ENTRY.finditer(text):
        mark = owner(m.start(), marks)
        if not mark:
            continue
        kind, name = mark.split(":", 1)
        key = (name[0].upper() + name[1:]) if kind == "F" else name
        code.hcl.setdefault(key, {})[m.group(1)] = (m.group(2) == "true", m.group(3))
    return code


class Assembly:
    """A provider package: its .jsii types and, per module file, its generated code."""

    def __init__(self, tgz: Path) -> None:
        self.tgz = tgz
        with tarfile.open(tgz) as tar:
            member = tar.extractfile("package/.jsii")
            assert member is not None
            data = json.load(member)
            self.types: dict[str, Any] = data["types"]
            self.package = f"{data['name']}@{data['version']}"
            manifest = tar.extractfile("package/package.json")
            assert manifest is not None
            # The provider version the package was generated from.
            self.provider_version = (
                json.load(manifest).get("cdktf", {}).get("provider", {}).get("version")
            )
            self._files = {m.name for m in tar.getmembers() if m.name.endswith("/index.js")}
        self._code: dict[str, _Code] = {}
        self.resources: dict[str, str] = {}
        self.data_sources: dict[str, str] = {}
        self.provider_class: str | None = None
        for fqn, t in self.types.items():
            base = str(t.get("base", ""))
            if t.get("kind") != "class":
                continue
            if base.endswith(".TerraformProvider"):
                self.provider_class = fqn
                continue
            if not base.endswith((".TerraformResource", ".TerraformDataSource")):
                continue
            match = _LINK_TYPE.search(t.get("docs", {}).get("summary", ""))
            if match:
                target = (
                    self.resources if match.group(1) in ("resources", "r") else self.data_sources
                )
                target[match.group(2)] = fqn

    def code_of(self, fqn: str) -> _Code:
        filename = self.types[fqn]["locationInModule"]["filename"]  # src/x/index.ts
        js = "package/" + filename.replace("src/", "lib/", 1).rsplit(".", 1)[0] + ".js"
        if js not in self._code:
            text = ""
            if js in self._files:
                with tarfile.open(self.tgz) as tar:
                    member = tar.extractfile(js)
                    text = member.read().decode() if member else ""
            self._code[js] = _parse_code(text)
        return self._code[js]

    def config_of(self, cls_fqn: str) -> str:
        params = self.types[cls_fqn]["initializer"]["parameters"]
        return next(p["type"]["fqn"] for p in params if p["name"] == "config")

    # --- types -----------------------------------------------------------------------------

    def _getter_type(self, t: dict[str, Any], depth: int = 0) -> Any:
        """cty type of a computed getter (primitive, collection, map or nested object list)."""
        t = _strip_resolvable(t)
        if "primitive" in t:
            return {"string": "string", "number": "number", "boolean": "bool"}.get(
                t["primitive"], "dynamic"
            )
        if "collection" in t:
            kind = "list" if t["collection"]["kind"] == "array" else "map"
            return [kind, self._getter_type(t["collection"]["elementtype"], depth + 1)]
        fqn = str(t.get("fqn", ""))
        simple = {
            "StringMap": ["map", "string"],
            "NumberMap": ["map", "number"],
            "BooleanMap": ["map", "bool"],
            "AnyMap": ["map", "dynamic"],
            "StringMapList": ["list", ["map", "string"]],
            "NumberMapList": ["list", ["map", "number"]],
            "BooleanMapList": ["list", ["map", "bool"]],
            "AnyMapList": ["list", ["map", "dynamic"]],
        }
        short = fqn.rsplit(".", 1)[-1]
        if short in simple and fqn.startswith(("cdktf.", "cdktn.")):
            return simple[short]
        if depth > 6 or fqn not in self.types:
            return "dynamic"
        if short.endswith("OutputReference"):
            return ["object", self._object_attrs(fqn, depth + 1)]
        if short.endswith("List"):
            ref = fqn[: -len("List")] + "OutputReference"
            if ref in self.types:
                return ["list", ["object", self._object_attrs(ref, depth + 1)]]
        if short.endswith("Map"):
            ref = fqn[: -len("Map")] + "OutputReference"
            if ref in self.types:
                return ["map", ["object", self._object_attrs(ref, depth + 1)]]
        return "dynamic"

    def _object_attrs(self, ref_fqn: str, depth: int) -> dict[str, Any]:
        cls = ref_fqn.rsplit(".", 1)[-1]
        flags = self.code_of(ref_fqn).flags.get(cls, {})
        props = {
            p["name"]: p for p in self.types[ref_fqn].get("properties", []) if not p.get("static")
        }
        out = {}
        for hcl_name, (_, _, _, js) in sorted(flags.items()):
            if js in props:
                out[hcl_name] = self._getter_type(props[js]["type"], depth)
        return out

    # --- blocks ------------------------------------------------------------------------------

    def block(
        self, struct_fqn: str, owner_fqn: str, problems: list[str], path: str, top: bool = False
    ) -> dict[str, Any]:
        """Schema of one block: the struct's properties (arguments) and the owner's getters."""
        struct = self.types[struct_fqn]
        code = self.code_of(struct_fqn)
        struct_name = struct_fqn.rsplit(".", 1)[-1]
        owner_name = owner_fqn.rsplit(".", 1)[-1]
        hcl_of = code.hcl.get(struct_name) or code.hcl.get(owner_name) or {}
        flags = code.flags.get(owner_name, {})
        attributes: dict[str, Any] = {}
        blocks: dict[str, Any] = {}
        for prop in struct.get("properties", []):
            name = _name_of(prop)
            if prop["name"] == "alias" and owner_fqn == self.provider_class:
                continue  # the provider's `alias` is Terraform's own meta-argument
            if name is None:
                problems.append(f"{path}: no registry anchor for {prop['name']}")
                continue
            optional = bool(prop.get("optional"))
            t = _strip_resolvable(prop["type"])
            # The generated JavaScript keeps the computed flag only where a statement follows
            # it (computed-only getters, blocks); a type's own `id` is always computed.
            computed = flags.get(name, (False,))[0] or (name == "id" and top and optional)
            nested_fqn, many = None, False
            if "fqn" in t and self.types.get(t["fqn"], {}).get("datatype"):
                nested_fqn = t["fqn"]
            elif "collection" in t and t["collection"]["kind"] == "array":
                el = _strip_resolvable(t["collection"]["elementtype"])
                if "fqn" in el and self.types.get(el["fqn"], {}).get("datatype"):
                    nested_fqn, many = el["fqn"], True
            if nested_fqn is None:
                cty = self._getter_type(t)
                if hcl_of.get(name, (False, ""))[1] == "set" and isinstance(cty, list):
                    cty = ["set", cty[1]]
                attributes[name] = {"type": cty, "required": not optional, "computed": computed}
                continue
            ref = nested_fqn + "OutputReference"
            inner = self.block(
                nested_fqn, ref if ref in self.types else nested_fqn, problems, f"{path}.{name}"
            )
            is_block, kind = hcl_of.get(name, (_is_block(prop), "list"))
            if not is_block and not _is_block(prop):
                nesting = "set" if kind == "set" else ("list" if many else "single")
                attributes[name] = {
                    "nested": {"nesting": nesting, **inner},
                    "required": not optional,
                    "computed": computed,
                }
                continue
            if kind == "struct":
                nesting, max_items = "single", None
            elif kind == "set":
                nesting, max_items = "set", None
            else:
                nesting, max_items = "list", (None if many else 1)
            blocks[name] = {
                "nesting": nesting,
                "min_items": 0 if optional else 1,
                "max_items": max_items,
                **inner,
            }
        # Computed-only attributes: getters with no argument behind them.
        owner_props = {
            p["name"]: p
            for p in self.types.get(owner_fqn, {}).get("properties", [])
            if not p.get("static")
        }
        for name, (computed, optional, required, js) in sorted(flags.items()):
            if not computed or optional or required or name in attributes or name in blocks:
                continue
            if js in owner_props:
                attributes[name] = {
                    "type": self._getter_type(owner_props[js]["type"]),
                    "required": False,
                    "computed": True,
                    "read_only": True,
                }
        return {"attributes": attributes, "blocks": blocks}

    def type_schema(self, cls_fqn: str, problems: list[str], path: str) -> dict[str, Any]:
        return self.block(self.config_of(cls_fqn), cls_fqn, problems, path, top=True)


# --- Pulumi deprecations ---------------------------------------------------------------------

_PY_CLASS = re.compile(r"^class (\w+)(?:\(([^)]*)\))?:", re.M)
_PY_PROPERTY = re.compile(r"\n[ \t]*@(?:_builtins\.)?property\n")
_PY_DEF = re.compile(r"def (\w+)\(self\) -> ([^\n]+):")
_PY_DEPRECATED = re.compile(r'@_utilities\.deprecated\("""(.*?)"""\)', re.S)
_NESTED = re.compile(r"'(?:outputs\.)?(\w+(?:Args|Result))'")
_PULUMI_RENAME = re.compile(r"^[\w.]+ has been deprecated in favor of [\w.]+$")
_RESOURCE_WARN = re.compile(r'pulumi\.log\.warn\("""(\w+) is deprecated: (.*?)"""\)', re.S)


def _plurals(name: str) -> list[str]:
    out = [name, name + "s"]
    if name.endswith("y"):
        out.append(name[:-1] + "ies")
    if name.endswith(("s", "x", "ch", "sh")):
        out.append(name + "es")
    return out


class PulumiSdk:
    """The classes of a Pulumi Python SDK wheel, read as text (never imported)."""

    def __init__(self, wheel: Path) -> None:
        self.zip = zipfile.ZipFile(wheel)
        self.package = wheel.name.split("-py3")[0].replace("_", "-").replace("-", "==", 1)
        self.package = self.package.replace("pulumi==", "pulumi-", 1)
        self.root = wheel.name.split("-")[0]
        self.files = [
            n
            for n in self.zip.namelist()
            if n.startswith(self.root + "/") and n.endswith(".py") and n.count("/") in (1, 2)
        ]
        self._classes: dict[str, dict[str, str]] = {}

    def classes(self, path: str) -> dict[str, str]:
        """class name -> class body text of one module file."""
        if path not in self._classes:
            try:
                text = self.zip.read(path).decode()
            except KeyError:
                text = ""
            found = list(_PY_CLASS.finditer(text))
            out = {}
            for i, m in enumerate(found):
                end = found[i + 1].start() if i + 1 < len(found) else len(text)
                out[m.group(1)] = text[m.start() : end]
            self._classes[path] = out
        return self._classes[path]

    @staticmethod
    def props(body: str) -> dict[str, tuple[str | None, str]]:
        """python name -> (deprecation message or None, annotation) of a class's properties."""
        out: dict[str, tuple[str | None, str]] = {}
        for chunk in _PY_PROPERTY.split(body)[1:]:
            define = _PY_DEF.search(chunk)
            if not define or "@pulumi.getter" not in chunk[: define.start()]:
                continue
            deprecated = _PY_DEPRECATED.search(chunk[: define.start()])
            out[define.group(1)] = (deprecated.group(1) if deprecated else None, define.group(2))
        return out

    def candidates(self, rest: str, data: bool) -> list[tuple[float, str]]:
        """The module files whose names are closest to a type name: (score, path), best first."""
        scored = []
        for path in self.files:
            parts = path.split("/")
            module, file = (parts[1] if len(parts) == 3 else ""), parts[-1][:-3]
            if file.startswith("_") or file in ("outputs", "config"):
                continue
            if data != file.startswith("get_"):
                continue
            stem = file[4:] if data else file
            joined = f"{module.rstrip('_')}_{stem}" if module else stem
            score = max(
                difflib.SequenceMatcher(None, rest, joined).ratio(),
                difflib.SequenceMatcher(None, rest, stem).ratio() - 0.05,
                1.0 if stem == rest or joined == rest else 0.0,
            )
            scored.append((score, path))
        return sorted(scored, reverse=True)[:6]

    def top_class(self, path: str, data: bool) -> tuple[str, str] | None:
        """(args or result class body, resource class body) of a module file."""
        classes = self.classes(path)
        if data:
            result = next(
                (n for n in classes if n.startswith("Get") and n.endswith("Result")), None
            )
            return (classes[result], "") if result else None
        resource = next(
            (n for n, b in classes.items() if "pulumi.CustomResource" in b.split("\n", 1)[0]), None
        )
        for args in (f"{resource}Args", f"{resource}InitArgs"):
            if resource and args in classes:
                return classes[args], classes[resource]
        return None

    def nested(self, path: str, ann: str) -> str | None:
        """Body of the nested input/output class an annotation names, in the same module."""
        match = _NESTED.search(ann)
        if not match:
            return None
        module = path.rsplit("/", 1)[0]
        for file in ("_inputs.py", "outputs.py"):
            body = self.classes(f"{module}/{file}").get(match.group(1))
            if body:
                return body
        return None


def _pulumi_name(name: str, props: Any) -> str | None:
    """The Pulumi property of a Terraform argument: the same name, its plural (list blocks),
    or ``name`` for the resource's own ``<thing>_name`` (``function_name``, ``alarm_name``)."""
    for candidate in _plurals(name):
        if candidate in props:
            return candidate
    if name.endswith("_name"):
        if name[:-5] in props:
            return name[:-5]
        if "name" in props:
            return "name"
    return None


def _arg_names(schema: dict[str, Any]) -> set[str]:
    names = {n for n, a in schema["attributes"].items() if not a.get("read_only")}
    return (names | set(schema["blocks"])) - {"id", "timeouts", "region"}


def _annotate(
    sdk: PulumiSdk, path: str, body: str, schema: dict[str, Any], where: str, unmapped: list[str]
) -> None:
    """Copy deprecation messages from a Pulumi class onto a block schema, recursively."""
    props = sdk.props(body)
    for kind in ("attributes", "blocks"):
        for name, item in schema[kind].items():
            if item.get("read_only") or name in ("id", "timeouts"):
                continue
            py = _pulumi_name(name, props)
            if py is None:
                unmapped.append(f"{where}.{name}")
                continue
            msg, ann = props[py]
            if msg:
                item["deprecated"] = " ".join(msg.split())
            inner = item if kind == "blocks" else item.get("nested")
            if inner is not None:
                nested_body = sdk.nested(path, ann)
                if nested_body:
                    _annotate(sdk, path, nested_body, inner, f"{where}.{name}", unmapped)


def deprecations(
    sdk: PulumiSdk, type_: str, schema: dict[str, Any], data: bool, unmapped: list[str]
) -> dict[str, Any]:
    """Find the Pulumi class of a type and annotate its schema; returns what was matched."""
    rest = type_.split("_", 1)[1]
    want = _arg_names(schema)
    best: tuple[tuple[float, bool, float], str, str, str] | None = None
    for name_score, path in sdk.candidates(rest, data):
        found = sdk.top_class(path, data)
        if not found:
            continue
        names = set(sdk.props(found[0]))
        covered = sum(1 for n in want if _pulumi_name(n, names))
        # Arguments decide; among equals a class that is not a Pulumi alias, then the name.
        alias = any(
            _PULUMI_RENAME.match(" ".join(w.group(2).split()))
            for w in _RESOURCE_WARN.finditer(found[1])
        )
        score = (round(covered / len(want), 2) if want else 1.0, not alias, name_score)
        if best is None or score > best[0]:
            best = (score, path, found[0], found[1])
    if best is None or best[0][0] < 0.6 or best[0][2] < 0.5:
        unmapped.append(f"{type_} (no Pulumi class matches)")
        return {"pulumi": None, "extra": []}
    _, path, body, resource_body = best
    _annotate(sdk, path, body, schema, type_, unmapped)
    tf_names = set(schema["attributes"]) | set(schema["blocks"])
    extra = sorted(
        n
        for n in sdk.props(body)
        if not any(_pulumi_name(t, {n}) for t in tf_names) and n != "name"
    )
    for warn in _RESOURCE_WARN.finditer(resource_body):
        message = " ".join(warn.group(2).split())
        # The class itself, not one of its arguments; and not Pulumi's own renames of its
        # classes ("azure.msi.X has been deprecated in favor of azure.authorization.X").
        if warn.group(1)[0].isupper() and not _PULUMI_RENAME.match(message):
            schema["deprecated"] = message
    return {"pulumi": path, "extra": extra}


# --- the extract -----------------------------------------------------------------------------


def extract(pin: Pin, used: dict[str, dict[str, set[str]]]) -> dict[str, Any]:
    tgz, wheel = fetch(pin)
    asm = Assembly(tgz)
    if asm.provider_version != pin.version:
        raise SystemExit(
            f"{pin.npm} was generated from {pin.provider} {asm.provider_version}, "
            f"not {pin.version}: fix pins.py"
        )
    sdk = PulumiSdk(wheel) if wheel else None
    problems: list[str] = []
    unmapped: list[str] = []
    want = used.get(pin.provider, {"resource": set(), "data": set()})
    out: dict[str, Any] = {
        "format": FORMAT,
        "provider": pin.provider,
        "source": pin.source,
        "version": pin.version,
        "packages": {"schema": asm.package, "deprecations": sdk.package if sdk else None},
        "resource_types": sorted(asm.resources),
        "data_source_types": sorted(asm.data_sources),
        "resources": {},
        "data_sources": {},
        "pulumi_classes": {},
        "pulumi_only_arguments": {},
    }
    assert asm.provider_class, f"{pin.npm}: no provider class"
    out["provider_schema"] = asm.type_schema(asm.provider_class, problems, pin.provider)
    for kind, table, key in (
        ("resource", asm.resources, "resources"),
        ("data", asm.data_sources, "data_sources"),
    ):
        for type_ in sorted(want[kind]):
            if type_ not in table:
                continue  # the checker reports it as unknown
            schema = asm.type_schema(table[type_], problems, type_)
            if sdk:
                match = deprecations(sdk, type_, schema, kind == "data", unmapped)
                out["pulumi_classes"][f"{kind}.{type_}"] = match["pulumi"]
                if match["extra"]:
                    out["pulumi_only_arguments"][f"{kind}.{type_}"] = match["extra"]
            out[key][type_] = schema
    out["problems"] = sorted(problems)
    out["deprecations_not_covered"] = sorted(unmapped)
    return out


def render(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=1, sort_keys=True) + "\n"


def schema_path(pin: Pin) -> Path:
    return SCHEMAS / f"{pin.key}.json"


def pins_for(selected: list[str]) -> Iterator[Pin]:
    for pin in PINS:
        if not selected or pin.provider in selected or pin.key in selected:
            yield pin


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("only", nargs="*", help="providers or provider-version keys (default: all)")
    parser.add_argument("--check", action="store_true", help="compare with the committed extracts")
    parser.add_argument("--fetch-only", action="store_true", help="only download into the cache")
    args = parser.parse_args(argv)
    used = used_types()
    stale = []
    for pin in pins_for(args.only):
        if args.fetch_only:
            fetch(pin)
            continue
        text = render(extract(pin, used))
        target = schema_path(pin)
        if args.check:
            if not target.is_file() or target.read_text() != text:
                stale.append(str(target.relative_to(REPO)))
        else:
            SCHEMAS.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            print(f"wrote {target.relative_to(REPO)}")
    if stale:
        print("stale (run python -m tests.terraform.providers.extract):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
