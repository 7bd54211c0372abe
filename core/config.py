"""``hookline.toml``: loading and validation.

One file per project: the storage root, the named pipelines with their triggers and stages,
and one table per plugin. A bad file gets a :class:`~hookline.errors.ConfigError` naming
the key by its dotted path and what was expected (exit code 2 from the CLI).

Environment overrides, so one file runs unchanged on a laptop and in every cloud:
``HOOKLINE_CONFIG`` (path or URI of the file) and ``HOOKLINE_STORAGE`` (the storage root).

The core declares its own sections (``[project]``, ``[limits]``, ``[runs]``,
``[registry]``); an adapter declares its section (``[serving]``, ``[ui]``) the way a plugin
declares ``CONFIG``: a mapping of :class:`Option` published under the entry-point group
``hookline.config``, so the core validates every section without knowing its owner.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hookline.errors import ConfigError, UsageError
from hookline.hookspecs import STAGES
from hookline.layout import OUTPUT_PREFIXES, check_name  # the pipeline writes only under these
from hookline.window import Window, parse_window

if TYPE_CHECKING:
    from hookline.compute import ComputeConfig

__all__ = [
    "OUTPUT_PREFIXES",
    "SECTIONS_ENTRY_POINT_GROUP",
    "Config",
    "Option",
    "PipelineConfig",
    "Trigger",
    "find_config",
    "json_schema",
    "load_config",
    "parse_config",
    "section_schemas",
    "storage_only_config",
]

CONFIG_FILE = "hookline.toml"
ENV_CONFIG = "HOOKLINE_CONFIG"
ENV_STORAGE = "HOOKLINE_STORAGE"
SECTIONS_ENTRY_POINT_GROUP = "hookline.config"


# --- a small declarative schema ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Option:
    """One configuration key: its type(s), default, and what it means.

    Plugins may declare ``CONFIG = {"key": Option(...), ...}`` at module level; hookline then
    validates their ``[plugins.NAME]`` table on load.
    """

    types: type | tuple[type, ...]
    default: Any = None
    help: str = ""
    required: bool = False
    choices: tuple[Any, ...] | None = None
    check: Callable[[Any, str, str | None], None] | None = None
    """Further validation of a value of the right type, called with the value, its dotted
    key and the file it came from; raises :class:`ConfigError` naming the key."""

    def describe(self) -> str:
        types = self.types if isinstance(self.types, tuple) else (self.types,)
        names = " or ".join(_TYPE_NAMES.get(t, t.__name__) for t in types)
        return f"{names} (one of {', '.join(map(repr, self.choices))})" if self.choices else names


_TYPE_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "an array",
    dict: "a table",
}


def _shown(value: Any, limit: int = 80) -> str:
    """``repr(value)``, cut to ``limit`` characters: errors never echo a huge value whole."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}... ({len(text):,} characters)"


def _close_matches(word: str, candidates: Any, n: int = 1) -> list[str]:
    from hookline._suggest import close_matches  # only on the error path

    return close_matches(word, list(candidates), n=n)


def _check_value(value: Any, opt: Option, key: str, source: str | None) -> Any:
    types = opt.types if isinstance(opt.types, tuple) else (opt.types,)
    ok = isinstance(value, types) and not (isinstance(value, bool) and bool not in types)
    if not ok and float in types and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise ConfigError(
            f"expected {opt.describe()}, got {type(value).__name__} {_shown(value)}",
            key=key,
            source=source,
        )
    if opt.choices is not None and value not in opt.choices:
        choices = [str(c) for c in opt.choices]
        guess = _close_matches(value, choices) if isinstance(value, str) else []
        raise ConfigError(
            f"expected one of {', '.join(map(repr, opt.choices))}, got {_shown(value)}"
            + (f" (did you mean {guess[0]!r}?)" if guess else ""),
            key=key,
            source=source,
        )
    if opt.check is not None:
        opt.check(value, key, source)
    return value


