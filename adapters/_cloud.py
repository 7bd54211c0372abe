"""The cloud descriptor: one small object per cloud package, and the registry of them.

A cloud package (``hookline.adapters.aws``, ``...gcp``, ``...azure``, or a third party's)
exports one :class:`Cloud` instance, ``CLOUD``, and publishes it through the entry-point
group ``hookline.clouds``. Everything outside the package that needs to know about a cloud
-- the events command, secret references (:mod:`hookline.secrets`), packaging -- asks the
descriptor instead of switching on the cloud's name. The package itself is laid out the
same way on every cloud:

==============  ==============================================================
``events``      payload -> :class:`~hookline.events.StorageEvent` (pure, no SDK)
``pipeline``    the pipeline function's handler (per platform)
``serving``     the prediction service's wrapper (per platform)
``storage``     the storage back-end for the cloud's URI scheme
``secrets``     reading a secret reference with the cloud's SDK
==============  ==============================================================

A descriptor imports none of them when it is loaded: each method imports what it needs
when it is called, so asking every installed cloud whether it recognises a secret
reference costs no SDK and no event parser.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hookline.errors import HooklineError
    from hookline.events import Event

__all__ = ["Cloud", "Item", "Packaging", "Role", "clouds", "get_cloud", "infer_cloud"]


@dataclass(frozen=True)
class Role:
    """One deployable function (or source archive) of a cloud.

    :param name: ``pipeline``, ``serving``, or ``source`` (one archive for both, GCP).
    :param entry_files: files of the cloud's ``functions/`` folder copied to the artifact's
        root (the first is the entry file).
    :param handler: what the platform is told to run: a Lambda handler
        (``pipeline.handler``), a source file with entry points (``main.py``), a function
        app script (``function_app.py``).
    :param entry_points: the function targets in the entry file (GCP: one archive, two
        functions).
    :param env: settings the function needs to take this role (Azure: ``HOOKLINE_ROLE``).
    :param requirements: what the platform's runtime needs beyond hookline (the function
        host's own library: ``functions-framework``, ``azure-functions``, ``mangum``).
    """

    name: str
    entry_files: tuple[str, ...]
    handler: str
    entry_points: Mapping[str, str] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()


@dataclass(frozen=True)
class Packaging:
    """What ``hookline package`` needs to know to build a cloud's bundles.

    :param functions: the cloud's folder of entry files (``functions/<folder>/``).
    :param roles: the artifacts built, each with its entry files and handler.
    :param site_dir: where dependencies are installed inside the archive (``""``: its
        root); ``None`` when the platform installs them from ``requirements.txt``.
    :param prepend_dir: where the archive's root is at run time.
    :param extras: hookline's extras the bundles carry (the cloud's SDKs).
    :param runtime: the platform's name of a Python runtime, ``{python}`` being ``X.Y``
        and ``{nodot}`` ``XY``: ``python{python}`` (Lambda), ``python{nodot}`` (Cloud Run
        functions), ``{python}`` (Azure Functions).
    :param pythons: the Python versions the platform runs.
    :param architectures: the CPU architectures it runs them on.
    :param glibc: the newest glibc minor version of the platform's Linux, by Python
        version (``"*"``: every other version); wheels for a newer glibc fail at import.
    """

    functions: str
    roles: tuple[Role, ...]
    site_dir: str | None
    prepend_dir: str
    extras: tuple[str, ...]
    runtime: str
    pythons: tuple[str, ...]
    architectures: tuple[str, ...]
    glibc: Mapping[str, int]

    def role(self, name: str) -> Role:
        """The role called ``name``. :raises KeyError: the cloud builds no such artifact."""
        for role in self.roles:
            if role.name == name:
                return role
        raise KeyError(name)

    def runtime_id(self, python: str) -> str:
        """The platform's runtime name for Python ``X.Y`` (``python3.12``, ``python312``)."""
        return self.runtime.format(python=python, nodot=python.replace(".", ""))

    def glibc_for(self, python: str) -> int:
        return int(self.glibc.get(python, self.glibc["*"]))


@dataclass(frozen=True)
class Item:
    """One independently answered part of a delivery: an SQS message of a batch, or a
    whole delivery where the platform answers it as one.

    :param id: the platform's id of the item (an SQS ``messageId``); ``None`` for a whole
        delivery.
    :param where: the item's path in the payload (``Records[3]``), ``None`` for a whole one.
    :param events: the events it holds (empty: nothing to run, e.g. ``s3:TestEvent``).
    :param error: why it cannot be run (then ``events`` is empty).
    """

    id: str | None
    where: str | None
    events: tuple[Event, ...] = ()
    error: HooklineError | None = None

    def to_dict(self) -> dict[str, Any]:
        """What ``hookline events parse`` prints for the item."""
        from hookline.errors import answer

        out: dict[str, Any] = {"id": self.id, "where": self.where}
        if self.error is None:
            out["events"] = [event.to_dict() for event in self.events]
            return out
        verdict = answer(self.error)
        out["error"] = verdict.detail
        out["retry"] = verdict.retry
        return out


