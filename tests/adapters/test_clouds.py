"""The cloud descriptors: each cloud package describes itself once, the rest of hookline asks
the descriptors (entry-point group ``hookline.clouds``), and a fourth cloud is a package and
one entry point -- shown here with a made-up cloud installed beside hookline."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hookline.adapters.cloud import Cloud, clouds, get_cloud, infer_cloud
from hookline.errors import UsageError
from hookline.events import StorageEvent

REPO = Path(__file__).resolve().parents[2]
NAMES = ("aws", "gcp", "azure")
KEY = "landing/train/a b+c 100% été.csv"


def test_the_three_clouds_are_installed_and_describe_themselves() -> None:
    found = clouds()
    assert set(NAMES) <= set(found)
    schemes = {name: found[name].scheme for name in NAMES}
    assert schemes == {"aws": "s3", "gcp": "gs", "azure": "az"}
    for name in NAMES:
        cloud = found[name]
        assert isinstance(cloud, Cloud) and cloud.name == name and cloud.kinds
        assert cloud.extra == name  # pip install 'hookline[NAME]'


@pytest.mark.parametrize("name", NAMES)
def test_the_package_layout_is_the_same_on_every_cloud(name: str) -> None:
    import importlib

    for module in ("events", "pipeline", "serving", "storage", "secrets"):
        importlib.import_module(f"hookline.adapters.{name}.{module}")
    events = importlib.import_module(f"hookline.adapters.{name}.events")
    assert callable(events.parse_event) and callable(events.classify)


@pytest.mark.parametrize("name", NAMES)
def test_every_sample_kind_parses_back_to_the_object(name: str) -> None:
    cloud = get_cloud(name)
    uri = f"{cloud.scheme}://acme-ml/{KEY}"
    for kind in cloud.kinds:
        payload = cloud.sample(uri, kind=kind, size=77, event_time="2024-05-14T09:21:37.512Z")
        assert cloud.infer(payload), kind
        assert infer_cloud(payload) is cloud, kind
        [event] = cloud.parse(payload)
        assert isinstance(event, StorageEvent)
        assert (event.key, event.size, event.source) == (KEY, 77, name)
        items = cloud.items(payload)
        assert [e for item in items for e in item.events] == [event]
    [schedule] = cloud.parse(cloud.sample_schedule("monitor"))
    assert schedule.pipeline == "monitor"  # type: ignore[union-attr]


@pytest.mark.parametrize("name", NAMES)
def test_the_entry_files_packaging_names_exist(name: str) -> None:
    packaging = get_cloud(name).packaging
    folder = REPO / "functions" / packaging.functions
    for role in packaging.roles:
        for entry in role.entry_files:
            assert (folder / entry).is_file(), f"{name} {role.name}: {entry}"


@pytest.mark.parametrize("name", NAMES)
def test_the_descriptor_names_its_own_package(name: str) -> None:
    cloud = get_cloud(name)
    assert cloud.package == f"hookline.adapters.{name}" == type(cloud).__module__


PLAIN_EVENTS = """
from hookline.events import StorageEvent

def classify(payload, headers=None):
    return "drop" if isinstance(payload, dict) and "tub" in payload else "unknown"

def parse_event(payload):
    return (StorageEvent(uri=f"pl://{payload['tub']}/{payload['object']}",
                         bucket=payload["tub"], key=payload["object"], source="plain"),)

def sample_event(uri, *, flavour, size, event_time=None, region="here"):
    tub, _, key = uri.removeprefix("pl://").partition("/")
    return {"tub": tub, "object": key, "flavour": flavour, "size": size, "region": region}

def sample_schedule(pipeline, *, event_time=None):
    return {"schedule": pipeline, "at": event_time}
"""

PLAIN_SECRETS = """
def claims(ref):
    return ref.startswith("plain://")

def read_secret(ref):
    return ref.upper()
"""


def test_a_descriptor_that_overrides_nothing_uses_its_package_modules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The defaults of :class:`Cloud`: ``events`` and ``secrets`` of :attr:`Cloud.package`
    by their common names, the sample kind passed as :attr:`Cloud.sample_option`."""
    package = tmp_path / "plain_cloud"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "events.py").write_text(textwrap.dedent(PLAIN_EVENTS))
    (package / "secrets.py").write_text(textwrap.dedent(PLAIN_SECRETS))
    monkeypatch.syspath_prepend(str(tmp_path))

    class Plain(Cloud):
        name = "plain"
        package = "plain_cloud"
        kinds = ("bare", "wrapped")
        sample_option = "flavour"

    cloud = Plain()
    payload = cloud.sample("pl://tub/a b.csv", size=3, region="there")
    assert payload == {
        "tub": "tub",
        "object": "a b.csv",
        "flavour": "bare",
        "size": 3,
        "region": "there",
    }
    assert cloud.sample("pl://tub/k", kind="wrapped")["flavour"] == "wrapped"
    assert cloud.infer(payload) and not cloud.infer({"other": 1})
    [event] = cloud.parse(payload)
    assert (event.bucket, event.key) == ("tub", "a b.csv")
    assert [item.events for item in cloud.items(payload)] == [(event,)]
    assert cloud.sample_schedule("train", event_time="T") == {"schedule": "train", "at": "T"}
    assert cloud.claims_secret("plain://k") and not cloud.claims_secret("other://k")
    assert cloud.read_secret("plain://k") == "PLAIN://K"


def test_runtime_names_follow_each_platform() -> None:
    assert get_cloud("aws").packaging.runtime_id("3.12") == "python3.12"
    assert get_cloud("gcp").packaging.runtime_id("3.12") == "python312"
    assert get_cloud("azure").packaging.runtime_id("3.12") == "3.12"


