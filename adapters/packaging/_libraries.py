"""Which versions of scikit-learn, numpy, scipy, pandas and skops a bundle carries.

A model is served by the libraries it was fitted with, or it may fail to load (skops refuses
unknown types) or, worse, predict differently. So a bundle defaults to the versions of the
training environment that produced each pipeline's production model (the ``libraries`` its
version manifest records); with no production model yet, to the versions of the environment
that packages (where ``hookline run`` trains locally). Packaging refuses, naming the model,
its version and both versions of each library, when the bundle would carry others, unless
``--force`` (then it warns).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version

from hookline.adapters.packaging._spec import MODEL_LIBRARIES, split_requirement
from hookline.errors import HooklineError, NotFound

__all__ = [
    "LibraryMismatch",
    "LibraryPlan",
    "TrainedWith",
    "environment_versions",
    "mismatches",
    "pin_requirements",
    "plan",
    "production_models",
]


class LibraryMismatch(HooklineError):
    """The production model was trained with library versions the bundle would not carry
    (exit code 2: what was asked for cannot be built safely)."""

    exit_code = 2


@dataclass(frozen=True, slots=True)
class TrainedWith:
    """A production model and the library versions its training run recorded."""

    model: str
    version: int
    alias: str
    libraries: Mapping[str, str]

    @property
    def label(self) -> str:
        return f"model {self.model!r} version {self.version} ({self.alias})"


@dataclass(frozen=True)
class LibraryPlan:
    """The versions to pin, and where they come from.

    :param pins: ``{distribution: version}`` for the libraries in :data:`MODEL_LIBRARIES`.
    :param source: ``"model"`` (a production model's training run), ``"environment"``
        (this interpreter's installed versions) or ``"none"`` (pip decides).
    :param models: the production models every bundle is checked against.
    """

    pins: Mapping[str, str]
    source: str
    models: tuple[TrainedWith, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(self.pins.items()))
        if self.source == "model":
            return f"library versions of {self.models[0].label}: {listed}"
        if self.source == "environment":
            return f"library versions of this environment (no production model yet): {listed}"
        return "library versions chosen by the resolver"


def _norm(name: str) -> str:
    return split_requirement(name)[0]


def production_models(config: object, registry: str | None) -> list[TrainedWith]:
    """The production model of every pipeline that names one, with its training libraries.

    :param config: a loaded :class:`hookline.config.Config`.
    :param registry: storage URI of the registry (``None``: the config's storage root;
        ``"none"``: do not look).
    :raises HooklineError: the registry cannot be read (other than "not there yet").
    """
    from hookline.project import Project

    if registry == "none":
        return []
    uri = registry or str(config.storage)  # type: ignore[attr-defined]
    pipelines = config.pipelines.values()  # type: ignore[attr-defined]
    wanted = list(dict.fromkeys((p.model, p.alias) for p in pipelines if p.model))
    try:
        reg = Project(config.with_storage(uri)).registry  # type: ignore[attr-defined]
        found = []
        for model, alias in wanted:
            try:
                mv = reg.resolve(model, alias)
            except NotFound:
                mv = None
            if mv is None:
                continue
            libs = mv.manifest.get("libraries") or {}
            found.append(
                TrainedWith(
                    model,
                    mv.version,
                    alias,
                    {_norm(k): str(v) for k, v in libs.items() if _norm(k) in MODEL_LIBRARIES},
                )
            )
        return found
    except NotFound:
        return []
    except HooklineError as exc:
        raise HooklineError(
            f"cannot read the registry at {uri} to learn which library versions trained "
            f"the production models: {exc.message}",
            hint="pass --registry URI where it can be read, or --registry none to bundle "
            "this environment's versions",
        ) from exc


def environment_versions() -> dict[str, str]:
    """The installed versions of :data:`MODEL_LIBRARIES` in this interpreter."""
    found = {}
    for name in MODEL_LIBRARIES:
        try:
            found[name] = dist_version(name)
        except PackageNotFoundError:
            continue
    return found


def plan(models: Sequence[TrainedWith]) -> LibraryPlan:
    """Pins from the first production model (the others are checked against the bundle),
    else from this environment."""
    if models:
        return LibraryPlan(dict(models[0].libraries), "model", tuple(models))
    env = environment_versions()
    return LibraryPlan(env, "environment" if env else "none")


def pin_requirements(requirements: Sequence[str], pins: Mapping[str, str]) -> tuple[str, ...]:
    """``requirements`` plus ``name==version`` for each pinned library they name (only
    those: a serving bundle without pandas gains no pandas). Nothing is replaced, so a
    requirement that wants another release (``--with scikit-learn==1.7.2``) conflicts with
    the pin instead of being overridden."""
    named = {_norm(r) for r in requirements if not r.endswith(".whl") and "/" not in r}
    extra = [f"{name}=={pins[name]}" for name in MODEL_LIBRARIES if name in named and name in pins]
    return tuple(requirements) + tuple(x for x in extra if x not in requirements)


def mismatches(
    models: Sequence[TrainedWith], carried: Mapping[str, str]
) -> list[tuple[TrainedWith, list[tuple[str, str, str]]]]:
    """For each model, the libraries the bundle carries in another version:
    ``[(model, [(library, trained, carried), ...]), ...]`` (models that agree are left out)."""
    norm = {_norm(k): v for k, v in carried.items()}
    out = []
    for m in models:
        diff = [
            (lib, trained, norm[lib])
            for lib, trained in sorted(m.libraries.items())
            if lib in norm and norm[lib] != trained
        ]
        if diff:
            out.append((m, diff))
    return out


def check(
    models: Sequence[TrainedWith],
    carried: Mapping[str, str],
    bundle: str,
    *,
    force: bool,
    why: str = "",
) -> list[str]:
    """Refuse (or, with ``force``, warn about) a bundle that carries other versions than
    a production model was trained with.

    :returns: warnings (``force``) or ``[]``.
    :raises LibraryMismatch: naming model, version and both versions of each library.
    """
    found = mismatches(models, carried)
    if not found:
        return []
    lines = [
        f"{m.label} was trained with "
        + ", ".join(f"{lib} {trained}" for lib, trained, _ in diff)
        + f"; the {bundle} would carry "
        + ", ".join(f"{lib} {have}" for lib, _, have in diff)
        for m, diff in found
    ]
    if force:
        return [
            f"--force: {line} (the model may fail to load or predict differently)" for line in lines
        ]
    raise LibraryMismatch(
        "\n".join(lines) + (f"\n  ({why})" if why else ""),
        hint="package for a runtime where the training versions install (another --python "
        "or --arch), or retrain the model with the versions the bundle carries; --force "
        "builds anyway",
    )
