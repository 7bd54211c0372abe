"""A project, opened once: its configuration and everything built from it.

Every face of hookline -- the command line, the three clouds' function entry points, the
prediction service, the dashboard and the plugin kit -- starts from a :class:`Project`.
It decides *once* where the configuration is (:func:`find_config`), and opens the storage
root, the registry, the run store, the retrain requests and the plugin manager lazily, the
first time each is asked for, so a command that only lists runs never loads plugins and a
warm function reuses all of it.

Where the configuration is, in order: the path or URI given explicitly, else
``$HOOKLINE_CONFIG``, else the ``hookline.toml`` bundled beside a deployed entry file, else
``./hookline.toml``. A storage root given explicitly (``--storage``) wins over the file's,
and a project that only reads (``hookline runs --storage URI``) needs no file at all.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

from hookline.config import Config, find_config, load_config, storage_only_config
from hookline.storage import Storage, open_storage, parse_uri

if TYPE_CHECKING:
    from hookline._manager import PluginManager
    from hookline.registry import Registry
    from hookline.retrain import RetrainRequests
    from hookline.runs import RunStore

__all__ = ["Project", "find_config"]

log = logging.getLogger("hookline.project")


class Project:
    """One project: its configuration, and its storage, registry, runs and plugins.

    :param config: the validated configuration.
    :param storage: the storage root, when already open (tests, or a caller that built
        its own); by default opened from ``config.storage`` on first use.
    :param plugins: a plugin manager, when already built; by default one is built on
        first use from installed entry points, honouring ``$HOOKLINE_PLUGINS`` and
        ``[project] plugins``.
    """

    def __init__(
        self,
        config: Config,
        *,
        storage: Storage | None = None,
        plugins: PluginManager | None = None,
    ) -> None:
        self.config = config
        self._storage = storage
        self._plugins = plugins
        self._roots: dict[str, Storage] = {}
        self._checked = False

    @classmethod
    def open(
        cls,
        config: Config | str | os.PathLike[str] | None = None,
        *,
        bundle_dir: str | os.PathLike[str] | None = None,
        storage: Storage | str | None = None,
        require_config: bool = True,
        plugins: PluginManager | None = None,
    ) -> Project:
        """Open the project whose configuration :func:`find_config` finds.

        :param config: a :class:`Config`, or an explicit path or URI of the file.
        :param bundle_dir: the folder of a deployed entry file (see :func:`find_config`).
        :param storage: a storage root (URI or open storage) that wins over the file's.
        :param require_config: when ``False`` and a ``storage`` root is given, a missing
            configuration file is not an error: the project can read runs and models.
        :raises ConfigError: the file is missing (and required) or invalid.
        """
        if isinstance(config, Config):
            cfg = config
        else:
            location = find_config(config, bundle_dir=bundle_dir)
            if not require_config and storage is not None and not _exists(location, config):
                cfg = storage_only_config(storage if isinstance(storage, str) else storage.uri)
            else:
                cfg = load_config(location)
        if isinstance(storage, str):
            cfg = cfg.with_storage(storage)
            return cls(cfg, plugins=plugins)
        return cls(cfg, storage=storage, plugins=plugins)

    # -- what a project opens ---------------------------------------------------------------

    @property
    def storage(self) -> Storage:
        """The storage root: registry, run records, monitoring and reports live here."""
        if self._storage is None:
            self._storage = open_storage(self.config.storage)
        return self._storage

    @property
    def plugins(self) -> PluginManager:
        """The plugin manager, built and checked against the configuration on first use.

        :raises PluginLoadError: a plugin failed to import or register.
        :raises ConfigError: a ``[plugins.NAME]`` table names no loaded plugin, or does not
            validate against the plugin's ``CONFIG``.
        """
        if self._plugins is None:
            from hookline._manager import make_plugin_manager

            self._plugins = make_plugin_manager(
                pinned=os.environ.get("HOOKLINE_PLUGINS") or self.config.project.get("plugins")
            )
        if not self._checked:
            pm = self._plugins
            self.config.check_plugins({name: pm.get_plugin(name) for name in pm.infos})
            self._checked = True
        return self._plugins

    @cached_property
    def registry(self) -> Registry:
        """The model registry in the storage root, trusting what ``[registry]`` lists.

        Registry events (``after_version_registered``, ``after_alias_moved``) reach the
        plugins however the change is made; the plugin manager is built for the first
        event, not before.
        """
        from hookline.registry import open_registry
        from hookline.secrets import read_secret

        # the trust list and, when its variable is set, the signing key (or a secret
        # reference in <name>_SECRET, read by the installed cloud that recognises it)
        return open_registry(
            self.storage, self.config.registry, observer=self._observe, secret_reader=read_secret
        )

    @cached_property
    def runs(self) -> RunStore:
        """Claims, run records and the run index."""
        from hookline.runs import RunStore

        return RunStore(self.storage, claim_timeout=self.config.runs["claim_timeout_seconds"])

    @cached_property
    def retrain(self) -> RetrainRequests:
        """The retrain requests monitoring opens and promotions close."""
        from hookline.retrain import RetrainRequests

        return RetrainRequests(self.storage)

    def open_root(self, uri: str) -> Storage:
        """The storage root at ``uri``: the project's own when ``uri`` is its root, else
        opened once and kept (landing buckets of hybrid set-ups)."""
        if uri == self.config.storage or uri == self.storage.uri:
            return self.storage
        if uri not in self._roots:
            self._roots[uri] = open_storage(uri)
        return self._roots[uri]

    def landing(self, pipeline: str) -> Storage:
        """Where uploads for ``pipeline`` land: its trigger's ``source``, else the root."""
        trigger = self.config.pipelines[pipeline].trigger
        if trigger is not None and trigger.source:
            return self.open_root(trigger.source)
        return self.storage

    def bucket_of(self, uri: str) -> Storage:
        """The storage rooted at the bucket (or folder root) of object ``uri``."""
        parsed = parse_uri(uri)
        return self.open_root(f"{parsed.scheme}://{parsed.bucket}")

    def section(self, name: str) -> Mapping[str, Any]:
        """An adapter's validated settings section (``serving``, ``ui``...), defaults filled."""
        return self.config.section(name)

    # -- internals --------------------------------------------------------------------------

    def _observe(self, hook: str, **kwargs: Any) -> None:
        try:
            pm = self.plugins
        except Exception as exc:  # plugins that cannot load must not undo a registry move
            log.warning("%s not delivered: plugins could not be loaded: %s", hook, exc)
            return
        pm.call_observers(hook, project=self, **kwargs)

    @property
    def observer(self) -> Callable[..., None]:
        """The callable the registry reports its events to (hook name, keyword args)."""
        return self._observe


def _exists(location: str, explicit: object) -> bool:
    if explicit is not None or "://" in location:
        return True  # an explicit or remote configuration must exist: let loading say so
    path = location.removeprefix("file://")
    return os.path.exists(path)