class Cloud:
    """What hookline knows about one cloud. Subclasses set the attributes; the methods'
    defaults use the package's modules by their common names (``events.parse_event``,
    ``events.classify``, ``events.sample_event``, ``events.sample_schedule``,
    ``secrets.claims``, ``secrets.read_secret``), imported only when called, and a cloud
    overrides what differs.

    :cvar name: ``aws``, ``gcp``, ``azure`` (the entry point's name, ``--cloud``).
    :cvar title: for people: ``AWS``, ``Google Cloud``, ``Azure``.
    :cvar package: the cloud's package (``hookline.adapters.aws``).
    :cvar scheme: the storage URI scheme (``s3``); ``hookline.storage`` maps it to the
        back-end.
    :cvar extra: hookline's install extra with the cloud's SDKs (``pip install
        'hookline[aws]'``).
    :cvar kinds: the payload shapes :meth:`sample` prints, the default first.
    :cvar sample_option: the keyword of ``events.sample_event`` that takes the kind.
    :cvar secret_sdk: what to ``pip install`` to read the cloud's secrets.
    :cvar secret_forms: the secret reference forms :meth:`claims_secret` recognises.
    :cvar packaging: what ``hookline package`` needs to know.
    """

    name: str
    title: str
    package: str
    scheme: str
    extra: str
    kinds: tuple[str, ...]
    sample_option: str = "kind"
    secret_sdk: str
    secret_forms: tuple[str, ...]
    packaging: Packaging

    def __repr__(self) -> str:
        return f"<cloud {self.name}>"

    def module(self, name: str) -> Any:
        """The package's module ``name`` (``events``, ``secrets``...), imported now."""
        import importlib

        return importlib.import_module(f"{self.package}.{name}")

    # -- events --------------------------------------------------------------------------

    def infer(self, payload: Any) -> bool:
        """Whether ``payload`` has the shape of one of this cloud's deliveries (never
        raises; a payload two clouds could send, such as a bare schedule, may be claimed by
        both). Default: ``events.classify`` says anything but ``unknown``."""
        return bool(self.module("events").classify(payload) != "unknown")

    def parse(self, payload: Any) -> list[Event]:
        """The events in one delivery, as the pipeline function reads it.

        :raises EventError: the payload is not an event hookline runs on.
        """
        return list(self.module("events").parse_event(payload))

    def items(self, payload: Any) -> list[Item]:
        """The delivery item by item, as the pipeline function answers it; by default one
        item, the whole delivery."""
        from hookline.errors import HooklineError

        try:
            return [Item(None, None, tuple(self.parse(payload)))]
        except HooklineError as exc:
            return [Item(None, None, error=exc)]

    def batch_answer(self, payload: Any, failed: set[str]) -> Any:
        """What the pipeline function answers the platform for a batch whose items
        ``failed`` (by id) could not be run, every other item having run; ``None`` when the
        platform answers deliveries as a whole."""
        return None

    def sample(
        self,
        uri: str,
        *,
        kind: str | None = None,
        size: int = 1024,
        event_time: str | None = None,
        **options: Any,
    ) -> Any:
        """A realistic payload announcing that the object at ``uri`` was created.

        :param kind: one of :attr:`kinds` (default: the first).
        :raises UsageError: a URI of another scheme, an unknown kind.
        """
        options[self.sample_option] = kind or self.kinds[0]
        return self.module("events").sample_event(uri, size=size, event_time=event_time, **options)

    def sample_schedule(self, pipeline: str, *, event_time: str | None = None) -> Any:
        """A realistic payload of a scheduled firing of ``pipeline``."""
        return self.module("events").sample_schedule(pipeline, event_time=event_time)

    # -- the function host ----------------------------------------------------------------

    def configure_logging(self) -> bool:
        """Make log lines JSON objects on the cloud's function host (once per process; off
        the platform nothing changes). See :func:`hookline.adapters.cloud.configure_logging`.

        :returns: whether logging was configured by this call.
        """
        return False

    # -- secrets (the core asks these, see hookline.clouds.SecretStore) --------------------

    def claims_secret(self, ref: str) -> bool:
        """Whether ``ref`` is one of this cloud's secret references (no SDK is imported)."""
        return bool(self.module("secrets").claims(ref))

    def read_secret(self, ref: str) -> str:
        """The text of the secret ``ref`` names.

        :raises ImportError: the SDK is not installed.
        :raises ConfigError: the reference is malformed.
        """
        return str(self.module("secrets").read_secret(ref))


def clouds() -> dict[str, Cloud]:
    """The installed clouds by name (entry-point group ``hookline.clouds``)."""
    from hookline.clouds import installed

    return {name: cloud for name, cloud in installed().items() if isinstance(cloud, Cloud)}


def get_cloud(name: str) -> Cloud:
    """The installed cloud called ``name``.

    :raises UsageError: no such cloud is installed (the message lists those that are).
    """
    from hookline.clouds import broken

    found = clouds()
    if name in found:
        return found[name]
    from hookline.errors import UsageError

    why = broken().get(name)
    raise UsageError(
        f"unknown cloud {name!r}" + (f" (its package failed to load: {why})" if why else ""),
        hint=f"installed clouds: {', '.join(found) or 'none'}",
    )


def infer_cloud(payload: Any) -> Cloud:
    """The one installed cloud whose delivery ``payload`` looks like.

    :raises UsageError: none or several clouds claim it (pass ``--cloud``).
    """
    from hookline.errors import UsageError

    claimed = [cloud for cloud in clouds().values() if cloud.infer(payload)]
    if len(claimed) == 1:
        return claimed[0]
    names = ", ".join(c.name for c in claimed)
    raise UsageError(
        "the payload looks like a delivery of " + (names if claimed else "no installed cloud"),
        hint="name the cloud: --cloud " + " | ".join(clouds()),
    )
