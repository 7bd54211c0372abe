"""Loading the served model, caching it across warm invocations, and swapping in a new one
when its alias moves.

What is served is one immutable :class:`ModelBundle` -- estimator, version, feature schema,
request model and input builder together. A new version is read, verified (sha256, skops'
trusted types), turned into a complete bundle and warmed up *before* one attribute
assignment makes it current, so a request sees the old bundle or the new one, never a mix
and never a half-loaded model. The bundle a request started with is the one that answers
it and is named in its response.

The alias is checked at most every ``reload_seconds``. Once a model is loaded, the check
(and any reload) runs in a background thread while the current model keeps answering;
only the very first load makes requests wait.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hookline.adapters.serving._predictor import OnnxPredictor, Predictor, SklearnPredictor
from hookline.adapters.serving._schema import FeatureSchema, build_record_model
from hookline.errors import ModelIntegrityError, NotFound, Unavailable
from hookline.registry import Registry
from pydantic import BaseModel, TypeAdapter

__all__ = ["ModelBundle", "ModelHolder", "ModelUnavailable"]

log = logging.getLogger("hookline.serving")


class ModelUnavailable(Unavailable):
    """No verified model can answer (nothing promoted yet, or loading failed): HTTP 503."""

    title = "model unavailable"

    def __init__(self, message: str, *, hint: str | None = None, retry_after: int = 1) -> None:
        super().__init__(message, hint=hint)
        self.headers = {"Retry-After": str(retry_after)}


@dataclass(frozen=True, slots=True, eq=False)
class ModelBundle:
    """Everything one loaded version needs to answer requests. Never mutated."""

    name: str
    version: int
    alias: str
    predictor: Predictor
    manifest: Mapping[str, Any]
    record_model: type[BaseModel]
    batch_adapter: TypeAdapter[Any]
    fields: tuple[str, ...]
    """The record model's attribute names, in column order."""
    task: str
    uri: str
    loaded_at: float = field(default_factory=time.time)
    load_seconds: float = 0.0
    runtime: str = "sklearn"
    """What predicts: ``onnx`` (onnxruntime) or ``sklearn`` (the skops model)."""
    runtime_reason: str | None = None
    """Why ``runtime`` was chosen when ``auto`` did not choose ONNX."""

    @property
    def version_header(self) -> str:
        return str(self.version)

    @property
    def schema(self) -> FeatureSchema:
        """Features in the order the predictor takes them."""
        return self.predictor.schema

    @property
    def classes(self) -> tuple[Any, ...] | None:
        return self.predictor.classes

    @property
    def has_proba(self) -> bool:
        return self.classes is not None and self.predictor.has_proba

    def rows(self, records: Sequence[BaseModel]) -> list[tuple[Any, ...]]:
        """Validated records to value tuples in column order."""
        names = self.fields
        return [tuple(getattr(r, n) for n in names) for r in records]

    def predict(
        self, rows: Sequence[Sequence[Any]], proba: bool
    ) -> tuple[list[Any], list[list[float]] | None]:
        """Predictions (and class probabilities when asked) for ``rows``."""
        both = getattr(self.predictor, "predict_both", None)
        if both is not None:
            return both(rows, proba)  # type: ignore[no-any-return]
        predictions = self.predictor.predict(rows)
        return predictions, self.predictor.predict_proba(rows) if proba else None