@pytest.mark.parametrize("name", NAMES)
def test_packaging_builds_what_the_descriptor_says(name: str, tmp_path: Path) -> None:
    """Until ``hookline package`` reads the descriptors, its own tables must agree with
    them: entry files, handlers, where dependencies go."""
    from hookline.adapters.packaging import _spec

    config = tmp_path / "hookline.toml"
    config.write_text('[project]\nname = "x"\nstorage = "."\n')
    options = _spec.BuildOptions(
        cloud=name,
        config=config,
        out=tmp_path / "dist",
        project=REPO,
        functions=REPO / "functions",
    )
    packaging = get_cloud(name).packaging
    for spec in _spec.bundle_specs(options, [], {}):
        role = packaging.role("source" if spec.role in ("all", "source") else spec.role)
        assert [Path(src).name for src in spec.entry_files] == list(role.entry_files)
        assert all(Path(src).parent.name == packaging.functions for src in spec.entry_files)
        module, attr = spec.handler
        if role.entry_points:  # GCP: one source archive, a function per entry point
            assert f"{module}.py" == role.handler and attr in role.entry_points
        elif role.handler.endswith(".py"):  # Azure: the function app script
            assert f"{module}.py" == role.handler
        else:  # AWS: module.attribute
            assert f"{module}.{attr}" == role.handler
        assert spec.site_dir == packaging.site_dir
        assert spec.prepend_dir == packaging.prepend_dir
        assert dict(spec.env) == dict(role.env)


def test_unknown_and_ambiguous_clouds_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="unknown cloud 'nimbus'") as err:
        get_cloud("nimbus")
    assert "aws" in str(err.value)
    with pytest.raises(UsageError, match="no installed cloud"):
        infer_cloud({"hello": "world"})


FOURTH = """
from hookline.adapters.cloud import Cloud, Packaging, Role, object_uri
from hookline.events import StorageEvent


class Nimbus(Cloud):
    name = "nimbus"
    title = "Nimbus"
    scheme = "nb"
    extra = "nimbus"
    kinds = ("drop",)
    secret_sdk = "nimbus-sdk"
    secret_forms = ("nimbus://SECRET",)
    packaging = Packaging("nimbus", (Role("pipeline", ("main.py",), "main.handler"),), "",
                          "/app", (), "py{python}", ("3.12",), ("x86_64",), {"*": 35})

    def infer(self, payload):
        return isinstance(payload, dict) and payload.get("nimbus") == "drop"

    def parse(self, payload):
        key = payload["object"]
        return [StorageEvent(uri=object_uri("nb", payload["tub"], key), bucket=payload["tub"],
                             key=key, size=payload.get("bytes"), source="nimbus")]

    def sample(self, uri, *, kind=None, size=1024, event_time=None, **options):
        tub, _, key = uri.removeprefix("nb://").partition("/")
        return {"nimbus": "drop", "tub": tub, "object": key, "bytes": size}

    def sample_schedule(self, pipeline, *, event_time=None):
        raise NotImplementedError

    def claims_secret(self, ref):
        return ref.startswith("nimbus://")

    def read_secret(self, ref):
        return "secret of " + ref.removeprefix("nimbus://")


CLOUD = Nimbus()
"""


def test_a_fourth_cloud_is_a_package_and_one_entry_point(tmp_path: Path) -> None:
    """A made-up cloud, installed as a distribution with one ``hookline.clouds`` entry
    point: the events command and secret references work with it, unchanged."""
    site = tmp_path / "site"
    (site / "nimbus_cloud").mkdir(parents=True)
    (site / "nimbus_cloud" / "__init__.py").write_text(textwrap.dedent(FOURTH))
    info = site / "nimbus_cloud-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nimbus-cloud\nVersion: 1.0\n\n")
    (info / "entry_points.txt").write_text("[hookline.clouds]\nnimbus = nimbus_cloud:CLOUD\n")
    code = textwrap.dedent(
        """
        import json, sys
        from hookline.cli import main
        from hookline.secrets import read_secret
        assert main(["events", "sample", "--cloud", "nimbus", "--uri", "nb://tub/a b.csv",
                     "--size", "5"]) == 0
        print(read_secret("nimbus://api-keys"))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": ""},
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    *sample, secret = done.stdout.strip().splitlines()
    assert json.loads("\n".join(sample)) == {
        "nimbus": "drop",
        "tub": "tub",
        "object": "a b.csv",
        "bytes": 5,
    }
    assert secret == "secret of api-keys"
    payload = tmp_path / "drop.json"
    payload.write_text(json.dumps({"nimbus": "drop", "tub": "t", "object": "k.csv", "bytes": 1}))
    parsed = subprocess.run(
        [  # no --cloud: the installed cloud whose delivery it looks like
            sys.executable,
            "-c",
            f"import sys; from hookline.cli import main; sys.exit(main(['events', 'parse', "
            f"{str(payload)!r}]))",
        ],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(site), "PATH": ""},
        timeout=60,
        check=False,
    )
    assert parsed.returncode == 0, parsed.stderr
    [event] = json.loads(parsed.stdout)
    assert event["uri"] == "nb://t/k.csv" and event["source"] == "nimbus"


def _descriptor_imports(name: str) -> list[str]:
    code = (
        "import json, sys\n"
        "before = set(sys.modules)\n"
        f"from hookline.adapters.{name} import CLOUD\n"
        "CLOUD.claims_secret('x')\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return list(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("name", NAMES)
def test_a_descriptor_costs_no_sdk_and_no_event_parser(name: str) -> None:
    loaded: Any = _descriptor_imports(name)
    assert not [m for m in loaded if m.startswith(("boto", "google", "azure."))]
    assert f"hookline.adapters.{name}.events" not in loaded
    assert f"hookline.adapters.{name}.storage" not in loaded
