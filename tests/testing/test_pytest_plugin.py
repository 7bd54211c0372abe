"""The pytest plugin: loaded through the pytest11 entry point, light to import, and its
fixtures give plugin authors realistic inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import entry_points
from urllib.parse import unquote, unquote_plus

import pytest
from hookline.storage import parse_uri
from hookline.testing import SAMPLE_KEY, TARGETS, sample_frame

pytest_plugins = ["pytester"]


def test_registered_under_pytest11():
    found = {ep.name: ep.value for ep in entry_points(group="pytest11")}
    assert found.get("hookline") == "hookline.testing.pytest_plugin"


@pytest.mark.parametrize("module", ["hookline.testing.pytest_plugin", "hookline.testing"])
def test_import_is_light(module):
    code = (
        f"import sys, {module}; "
        "print(','.join(m for m in ('pandas', 'numpy', 'sklearn', 'scipy', 'pyarrow') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "", f"importing {module} imported {out}"


def test_fixtures_in_a_plugin_authors_test_session(pytester):
    pytester.makepyfile(
        """
        from hookline import hookimpl
        from hookline.storage import LocalStorage

        def test_pm(hookline_pm):
            assert hookline_pm.infos == {}
            class P:
                @hookimpl
                def before_pipeline_run(self, ctx):
                    pass
            hookline_pm.register_plugin(P(), "p")
            assert hookline_pm.implementers("before_pipeline_run") == ["p"]

        def test_storage(hookline_storage, tmp_path):
            assert isinstance(hookline_storage, LocalStorage)
            assert str(hookline_storage.root).startswith(str(tmp_path))
            hookline_storage.write("runs/x.json", b"{}")
            assert [i.key for i in hookline_storage.list("runs/")] == ["runs/x.json"]

        def test_dataset(hookline_dataset):
            frame = hookline_dataset.frame
            assert hookline_dataset.target in frame.columns
            assert frame.isna().any().any()

        def test_events(hookline_events):
            assert sorted(hookline_events) == ["aws", "azure", "gcp", "local"]
            assert hookline_events["aws"].payload["Records"][0]["eventSource"] == "aws:s3"

        def test_context(hookline_context, hookline_storage):
            ctx = hookline_context(plugins={"mine": {"x": 1}})
            assert ctx.plugin_config("mine") == {"x": 1}
            assert ctx.storage is hookline_storage
            assert hookline_storage.read(ctx.storage_event.key).startswith(b"age,")
            monitor = hookline_context(pipeline="monitor", task="regression")
            assert monitor.pipeline.stages == ("ingest", "monitor")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=6)
    result.stdout.fnmatch_lines(
        ["*test_dataset?classification? PASSED*", "*test_dataset?regression? PASSED*"]
    )


def test_each_rule_is_its_own_test(pytester):
    pytester.makepyfile(
        """
        import pytest
        from hookline import hookimpl
        from hookline.testing import parametrize_plugin_checks

        class Plugin:
            @hookimpl
            def ingest(self, ctx, source):
                return False

        @pytest.mark.parametrize("check", parametrize_plugin_checks(Plugin(), name="acme"))
        def test_conformance(check):
            check()
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    result.assert_outcomes(passed=6, failed=3)
    result.stdout.fnmatch_lines(
        [
            "*test_conformance?hook-names? PASSED*",
            "*test_conformance?ingest?classification-csv?? FAILED*",
            "*test_conformance?ingest?scheduled?? FAILED*",
            "*provider-returns-artifact-or-none*plugin 'acme', hook 'ingest'*",
        ]
    )


def test_sample_tables_have_the_awkward_parts():
    for task, target in TARGETS.items():
        frame = sample_frame(task)
        assert frame.equals(sample_frame(task)), "deterministic"
        assert not frame.equals(sample_frame(task, seed=1))
        assert frame[target].notna().all()
        assert frame["age"].isna().any() and frame["plan"].isna().any()
        assert frame["region"].nunique() == 4
    assert set(sample_frame("classification")["churned"]) == {"yes", "no"}
    assert sample_frame("regression")["monthly_spend"].dtype.kind == "f"
    with pytest.raises(ValueError, match="unknown task"):
        sample_frame("clustering")


def test_sample_events_are_real_payloads_of_the_same_object(hookline_events):
    aws = hookline_events["aws"]
    record = aws.payload["Records"][0]["s3"]
    assert unquote_plus(record["object"]["key"]) == SAMPLE_KEY == aws.event.key
    assert record["object"]["size"] == aws.event.size
    assert record["object"]["versionId"] == aws.event.version
    gcp = hookline_events["gcp"]
    assert gcp.payload["type"] == "google.cloud.storage.object.v1.finalized"
    assert gcp.payload["data"]["name"] == SAMPLE_KEY
    assert gcp.payload["data"]["generation"] == gcp.event.version
    assert int(gcp.payload["data"]["size"]) == gcp.event.size
    azure = hookline_events["azure"]
    assert azure.payload[0]["eventType"] == "Microsoft.Storage.BlobCreated"
    url = azure.payload[0]["data"]["url"]
    assert unquote(url.split("/acme-ml/", 1)[1]) == SAMPLE_KEY
    assert azure.payload[0]["subject"].endswith("/blobs/" + SAMPLE_KEY)
    for cloud, sample in hookline_events.items():
        parsed = parse_uri(sample.event.uri)
        assert parsed.path.endswith(SAMPLE_KEY), cloud
        json.dumps(sample.payload)
    local = hookline_events["local"]
    assert local.payload == local.event.to_dict()
    # a fresh copy each time: tests may edit payloads freely
    aws.payload["Records"].clear()
    from hookline.testing import sample_events

    assert sample_events()["aws"].payload["Records"]


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_each_clouds_adapter_reads_the_sample_payload_as_the_sample_event(cloud):
    """The kit's expected events are what hookline's own adapters produce."""
    import importlib

    from hookline.testing import sample_events

    sample = sample_events()[cloud]
    parse = importlib.import_module(f"hookline.adapters.{cloud}.events").parse_event
    assert parse(sample.payload) == [sample.event]