def build_bundle(
    registry: Registry, name: str, alias: str, version: int, *, runtime: str = "auto"
) -> ModelBundle:
    """Load and verify ``name`` version ``version`` and build its bundle.

    :param runtime: ``auto`` (the ONNX model when the manifest says it passed parity, else
        the skops model), ``onnx`` (the ONNX model or nothing) or ``sklearn``.
    :raises ModelIntegrityError: checksum, signature, pickle, untrusted types, a bad
        feature schema, or ONNX inputs that do not match it.
    :raises ModelUnavailable: ``runtime = "onnx"`` and the version has no ONNX model.
    :raises NotFound: the version or its artifact is missing.
    """
    started = time.perf_counter()
    uri = registry.storage.url(f"registry/{name}/versions/{version:06d}/")
    predictor: Predictor
    reason: str | None = None
    if runtime == "sklearn":
        reason = '[serving] runtime = "sklearn"'
    else:
        reason = onnx_unavailable(registry.get(name, version).manifest)
    if reason is None and runtime == "auto" and not _has_onnxruntime():
        reason = "onnxruntime is not installed (pip install onnxruntime)"
    if reason is None:
        from hookline.onnx import load_version

        try:
            onnx_model, mv = load_version(registry, name, version)
        except NotFound as exc:  # the artifact went missing after registration
            raise ModelIntegrityError(str(exc), hint="roll the alias back") from None
        # A version is served whole or not at all: its skops model, schema and profile must
        # still match the manifest too, though only the ONNX model predicts.
        check = registry.verify(name, version)
        if not check.ok:
            raise ModelIntegrityError(
                f"model {name!r} version {version} ({uri}) does not verify: "
                + "; ".join(check.problems),
                hint="roll the alias back, or re-register the version",
            )
        predictor = OnnxPredictor(
            onnx_model, FeatureSchema.from_manifest(mv.manifest, where=uri), where=uri
        )
    elif runtime == "onnx":
        raise ModelUnavailable(
            f"model {name!r} version {version} has no ONNX model to serve ({reason}) and "
            '[serving] runtime = "onnx": set runtime = "auto" to serve its skops model, or '
            "promote a version whose pipeline converts to ONNX"
        )
    else:
        model, mv = registry.load_model(name, version=version)
        predictor = SklearnPredictor(
            model, FeatureSchema.from_manifest(mv.manifest, where=uri), where=uri
        )
        if runtime == "auto":
            log.info("%s version %s is served with scikit-learn: %s", name, version, reason)
    record_model = build_record_model(predictor.schema)
    task = mv.manifest.get("task") or (
        "classification" if predictor.classes is not None else "regression"
    )
    bundle = ModelBundle(
        name=name,
        version=mv.version,
        alias=alias,
        predictor=predictor,
        manifest=mv.manifest,
        record_model=record_model,
        batch_adapter=TypeAdapter(list[record_model]),  # type: ignore[valid-type]
        fields=tuple(record_model.model_fields),
        task=str(task),
        uri=uri,
        load_seconds=time.perf_counter() - started,
        runtime="onnx" if isinstance(predictor, OnnxPredictor) else "sklearn",
        runtime_reason=reason,
    )
    _warm_up(bundle)
    return bundle


def _has_onnxruntime() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("onnxruntime") is not None
    except ValueError:  # in sys.modules as None: imports of it are refused
        return False


def onnx_unavailable(manifest: Mapping[str, Any]) -> str | None:
    """Why a version's ONNX model cannot be served, or ``None`` when it can (its manifest
    says it converted and passed the parity gate)."""
    from hookline.onnx import ARTIFACT

    spec = manifest.get("onnx") or {}
    if spec.get("status") != "ok":
        detail = spec.get("reason") or "it was registered without one"
        return f"no ONNX model passed parity: {detail}"
    if ARTIFACT not in (manifest.get("artifacts") or {}):
        return f"the manifest lists no {ARTIFACT}"
    return None


def _warm_up(bundle: ModelBundle) -> None:
    """One prediction on a made-up row, so the first real request does not pay for
    scikit-learn's lazy imports. A failure is only logged: the row is not real data."""
    row = []
    for f in bundle.schema.features:
        if f.categories is not None:
            row.append(f.categories[0])
        else:
            row.append({"number": 0.0, "integer": 0, "string": "", "boolean": False}[f.dtype])
    try:
        bundle.predict([tuple(row)], proba=bundle.has_proba)
    except Exception as exc:
        log.debug("warm-up prediction of %s v%s failed: %s", bundle.name, bundle.version, exc)