def check_table(
    table: Any, schema: Mapping[str, Option], path: str, source: str | None = None
) -> dict[str, Any]:
    """Validate ``table`` against ``schema``; return it with defaults filled in."""
    if not isinstance(table, dict):
        raise ConfigError(f"expected a table, got {type(table).__name__}", key=path, source=source)
    for key in table:
        if key not in schema:
            guess = _close_matches(key, list(schema), n=1)
            raise ConfigError(
                f"unknown key {_shown(key)}" + (f" (did you mean {guess[0]!r}?)" if guess else ""),
                key=f"{path}.{key}" if path else key,
                source=source,
                hint=f"allowed keys here: {', '.join(sorted(schema))}",
            )
    out: dict[str, Any] = {}
    for key, opt in schema.items():
        dotted = f"{path}.{key}" if path else key
        if key in table:
            out[key] = _check_value(table[key], opt, dotted, source)
        elif opt.required:
            raise ConfigError(
                f"missing required key ({opt.help or opt.describe()})", key=dotted, source=source
            )
        else:
            out[key] = opt.default
    return out


PROJECT = {
    "name": Option(str, "hookline", "project name, shown in run records and the dashboard"),
    "storage": Option(
        str, ".hookline", "storage root URI or path (relative to this file); $HOOKLINE_STORAGE wins"
    ),
    "plugins": Option(list, None, "pin the plugins to load by name; $HOOKLINE_PLUGINS wins"),
    "description": Option(str, ""),
}
LIMITS = {
    "max_upload_bytes": Option(
        int, 512 * 1024 * 1024, "uploads larger than this fail without being read"
    ),
    "skip_empty_objects": Option(
        bool, True, "ignore zero-byte objects (placeholders some writers create)"
    ),
}
RUNS = {
    "claim_timeout_seconds": Option(
        int,
        900,
        "after this, a run left unfinished by a crashed "
        "invocation is restarted by the next delivery",
    ),
}
TRIGGER = {
    "prefix": Option(
        str, required=True, help="key prefix under the storage root, e.g. 'landing/train/'"
    ),
    "suffix": Option((str, list), None, "only keys ending with this (or one of these)"),
    "source": Option(
        str,
        None,
        "URI of the bucket/folder uploads land in, when it is not the "
        "storage root (hybrid set-ups)",
    ),
}
PIPELINE = {
    "model": Option(str, required=True, help="the registered model's name"),
    "stages": Option(list, required=True, help=f"a subsequence of {list(STAGES)}"),
    "trigger": Option(dict, None, "where uploads for this pipeline land"),
    "schedule": Option(
        str,
        None,
        "run on a schedule instead of (or as well as) uploads; "
        "the cloud modules turn it into their scheduler",
    ),
    "alias": Option(str, "production", "the alias a successful run moves"),
    "window": Option(
        (str, dict),
        None,
        "a training pipeline learns from more than the upload: { uploads = N } (this one and "
        'the N-1 before it), { days = N }, or "all"; unset: the upload alone',
    ),
    "skip_unchanged": Option(
        bool,
        True,
        "a training run on exactly the data a version was already trained on (same bytes, "
        "same configuration) registers nothing; false: every upload trains",
    ),
    "description": Option(str, ""),
    "plugins": Option(dict, {}, "per-pipeline overrides of [plugins.*] tables"),
    "compute": Option(
        dict,
        None,
        "run the pipeline as a container job or training job when a function is not "
        "enough (backend, when, ...; see docs/scaling.md)",
    ),
}


def _exact_type_names(value: Any, key: str, source: str | None) -> None:
    from hookline.modelio import check_type_names

    try:
        check_type_names(value)
    except ValueError as exc:
        raise ConfigError(str(exc), key=key, source=source) from None


