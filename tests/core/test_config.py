"""hookline.toml validation: every bad file names the key and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest
from hookline.config import load_config, parse_config
from hookline.errors import ConfigError

GOOD = {
    "pipelines": {
        "train": {"model": "m", "stages": ["ingest", "train"], "trigger": {"prefix": "landing/"}}
    },
}


def cfg(**over: object) -> dict:
    data = {"pipelines": {"train": {**GOOD["pipelines"]["train"]}}}
    for path, value in over.items():
        node = data
        *parents, last = path.split("__")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return data


def test_a_good_file_loads_with_defaults() -> None:
    c = parse_config(cfg(), env={})
    assert c.storage == ".hookline"
    assert c.pipelines["train"].alias == "production"
    assert c.limits["skip_empty_objects"] is True
    assert len(c.digest) == 64


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            cfg(project__storge="x"),
            "[project.storge] unknown key 'storge' (did you mean 'storage'?)",
        ),
        (
            cfg(limits__max_upload_bytes="big"),
            "[limits.max_upload_bytes] expected an integer, got str",
        ),
        (
            cfg(pipelines__train__stages=["ingest", "trian"]),
            "unknown stage 'trian' (did you mean 'train'?)",
        ),
        (cfg(pipelines__train__stages=["train", "ingest"]), "lifecycle order"),
        (cfg(pipelines__train__stages=["ingest", "deploy"]), "'deploy' needs 'train'"),
        (
            {"pipelines": {"p": {"stages": ["ingest"], "trigger": {"prefix": "a/"}}}},
            "[pipelines.p.model] missing required key",
        ),
        (
            cfg(pipelines__train__trigger={"prefix": "runs/"}),
            "overlaps hookline's own output prefix 'runs/'",
        ),
        (cfg(pipelines__train__trigger={"prefix": ""}), "overlaps hookline's own output prefix"),
        (cfg(pipelines__train__trigger={"prefix": "../x/"}), "relative key prefix"),
        (
            cfg(pipelines__train__trigger={"suffix": ".csv"}),
            "[pipelines.train.trigger.prefix] missing required key",
        ),
        ({"pipelines": {}}, "at least one pipeline is required"),
        ({**cfg(), "pipeline": {}}, "unknown section [pipeline] (did you mean [pipelines]?)"),
        (cfg(runs__claim_timeout_seconds=True), "expected an integer, got bool"),
    ],
)
def test_bad_values_name_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, source="hookline.toml", env={})
    assert message in str(err.value)
    assert err.value.exit_code == 2


def test_environment_overrides_the_storage_root() -> None:
    c = parse_config(cfg(project__storage="local"), env={"HOOKLINE_STORAGE": "s3://b/p"})
    assert c.storage == "s3://b/p"


def test_missing_file_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found") as err:
        load_config(tmp_path / "nope.toml")
    assert "--config" in str(err.value)


def test_malformed_toml_names_the_line(tmp_path: Path) -> None:
    f = tmp_path / "hookline.toml"
    f.write_text('[project]\nname = "x\n')
    with pytest.raises(ConfigError, match=r"malformed TOML: .*line 2"):
        load_config(f)


def test_unknown_plugin_table_is_refused(tmp_path: Path) -> None:
    from hookline._manager import make_plugin_manager
    from hookline.runner import Hookline

    c = parse_config({**cfg(), "plugins": {"sklaern": {"x": 1}}}, env={})
    pm = make_plugin_manager(plugins={"sklearn": object()}, entry_points_group=None)
    with pytest.raises(ConfigError, match=r"unknown plugin 'sklaern' \(did you mean 'sklearn'\?\)"):
        Hookline(c, pm=pm)


def test_plugin_tables_are_checked_against_their_schema() -> None:
    from hookline.config import Option

    class Plugin:
        CONFIG = {"threshold": Option(float, 0.2, "drift threshold")}

    c = parse_config({**cfg(), "plugins": {"drift": {"threshold": "high"}}}, env={})
    with pytest.raises(ConfigError, match=r"\[plugins.drift.threshold\] expected a number"):
        c.check_plugins({"drift": Plugin()})
    c = parse_config({**cfg(), "plugins": {"drift": {"treshold": 0.1}}}, env={})
    with pytest.raises(ConfigError, match="did you mean 'threshold'"):
        c.check_plugins({"drift": Plugin()})