class ModelHolder:
    """The current bundle of one served model and alias.

    :param registry: the registry to load from (any storage back-end).
    :param name: the model's name.
    :param alias: the alias to follow (``production`` by default).
    :param reload_seconds: check the alias at most this often.
    :param clock: monotonic clock (tests pass their own).
    :param loader: builds a bundle (tests pass slower ones).
    """

    def __init__(
        self,
        registry: Registry,
        name: str,
        alias: str,
        reload_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        loader: Callable[[Registry, str, str, int], ModelBundle] | None = None,
        runtime: str = "auto",
    ) -> None:
        self.registry = registry
        self.name = name
        self.alias = alias
        self.reload_seconds = max(0.0, float(reload_seconds))
        self._clock = clock
        self.runtime = runtime
        self._loader = loader or functools.partial(build_bundle, runtime=runtime)
        self._bundle: ModelBundle | None = None
        self._next_check = 0.0
        self._load_lock = threading.Lock()
        self._flag_lock = threading.Lock()
        self._checking = False
        self._unavailable: str = "the model has not been loaded yet"
        self.last_error: str | None = None
        self.last_check: float | None = None

    # -- the request path -------------------------------------------------------------------

    def current(self) -> ModelBundle | None:
        """The bundle now being served, without any I/O."""
        return self._bundle

    def get_nowait(self) -> ModelBundle | None:
        """The current bundle, or ``None`` when none is loaded yet (call :meth:`load`).

        When the alias is due for a check, a background thread checks it; this request is
        answered by the current bundle either way.
        """
        bundle = self._bundle
        if bundle is not None and self._clock() >= self._next_check:
            self._start_background_check()
        return bundle

    def load(self) -> ModelBundle:
        """Return the current bundle, loading it first if there is none (blocking).

        :raises ModelUnavailable: nothing is promoted, or the promoted version failed to
            load; checked again at most every ``reload_seconds``.
        """
        bundle = self._bundle
        if bundle is not None:
            return bundle
        with self._load_lock:
            if self._bundle is None and self._clock() >= self._next_check:
                self._check()
            if self._bundle is None:
                raise ModelUnavailable(
                    self._unavailable,
                    hint=self._hint(),
                    retry_after=int(self.reload_seconds) or 1,
                )
            return self._bundle

    # -- checking and swapping -------------------------------------------------------------

    def check_now(self) -> ModelBundle | None:
        """Check the alias now and load a new version if it moved (blocking)."""
        with self._load_lock:
            self._check()
        return self._bundle

    def _start_background_check(self) -> None:
        with self._flag_lock:
            if self._checking:
                return
            self._checking = True
            self._next_check = self._clock() + self.reload_seconds
        thread = threading.Thread(
            target=self._background_check, name="hookline-reload", daemon=True
        )
        thread.start()

    def _background_check(self) -> None:
        try:
            with self._load_lock:
                self._check()
        finally:
            with self._flag_lock:
                self._checking = False

    def _check(self) -> None:
        """Read the alias; load and swap in a new version when it moved. Never raises:
        failures are recorded and the current bundle keeps answering. Caller holds
        ``_load_lock``."""
        self._next_check = self._clock() + self.reload_seconds
        self.last_check = time.time()
        try:
            state = self.registry.alias(self.name, self.alias)
        except Exception as exc:
            self._failed(f"cannot read alias {self.alias!r} of model {self.name!r}: {exc}")
            return
        target = state.version if state is not None else None
        current = self._bundle
        if target is None:
            if current is not None:
                log.warning(
                    "alias %r of %r no longer points at a version: serving stops",
                    self.alias,
                    self.name,
                )
            self._bundle = None
            self._unavailable = (
                f"no model is promoted yet: alias {self.alias!r} of model {self.name!r} "
                f"points at no version ({self.registry.storage.uri})"
            )
            self.last_error = None
            return
        if current is not None and current.version == target:
            self.last_error = None
            return
        try:
            bundle = self._loader(self.registry, self.name, self.alias, target)
        except Exception as exc:
            self._failed(
                f"cannot load model {self.name!r} version {target} (alias {self.alias!r}): {exc}"
            )
            return
        self._bundle = bundle  # the atomic swap
        self.last_error = None
        log.info(
            "serving %s version %s (alias %r), loaded in %.2fs",
            self.name,
            bundle.version,
            self.alias,
            bundle.load_seconds,
        )

    def _failed(self, message: str) -> None:
        self.last_error = message
        if self._bundle is None:
            self._unavailable = message
        log.error(
            "%s%s",
            message,
            "" if self._bundle is None else f"; still serving version {self._bundle.version}",
        )

    def _hint(self) -> str:
        if self._unavailable.startswith("no model is promoted"):
            return (
                f"promote a version: hookline models promote {self.name} VERSION "
                f"--alias {self.alias}"
            )
        if "[serving] runtime" in self._unavailable:
            return (
                'set [serving] runtime = "auto" to serve the skops model, or promote a '
                "version with an ONNX model"
            )
        return (
            "check the registry and the serving logs; the alias is checked again every "
            f"{self.reload_seconds:g}s"
        )

    def status(self) -> dict[str, Any]:
        """What /health reports."""
        bundle = self._bundle
        return {
            "model": self.name,
            "alias": self.alias,
            "version": bundle.version if bundle else None,
            "loaded_at": bundle.loaded_at if bundle else None,
            "last_check": self.last_check,
            "last_error": self.last_error,
            "reload_seconds": self.reload_seconds,
            "runtime": bundle.runtime if bundle else None,
            "runtime_setting": self.runtime,
            "runtime_reason": bundle.runtime_reason if bundle else None,
        }