REGISTRY = {
    "trusted_types": Option(
        list,
        [],
        "exact type and function names a model may contain beyond skops' defaults and "
        "those the built-in trainer produces, never prefixes (checked when any model is "
        "loaded: serving, gates, monitoring, CLI, dashboard)",
        check=_exact_type_names,
    ),
    "signing_key_env": Option(
        str,
        "HOOKLINE_SIGNING_KEY",
        "environment variable with the HMAC key that signs versions "
        "(or NAME_SECRET with a secret reference); unset: versions are not signed",
    ),
    "signing_key_id": Option(
        str, None, "the signing key's id in signatures (default: derived from the key)"
    ),
}


CORE_SECTIONS: dict[str, Mapping[str, Option] | None] = {
    "project": PROJECT,
    "limits": LIMITS,
    "runs": RUNS,
    "registry": REGISTRY,
    "pipelines": None,
    "plugins": None,
}
"""The sections the core owns (``pipelines`` and ``plugins`` have their own parsers)."""


def section_schemas() -> dict[str, Mapping[str, Option] | None]:
    """Every known section: the core's, then each adapter's from ``hookline.config``.

    An adapter module behind that group holds only :class:`Option` declarations, so
    validating a file imports no web framework or SDK.
    """
    from hookline._entrypoints import entry_points

    found: dict[str, Mapping[str, Option] | None] = dict(CORE_SECTIONS)
    for ep in entry_points(SECTIONS_ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        try:
            schema = ep.load()
        except ImportError:
            continue  # an adapter that cannot import cannot be configured either
        if isinstance(schema, Mapping):
            found[ep.name] = schema
    return found


_PIPELINE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


# --- the parsed configuration -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Trigger:
    prefix: str
    suffixes: tuple[str, ...] = ()
    source: str | None = None

    def matches_key(self, key: str) -> bool:
        if not key.startswith(self.prefix):
            return False
        # Case-sensitive, like the clouds' own trigger filters (S3, Event Grid).
        return not self.suffixes or key.endswith(self.suffixes)


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    name: str
    model: str
    stages: tuple[str, ...]
    trigger: Trigger | None
    schedule: str | None = None
    alias: str = "production"
    description: str = ""
    plugins: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    window: Window | None = None
    """The training window (:mod:`hookline.window`); ``None``: the upload alone."""
    compute: ComputeConfig | None = None
    """Where the run goes when a function is not enough (``None``: always inline)."""
    skip_unchanged: bool = True
    """Whether a training run on data a version was already trained on registers nothing."""

    @property
    def trains(self) -> bool:
        return "train" in self.stages


@dataclass(frozen=True)
class Config:
    """A validated ``hookline.toml``."""

    storage: str
    """The storage root URI (``$HOOKLINE_STORAGE`` applied)."""
    pipelines: Mapping[str, PipelineConfig]
    plugins: Mapping[str, Mapping[str, Any]]
    project: Mapping[str, Any]
    limits: Mapping[str, Any]
    runs: Mapping[str, Any]
    registry: Mapping[str, Any]
    sections: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """Every validated section by name, the adapters' included, defaults filled in."""
    source: str | None = None
    """Where the file was read from."""
    digest: str = ""
    """sha256 of the canonical JSON of the parsed file: the run record's ``config_hash``."""
    raw: Mapping[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return str(self.project["name"])

    def section(self, name: str) -> Mapping[str, Any]:
        """A validated section by name (``serving``, ``ui``, ``registry``...): its values
        with defaults filled in; an empty mapping for a section nobody declares."""
        return self.sections.get(name, {})

    def with_storage(self, uri: str) -> Config:
        """This configuration with another storage root (``--storage``)."""
        import dataclasses

        return dataclasses.replace(self, storage=uri)

    def plugin_config(self, plugin: str, *, pipeline: str | None = None) -> dict[str, Any]:
        merged = dict(self.plugins.get(plugin, {}))
        if pipeline is not None and pipeline in self.pipelines:
            merged.update(self.pipelines[pipeline].plugins.get(plugin, {}))
        return merged

    def check_plugins(self, known: Mapping[str, object]) -> None:
        """Fail when a ``[plugins.NAME]`` table names a plugin that is not loaded, and
        validate tables of plugins that declare a ``CONFIG`` schema."""
        tables = [("plugins", self.plugins)] + [
            (f"pipelines.{p.name}.plugins", p.plugins) for p in self.pipelines.values()
        ]
        for path, plugin_tables in tables:
            for name, table in plugin_tables.items():
                if name not in known:
                    guess = _close_matches(name, list(known), n=1)
                    raise ConfigError(
                        f"unknown plugin {_shown(name)}"
                        + (f" (did you mean {guess[0]!r}?)" if guess else ""),
                        key=f"{path}.{name}",
                        source=self.source,
                        hint=f"loaded plugins: {', '.join(sorted(known)) or 'none'}",
                    )
                schema = getattr(known[name], "CONFIG", None)
                if isinstance(schema, Mapping):
                    check_table(table, schema, f"{path}.{name}", self.source)


def _canonical_digest(data: Mapping[str, Any]) -> str:
    from hookline import jsonio

    return jsonio.digest(data)


def _parse_pipeline(name: str, table: Any, source: str | None) -> PipelineConfig:
    path = f"pipelines.{name}"
    if not _PIPELINE_NAME.match(name):
        raise ConfigError(
            f"invalid pipeline name {_shown(name)}",
            key=path,
            source=source,
            hint="use letters, digits, '.', '_' and '-' (max 64 characters): it is part of "
            "every run id and storage key of the pipeline",
        )
    values = check_table(table, PIPELINE, path, source)
    for name_key in ("model", "alias"):
        try:
            check_name(name_key, values[name_key])
        except UsageError as exc:
            raise ConfigError(
                exc.message, key=f"{path}.{name_key}", source=source, hint=exc.hint
            ) from None
    stages = values["stages"]
    if not stages or not all(isinstance(s, str) for s in stages):
        raise ConfigError(
            "expected a non-empty array of stage names", key=f"{path}.stages", source=source
        )
    for stage in stages:
        if stage not in STAGES:
            guess = _close_matches(stage, STAGES, n=1)
            raise ConfigError(
                f"unknown stage {_shown(stage)}"
                + (f" (did you mean {guess[0]!r}?)" if guess else ""),
                key=f"{path}.stages",
                source=source,
                hint=f"stages are, in order: {', '.join(STAGES)}",
            )
    if len(set(stages)) != len(stages) or list(stages) != sorted(stages, key=STAGES.index):
        raise ConfigError(
            f"stages must be unique and in lifecycle order {list(STAGES)}, got {_shown(stages)}",
            key=f"{path}.stages",
            source=source,
        )
    if stages[0] != "ingest":
        raise ConfigError("a pipeline starts with 'ingest'", key=f"{path}.stages", source=source)
    if "deploy" in stages and "train" not in stages:
        raise ConfigError(
            "'deploy' needs 'train' in the same pipeline", key=f"{path}.stages", source=source
        )
    trigger = None
    if values["trigger"] is not None:
        t = check_table(values["trigger"], TRIGGER, f"{path}.trigger", source)
        prefix = t["prefix"]
        if prefix.startswith("/") or ".." in prefix.split("/"):
            raise ConfigError(
                "trigger prefix must be a relative key prefix",
                key=f"{path}.trigger.prefix",
                source=source,
            )
        for out in OUTPUT_PREFIXES:
            if prefix.startswith(out) or (out.startswith(prefix) and t["source"] is None):
                raise ConfigError(
                    f"trigger prefix {_shown(prefix)} overlaps hookline's own output prefix "
                    f"{out!r}: the pipeline would trigger itself",
                    key=f"{path}.trigger.prefix",
                    source=source,
                    hint="land uploads under a prefix such as 'landing/train/'",
                )
        suffix = t["suffix"]
        suffixes = tuple([suffix] if isinstance(suffix, str) else suffix or ())
        if not all(isinstance(s, str) and s for s in suffixes):
            raise ConfigError(
                f"expected a string or an array of non-empty strings, got {_shown(suffix)}",
                key=f"{path}.trigger.suffix",
                source=source,
            )
        trigger = Trigger(prefix=prefix, suffixes=suffixes, source=t["source"])
    elif values["schedule"] is None:
        raise ConfigError(
            "a pipeline needs a 'trigger' table or a 'schedule'",
            key=path,
            source=source,
            hint='add: trigger = { prefix = "landing/NAME/" }',
        )
    plugins = values["plugins"] or {}
    for plugin, ptable in plugins.items():
        if not isinstance(ptable, dict):
            raise ConfigError("expected a table", key=f"{path}.plugins.{plugin}", source=source)
    window = parse_window(values["window"], key=f"{path}.window", source=source)
    if window is not None and "train" not in stages:
        raise ConfigError(
            "a window is what a training run learns from: this pipeline does not train",
            key=f"{path}.window",
            source=source,
            hint="remove window, or add 'train' to stages",
        )
    compute = None
    if values["compute"] is not None:
        from hookline.compute import parse_compute

        compute = parse_compute(values["compute"], f"{path}.compute", source)
    return PipelineConfig(
        name=name,
        model=values["model"],
        stages=tuple(stages),
        trigger=trigger,
        schedule=values["schedule"],
        alias=values["alias"],
        description=values["description"],
        plugins=plugins,
        window=window,
        compute=compute,
        skip_unchanged=values["skip_unchanged"],
    )


def parse_config(
    data: Mapping[str, Any],
    *,
    source: str | None = None,
    base_dir: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Config:
    """Validate parsed TOML and build a :class:`Config`."""
    env = os.environ if env is None else env
    data = dict(data)
    schemas = section_schemas()
    for key in data:
        if key not in schemas:
            guess = _close_matches(key, list(schemas), n=1)
            raise ConfigError(
                f"unknown section [{_shown(key)[1:-1]}]"
                + (f" (did you mean [{guess[0]}]?)" if guess else ""),
                source=source,
                hint=f"sections: {', '.join(sorted(schemas))}",
            )
    sections: dict[str, dict[str, Any]] = {}
    for name, schema in schemas.items():
        if schema is not None:
            sections[name] = check_table(data.get(name, {}), schema, name, source)
    pipelines_raw = data.get("pipelines", {})
    if not isinstance(pipelines_raw, dict) or not pipelines_raw:
        raise ConfigError(
            "at least one pipeline is required",
            key="pipelines",
            source=source,
            hint='add e.g.\n  [pipelines.train]\n  model = "my-model"\n'
            '  stages = ["ingest", "train", "validate", "deploy"]\n'
            '  trigger = { prefix = "landing/train/" }',
        )
    pipelines = {n: _parse_pipeline(n, t, source) for n, t in pipelines_raw.items()}
    plugins = data.get("plugins", {})
    if not isinstance(plugins, dict):
        raise ConfigError("expected a table of plugin tables", key="plugins", source=source)
    for name, table in plugins.items():
        if not isinstance(table, dict):
            raise ConfigError("expected a table", key=f"plugins.{name}", source=source)
    storage = env.get(ENV_STORAGE) or sections["project"]["storage"]
    if "://" not in storage and base_dir is not None and not os.path.isabs(storage):
        storage = os.path.normpath(os.path.join(base_dir, storage))
    return Config(
        storage=storage,
        pipelines=pipelines,
        plugins=plugins,
        project=sections["project"],
        limits=sections["limits"],
        runs=sections["runs"],
        registry=sections["registry"],
        sections=sections,
        source=source,
        digest=_canonical_digest(data),
        raw=data,
    )


def find_config(
    path: str | os.PathLike[str] | None = None,
    *,
    bundle_dir: str | os.PathLike[str] | None = None,
    environ: Mapping[str, str] | None = None,
) -> str:
    """Where the configuration is -- the one rule every entry point follows: ``path``,
    else ``$HOOKLINE_CONFIG``, else ``<bundle_dir>/hookline.toml`` when that file exists,
    else ``./hookline.toml``.

    :param path: an explicit path or storage URI (``--config``).
    :param bundle_dir: the folder of a deployed entry file, whose bundled
        ``hookline.toml`` is used when nothing more explicit is set.
    """
    env = os.environ if environ is None else environ
    if path is not None and os.fspath(path):
        return os.fspath(path)
    configured = env.get(ENV_CONFIG)
    if configured:
        return configured
    if bundle_dir is not None:
        bundled = os.path.join(os.fspath(bundle_dir), CONFIG_FILE)
        if os.path.isfile(bundled):
            return bundled
    return CONFIG_FILE


def storage_only_config(storage: str) -> Config:
    """A configuration with a storage root and nothing else, for commands that only read
    runs and models (``hookline runs --storage URI`` where no ``hookline.toml`` exists)."""
    data: dict[str, Any] = {}
    schemas = section_schemas()
    sections = {name: check_table({}, schema, name) for name, schema in schemas.items() if schema}
    return Config(
        storage=storage,
        pipelines={},
        plugins={},
        project=sections["project"],
        limits=sections["limits"],
        runs=sections["runs"],
        registry=sections["registry"],
        sections=sections,
        source=None,
        digest=_canonical_digest(data),
        raw=data,
    )


def _shown_path(path: Path) -> str:
    text = str(path)
    return text if len(text) <= 200 else text[:197] + "..."


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate ``hookline.toml`` from a path or a storage URI.

    :raises ConfigError: the file is missing, is not valid TOML, or does not validate.
    """
    location = find_config(path)
    base_dir: str | None = None
    if "://" in location and not location.startswith("file://"):
        from hookline.storage import open_storage, parse_uri

        parsed = parse_uri(location)
        root, _, key = f"{parsed.scheme}://{parsed.bucket}/{parsed.path}".rpartition("/")
        try:
            raw = open_storage(root).read(key)
        except Exception as exc:
            raise ConfigError(f"cannot read configuration: {exc}", source=location) from exc
    else:
        file = Path(location.removeprefix("file://"))
        try:
            if file.is_dir():
                file = file / CONFIG_FILE
            found = file.exists()
            if found:
                raw = file.read_bytes()
                base_dir = str(file.resolve().parent)
        except (OSError, UnicodeError) as exc:  # too long, a directory in the way, unreadable
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ConfigError(
                f"cannot read configuration: {reason}", source=_shown_path(file)
            ) from None
        if not found:
            raise ConfigError(
                "configuration file not found",
                source=_shown_path(file),
                hint="pass --config FILE, set HOOKLINE_CONFIG, or run where hookline.toml is "
                "(see examples/quickstart/hookline.toml)",
            )
        location = str(file)
    import tomllib

    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc}", source=location) from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"malformed TOML: {exc}",
            source=location,
            hint="check quotes, brackets and '=' on the line named",
        ) from exc
    return parse_config(data, source=location, base_dir=base_dir)


def json_schema(plugins: Mapping[str, Mapping[str, Option] | None] | None = None) -> dict[str, Any]:
    """A JSON Schema (draft-07) of ``hookline.toml`` for editors, from the same options
    that validate it here: every section, pipelines, and a table per plugin in
    ``plugins`` (name to its ``CONFIG``). ``hookline config schema`` prints it for the
    installed plugins; ``docs/hookline.schema.json`` is the built-ins' copy."""
    from hookline._configschema import build

    return build(plugins)
