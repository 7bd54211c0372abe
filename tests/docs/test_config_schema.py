"""The JSON Schema of hookline.toml (docs/hookline.schema.json) that editors read: valid
draft-07, accepting the configurations hookline accepts, rejecting misspelt keys."""

from __future__ import annotations

import json
import tomllib

import jsonschema
import pytest
from hookline.cli import main
from hookline.config import ConfigError, parse_config

from ._markdown import DOCS, ROOT, blocks, pages

SCHEMA = json.loads((DOCS / "hookline.schema.json").read_text(encoding="utf-8"))
VALIDATOR = jsonschema.Draft7Validator(SCHEMA)
QUICKSTART = ROOT / "examples" / "quickstart" / "hookline.toml"


def errors_of(doc: dict) -> list[str]:
    return sorted(
        f"{'.'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}"
        for e in VALIDATOR.iter_errors(doc)
    )


def test_the_schema_is_valid_draft_07() -> None:
    jsonschema.Draft7Validator.check_schema(SCHEMA)
    assert SCHEMA["$id"] == "https://hookline.dev/hookline.schema.json"


def test_the_quickstart_validates_and_names_the_schema() -> None:
    text = QUICKSTART.read_text(encoding="utf-8")
    assert text.startswith("#:schema https://hookline.dev/hookline.schema.json\n")
    assert errors_of(tomllib.loads(text)) == []


QUICKSTART_DOC = tomllib.loads(QUICKSTART.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "where", "message"),
    [
        (lambda d: d["project"].update(nmae="x"), "project", "'nmae' was unexpected"),
        (lambda d: d["plugins"]["gates"].update(min_rwos=5), "plugins.gates", "'min_rwos'"),
        (lambda d: d.update(serivng={}), "(root)", "'serivng' was unexpected"),
        (
            lambda d: d["pipelines"]["train"].update(stagse=["ingest"]),
            "pipelines.train",
            "'stagse' was unexpected",
        ),
        (
            lambda d: d["pipelines"]["train"]["trigger"].update(prefx="x/"),
            "pipelines.train.trigger",
            "'prefx' was unexpected",
        ),
        (
            lambda d: d["pipelines"]["train"]["stages"].append("deplyo"),
            "pipelines.train.stages.4",
            "'deplyo' is not one of",
        ),
        (lambda d: d["plugins"]["gates"].update(min_rows="50"), "plugins.gates.min_rows", "not of"),
        (
            lambda d: d["pipelines"]["train"].pop("model"),
            "pipelines.train",
            "'model' is a required",
        ),
        (
            lambda d: d["pipelines"].update({"bad name": d["pipelines"]["train"]}),
            "pipelines",
            "does not match any of the regexes",
        ),
        (
            lambda d: (
                d["pipelines"]["score"]
                .setdefault("plugins", {})
                .update({"drift": {"retrain_on_drfit": True}})
            ),
            "pipelines.score.plugins.drift",
            "'retrain_on_drfit' was unexpected",
        ),
    ],
)
def test_a_misspelt_key_is_rejected_where_it_is(change, where: str, message: str) -> None:
    doc = json.loads(json.dumps(QUICKSTART_DOC))
    change(doc)
    found = errors_of(doc)
    assert any(e.startswith(f"{where}: ") and message in e for e in found), found
    with pytest.raises(ConfigError):  # and hookline refuses the same file when it loads
        config = parse_config(doc)
        config.check_plugins(_builtin_plugins())


def _builtin_plugins() -> dict:
    from hookline._manager import make_plugin_manager

    pm = make_plugin_manager(pinned=None, disabled=())
    return {name: pm.get_plugin(name) for name in pm.infos}


def test_a_third_party_plugin_table_is_left_to_its_plugin() -> None:
    doc = json.loads(json.dumps(QUICKSTART_DOC))
    doc["plugins"]["acme-notify"] = {"webhook_env": "ACME_URL"}
    assert errors_of(doc) == []


TOML_BLOCKS = [b for page in pages() for b in blocks(page) if b.lang == "toml"]


@pytest.mark.parametrize("block", TOML_BLOCKS, ids=[b.where for b in TOML_BLOCKS])
def test_every_whole_configuration_in_the_docs_validates(block) -> None:
    """A block hookline loads as a whole file validates against the schema too."""
    try:
        doc = tomllib.loads(block.code)
        parse_config(doc).check_plugins(_builtin_plugins())
    except (tomllib.TOMLDecodeError, ConfigError):
        pytest.skip("a fragment, or deliberately wrong: not a whole configuration")
    assert errors_of(doc) == [], block.where


def test_config_schema_includes_installed_plugins(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["config", "schema", "--builtin"]) == 0
    assert json.loads(capsys.readouterr().out) == SCHEMA  # what docs/ publishes
    assert main(["config", "schema"]) == 0
    full = json.loads(capsys.readouterr().out)
    assert set(SCHEMA["definitions"]) <= set(full["definitions"])


def test_config_check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(QUICKSTART.parent)
    monkeypatch.delenv("HOOKLINE_CONFIG", raising=False)
    monkeypatch.delenv("HOOKLINE_PLUGINS", raising=False)
    assert main(["config", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: hookline.toml: 2 pipeline(s) (train, score)")


def test_every_table_says_whether_it_is_closed() -> None:
    """Tombi treats a table without `additionalProperties` as closed: say it everywhere."""
    missing = []

    def walk(node, path):
        if isinstance(node, dict):
            kinds = node.get("type")
            table = kinds == "object" or (isinstance(kinds, list) and "object" in kinds)
            if table and "additionalProperties" not in node:
                missing.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(SCHEMA, "#")
    assert missing == []
