"""The plugin loader: validation at load, errors that name plugin, distribution and hook."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from hookline import hookimpl
from hookline._manager import make_plugin_manager
from hookline.errors import HookFailed, NoProvider, PluginLoadError, PluginValidationError


def test_misspelled_hook_is_named_with_a_guess() -> None:
    class P:
        @hookimpl
        def trian(self, ctx, dataset): ...

    with pytest.raises(PluginValidationError) as err:
        make_plugin_manager(plugins={"typo": P()}, entry_points_group=None)
    assert "plugin 'typo'" in str(err.value)
    assert "'trian' is not a hookline hook" in str(err.value)
    assert "did you mean 'train'?" in str(err.value)


def test_argument_the_spec_lacks_is_named() -> None:
    class P:
        @hookimpl
        def train(self, ctx, dataset, gpu): ...

    with pytest.raises(PluginValidationError, match="hook 'train': argument 'gpu' is not in"):
        make_plugin_manager(plugins={"p": P()}, entry_points_group=None)


def test_argument_with_a_default_is_refused() -> None:
    class P:
        @hookimpl
        def train(self, ctx, dataset=None): ...

    with pytest.raises(PluginValidationError, match="'train': argument 'dataset' has a default"):
        make_plugin_manager(plugins={"p": P()}, entry_points_group=None)


def test_registering_a_class_instead_of_an_instance_is_explained() -> None:
    class P:
        @hookimpl
        def train(self, ctx, dataset): ...

    with pytest.raises(PluginValidationError, match=r"forgotten the \(\)"):
        make_plugin_manager(plugins={"p": P}, entry_points_group=None)


def test_exception_inside_a_hook_names_plugin_and_hook() -> None:
    class P:
        @hookimpl
        def before_stage_run(self, ctx, stage):
            raise RuntimeError("boom")

        @hookimpl
        def train(self, ctx, dataset):
            raise KeyError("label")

    pm = make_plugin_manager(plugins={"bad": P()}, entry_points_group=None)
    with pytest.raises(HookFailed) as err:
        pm.hook.train(ctx=None, dataset=None)
    assert str(err.value).startswith("plugin 'bad' failed in hook 'train': KeyError")
    assert isinstance(err.value.__cause__, KeyError)
    # observers never break the run: the failure is logged
    pm.call_observers("before_stage_run", ctx=None, stage="train")


def test_provider_nobody_answers_lists_who_passed() -> None:
    class Shy:
        @hookimpl
        def train(self, ctx, dataset):
            return None

    pm = make_plugin_manager(plugins={"shy": Shy()}, entry_points_group=None)
    with pytest.raises(NoProvider, match="'shy' all returned None"):
        pm.call_provider("train", ctx=None, dataset=None)
    empty = make_plugin_manager(plugins={}, entry_points_group=None)
    with pytest.raises(NoProvider, match="no plugin implements hook 'train'"):
        empty.call_provider("train", ctx=None, dataset=None)


def test_trylast_builtin_loses_to_a_third_party_provider() -> None:
    class Builtin:
        @hookimpl(trylast=True)
        def train(self, ctx, dataset):
            return "builtin"

    class ThirdParty:
        @hookimpl
        def train(self, ctx, dataset):
            return "third-party"

    pm = make_plugin_manager(
        plugins={"third": ThirdParty(), "builtin": Builtin()}, entry_points_group=None
    )
    assert pm.call_provider("train", ctx=None, dataset=None) == "third-party"


@pytest.fixture
def broken_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """An installed-looking distribution whose plugin module fails to import."""
    pkg = tmp_path / "site"
    (pkg / "brokenplug").mkdir(parents=True)
    (pkg / "brokenplug" / "__init__.py").write_text("import not_a_module_anywhere\n")
    dist = pkg / "brokenplug-1.2.3.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenplug\nVersion: 1.2.3\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent("""
        [hookline-test]
        broken = brokenplug
        [hookline-test-ok]
        fine = hookline.hookspecs
    """)
    )
    monkeypatch.syspath_prepend(str(pkg))
    return "hookline-test"


def test_plugin_that_fails_to_import_is_named_with_its_distribution(
    broken_distribution: str,
) -> None:
    with pytest.raises(PluginLoadError) as err:
        make_plugin_manager(entry_points_group=broken_distribution, pinned=None, disabled="")
    msg = str(err.value)
    assert "plugin 'broken' (from brokenplug 1.2.3)" in msg
    assert "ModuleNotFoundError" in msg and "not_a_module_anywhere" in msg
    assert "HOOKLINE_DISABLE_PLUGINS=broken" in msg
    assert isinstance(err.value.__cause__, ModuleNotFoundError)


def test_disabled_plugins_are_not_loaded(broken_distribution: str) -> None:
    pm = make_plugin_manager(entry_points_group=broken_distribution, disabled="broken")
    assert "broken" not in pm.infos


def test_pinning_an_unknown_plugin_lists_the_installed_ones(broken_distribution: str) -> None:
    with pytest.raises(PluginLoadError, match="pinned in HOOKLINE_PLUGINS but not installed"):
        make_plugin_manager(entry_points_group=broken_distribution, pinned="nope")


def test_environment_pins_the_plugin_set(
    broken_distribution: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOKLINE_PLUGINS", "fine")
    pm = make_plugin_manager(entry_points_group=broken_distribution + "-ok")
    assert set(pm.infos) == {"fine"}
    assert pm.infos["fine"].distribution == "brokenplug"


def test_builtins_load_through_entry_points_with_their_distribution() -> None:
    pm = make_plugin_manager(pinned=None, disabled="")
    for info in pm.infos.values():
        if info.origin.startswith("hookline.plugins."):
            assert info.distribution == "hookline"
            assert info.version
    assert "hookline" in sys.modules
