"""The model registry: plain objects in the user's own storage root, no server.

Keys are built by :mod:`hookline.layout` (``registry/<model>/versions/<000007>/...``,
``registry/<model>/aliases/<alias>.json``): a version is allocated by a create-only
``_claim.json``, its artifacts are written, then its manifest, last.
With a signing key, ``signature.json`` beside the manifest holds the HMAC of the manifest
and the artifact digests (see :mod:`hookline.signing`).

Guarantees: two concurrent registrations never get the same version; nothing points at a
version before all its artifacts are written; every alias move (promote, approve,
rollback) is appended to the alias's history in the same atomic write that moves it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hookline import jsonio, layout, modelio
from hookline._modelref import ModelRef, parse_model_ref
from hookline._signed import VersionCheck, VersionSigning
from hookline._versionmeta import VersionMetadata
from hookline.errors import (
    AlreadyExists,
    HooklineError,
    ModelIntegrityError,
    NotFound,
    PreconditionFailed,
    UsageError,
)
from hookline.events import utc_now_iso
from hookline.signing import SIGNATURE, SigningKey, key_from_settings
from hookline.storage import Storage
from hookline.types import AliasMove, ModelVersion

if TYPE_CHECKING:
    from hookline.types import RunContext

__all__ = [
    "BUILTIN_TRUSTED_TYPES",
    "AliasState",
    "ModelRef",
    "ModelVersion",
    "Observer",
    "Registry",
    "VersionCheck",
    "actor",
    "check_type_names",
    "open_registry",
    "parse_model_ref",
]

BUILTIN_TRUSTED_TYPES = modelio.BUILTIN_TRUSTED_TYPES
check_type_names = modelio.check_type_names

log = logging.getLogger("hookline.registry")

Observer = Callable[..., None]
"""Receives registry events: ``observer(hook_name, ctx=..., **arguments)``; the project
passes them to the plugins' ``after_version_registered`` / ``after_alias_moved``."""

_MAX_CAS_ATTEMPTS = 200
_RESERVED = (layout.MANIFEST, layout.VERSION_CLAIM, layout.VERSION_META, SIGNATURE)
"""File names of a version that no artifact may take."""


def actor() -> str:
    """Who is acting: ``$HOOKLINE_ACTOR``, else the login name, else ``unknown``."""
    explicit = os.environ.get("HOOKLINE_ACTOR")
    if explicit:
        return explicit
    try:
        import getpass

        return getpass.getuser()
    except Exception:
        return "unknown"


@dataclass(frozen=True, slots=True)
class AliasState:
    """Where an alias points, and every move it made."""

    model: str
    alias: str
    version: int | None
    seq: int
    history: tuple[Mapping[str, Any], ...] = field(default_factory=tuple)
    etag: str | None = None

    def _stack(self) -> list[int | None]:
        """The versions a rollback walks back through: every move pushes, a rollback pops."""
        stack: list[int | None] = []
        for entry in self.history:
            if entry.get("action") == "rollback":
                if stack:
                    stack.pop()
            else:
                stack.append(entry.get("version"))
        return stack

    @property
    def can_roll_back(self) -> bool:
        """Whether :meth:`Registry.rollback` has an earlier version to return to."""
        return len(self._stack()) >= 2

    @property
    def rollback_target(self) -> int | None:
        """The version :meth:`Registry.rollback` would move to (``None``: none, or unset)."""
        stack = self._stack()
        return stack[-2] if len(stack) >= 2 else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "alias": self.alias,
            "version": self.version,
            "seq": self.seq,
            "history": list(self.history),
        }


def open_registry(
    storage: Storage,
    settings: Mapping[str, Any],
    *,
    environ: Mapping[str, str] | None = None,
    secret_reader: Any = None,
    observer: Observer | None = None,
) -> Registry:
    """A registry configured by its settings table (``trusted_types``, ``signing_key_env``,
    ``signing_key_id``): the signing key is read from the environment, or through
    ``secret_reader(reference)`` from a cloud secret.

    :raises ConfigError: the signing key cannot be read or is too short.
    :raises UsageError: a trusted name that is not exact.
    """
    return Registry(
        storage,
        trusted_types=settings.get("trusted_types") or (),
        signing_key=key_from_settings(settings, environ=environ, secret_reader=secret_reader),
        observer=observer,
    )


class Registry(VersionSigning, VersionMetadata):
    """The registry in one storage root (signatures: :class:`~hookline._signed.VersionSigning`;
    tags, descriptions and references: :class:`~hookline._versionmeta.VersionMetadata`)."""

    _CACHED_MODELS = 4

    def __init__(
        self,
        storage: Storage,
        *,
        trusted_types: Iterable[str] = (),
        signing_key: SigningKey | None = None,
        observer: Observer | None = None,
    ) -> None:
        """:param trusted_types: exact type and function names a model may contain beyond
            skops' defaults and :data:`BUILTIN_TRUSTED_TYPES` (never prefixes).
        :param signing_key: sign every version written, and refuse unsigned or
            mis-signed versions for loading and for alias moves (off when ``None``).
        :param observer: receives the registry's events (see :data:`Observer`).
        :raises UsageError: a name that is not an exact ``module.Name``."""
        self.storage = storage
        self.signing_key = signing_key
        self._signed_ok: set[tuple[str, int, str]] = set()
        try:
            self.trusted_types = modelio.check_type_names(trusted_types)
        except ValueError as exc:
            raise UsageError(
                f"trusted_types: {exc}", hint=f"fix {modelio.TRUSTED_TYPES_KEY}"
            ) from None
        self._observer = observer
        self._ctx: RunContext | None = None
        # Verified estimators by (model, version, sha256): a warm function scoring batch
        # after batch loads and verifies each version once. Versions are immutable.
        self._models: dict[tuple[str, int, str], Any] = {}

    def for_run(self) -> Registry:
        """A view of this registry for one run: the same storage, trust and model cache;
        its events carry the run's context once :meth:`attach` names it."""
        view = Registry.__new__(Registry)
        view.__dict__.update(self.__dict__)
        view._ctx = None
        return view

    def attach(self, ctx: RunContext) -> None:
        """Name the run whose changes this view makes (see :meth:`for_run`)."""
        self._ctx = ctx

    def _notify(self, hook: str, **arguments: Any) -> None:
        if self._observer is None:
            return
        try:
            self._observer(hook, ctx=self._ctx, **arguments)
        except Exception as exc:  # an observer never undoes or fails a registry change
            log.warning("registry event %s: an observer failed: %s", hook, exc)

    # -- reading --------------------------------------------------------------------------

    def models(self) -> list[str]:
        names = set()
        for info in self.storage.list(layout.REGISTRY):
            found = layout.model_of(info.key)
            # a model exists once it has a version or an alias; other objects under its
            # prefix (reports, indexes) do not make one
            if found is not None and found[1] in ("versions", "aliases"):
                names.add(found[0])
        return sorted(names)

    def _version_numbers(self, model: str, *, claimed: bool) -> list[int]:
        found = set()
        for info in self.storage.list(layout.versions_prefix(model)):
            parsed = layout.version_number(model, info.key)
            if parsed is not None and (claimed or parsed[1] == layout.MANIFEST):
                found.add(parsed[0])
        return sorted(found)

    def version_numbers(self, model: str) -> list[int]:
        """The numbers of ``model``'s complete versions, oldest first, from one listing
        (no manifest is read): what a mirror compares against to find what it lacks."""
        return self._version_numbers(model, claimed=False)

    def versions(self, model: str) -> list[ModelVersion]:
        """Every complete version of ``model``, oldest first."""
        return [self.get(model, v) for v in self._version_numbers(model, claimed=False)]

    def get(self, model: str, version: int) -> ModelVersion:
        key = layout.manifest_key(model, version)
        try:
            manifest = jsonio.loads(self.storage.read(key))
        except NotFound:
            raise NotFound(
                f"model {model!r} has no version {version}", uri=self.storage.url(key)
            ) from None
        return ModelVersion(model, int(version), manifest)

    def alias(self, model: str, alias: str) -> AliasState | None:
        key = layout.alias_key(model, alias)
        try:
            raw, info = self.storage.read_with_info(key)
        except NotFound:
            return None
        doc = jsonio.loads(raw)
        return AliasState(
            model,
            alias,
            doc.get("version"),
            int(doc.get("seq", 0)),
            tuple(doc.get("history", ())),
            info.etag,
        )

    def aliases(self, model: str) -> dict[str, AliasState]:
        prefix = layout.aliases_prefix(model)
        out: dict[str, AliasState] = {}
        for info in self.storage.list(prefix):
            name = info.key[len(prefix) :].removesuffix(".json")
            state = self.alias(model, name)
            if state is not None:
                out[name] = state
        return out

    def resolve(self, model: str, alias: str) -> ModelVersion | None:
        """The complete version ``alias`` points at, or ``None`` when it points nowhere."""
        state = self.alias(model, alias)
        if state is None or state.version is None:
            return None
        return self.get(model, state.version)

    def read_artifact(self, model: str, version: int, name: str) -> bytes:
        """Read one artifact and check its sha256 against the manifest (and, with a
        signing key, the manifest against its signature)."""
        mv = self.get(model, version)
        self.require_signed(mv, "reading")
        meta = mv.artifacts.get(name)
        key = layout.version_key(model, version, name)
        if meta is None:
            raise NotFound(
                f"model {model!r} version {version} has no artifact {name!r}",
                uri=self.storage.url(key),
            )
        data = self.storage.read(key)
        if modelio.sha256(data) != meta["sha256"]:
            raise ModelIntegrityError(
                f"{self.storage.url(key)}: checksum mismatch: the artifact was modified "
                "after it was registered",
                hint="roll the alias back to another version",
            )
        return data

    def load_model(
        self, model: str, *, version: int | None = None, alias: str | None = None
    ) -> tuple[Any, ModelVersion]:
        """Load a verified estimator by version or alias. Pickle is never loaded."""
        if version is None:
            mv = self.resolve(model, alias or "production")
            if mv is None:
                raise NotFound(
                    f"model {model!r} has no version behind alias {alias or 'production'!r}"
                )
        else:
            mv = self.get(model, version)
        self.require_signed(mv, "loading")
        name = mv.manifest.get("model_artifact", "model.skops")
        meta = mv.artifacts.get(name) or {}
        cache_key = (model, mv.version, str(meta.get("sha256", "missing")))
        if cache_key in self._models:
            return self._models[cache_key], mv
        key = layout.version_key(model, mv.version, name)
        data = self.storage.read(key)
        estimator = modelio.loads(
            data,
            expected_sha256=meta.get("sha256", "missing"),
            where=f"model {model!r} version {mv.version} ({self.storage.url(key)})",
            trusted=self.trusted_types,
        )
        if len(self._models) >= self._CACHED_MODELS:
            self._models.pop(next(iter(self._models)))
        self._models[cache_key] = estimator
        return estimator, mv

    # -- writing --------------------------------------------------------------------------

    def register(
        self,
        model: str,
        artifacts: Mapping[str, bytes],
        metadata: Mapping[str, Any],
        *,
        model_artifact: str = "model.skops",
    ) -> ModelVersion:
        """Allocate the next version, write every artifact, then the manifest.

        :param artifacts: name to bytes; names are plain file names.
        :param metadata: metrics, params, lineage, features... merged into the manifest.
        """
        for name in artifacts:
            if "/" in name or name in _RESERVED or not name:
                raise UsageError(f"invalid artifact name {name!r}")
        run_id = str(metadata["run_id"]) if metadata.get("run_id") else None
        version = self._version_of(model, run_id) if run_id else self._allocate(model, None)
        manifest_key = layout.manifest_key(model, version)
        if self.storage.stat(manifest_key) is not None:  # an earlier attempt finished it
            return self._finish_signature(self.get(model, version), run_id)
        recorded: dict[str, Any] = {}
        for name, data in sorted(artifacts.items()):
            self.storage.write(layout.version_key(model, version, name), data)
            recorded[name] = {"sha256": modelio.sha256(data), "size": len(data)}
        manifest = {
            **metadata,
            "model": model,
            "version": version,
            "created_at": utc_now_iso(),
            "created_by": actor(),
            "model_artifact": model_artifact,
            "artifacts": recorded,
        }
        try:
            self.storage.create(manifest_key, jsonio.dumps(manifest))
        except AlreadyExists:
            return self._finish_signature(self.get(model, version), run_id)
        registered = self.get(model, version)  # as stored: what is signed is what is read
        if self.signing_key is not None:
            self._write_signature(registered)
        self._notify("after_version_registered", version=registered)
        return registered

    def _version_of(self, model: str, run_id: str) -> int:
        """The version run ``run_id`` registers: the one it allocated on an earlier attempt,
        else a new one. Never two, and never a number lost to a crash.

        The run's marker is created *before* the allocation (``version: null``) and
        completed after it, so a crash between the two leaves a marker that says "this run
        allocated, look for its claim" rather than no trace at all.
        """
        key = layout.by_run_key(model, run_id)
        try:
            info = self.storage.create(key, jsonio.dumps({"run_id": run_id, "version": None}))
        except AlreadyExists:
            raw, info = self.storage.read_with_info(key)
            found = jsonio.loads(raw).get("version")
            if found is not None:
                return int(found)
            # An earlier attempt allocated (or crashed before allocating): its claim says.
            claimed = self._claimed_by(model, run_id)
            if claimed is not None:
                self._complete_marker(key, run_id, claimed, info.etag)
                return claimed
        version = self._allocate(model, run_id)
        return self._complete_marker(key, run_id, version, info.etag)

    def _complete_marker(self, key: str, run_id: str, version: int, etag: str) -> int:
        doc = jsonio.dumps({"run_id": run_id, "version": version})
        try:
            self.storage.replace(key, doc, etag)
        except PreconditionFailed:  # the same run, racing itself: follow the first to finish
            found = jsonio.loads(self.storage.read(key)).get("version")
            if found is not None:
                return int(found)
        return version

    def _claimed_by(self, model: str, run_id: str, *, scan: int = 1000) -> int | None:
        """The newest version whose allocation claim names ``run_id`` (recovery path only:
        it reads claims, newest first, at most ``scan``)."""
        for number in reversed(self._version_numbers(model, claimed=True)[-scan:]):
            try:
                claim = jsonio.loads(self.storage.read(layout.version_claim_key(model, number)))
            except NotFound:
                continue
            if claim.get("run_id") == run_id:
                return number
        return None

    def register_estimator(
        self,
        model: str,
        estimator: Any,
        metadata: Mapping[str, Any],
        extra: Mapping[str, bytes] | None = None,
    ) -> ModelVersion:
        artifacts = {"model.skops": modelio.dumps(estimator), **(extra or {})}
        return self.register(model, artifacts, {**metadata, "format": "skops"})

    def _allocate(self, model: str, run_id: Any) -> int:
        numbers = self._version_numbers(model, claimed=True)
        candidate = (numbers[-1] + 1) if numbers else 1
        claim = jsonio.dumps({"run_id": run_id, "claimed_at": utc_now_iso(), "by": actor()})
        for _ in range(_MAX_CAS_ATTEMPTS):
            try:
                self.storage.create(layout.version_claim_key(model, candidate), claim)
                return candidate
            except AlreadyExists:
                candidate += 1
        raise HooklineError(
            f"could not allocate a version of model {model!r} after {_MAX_CAS_ATTEMPTS} attempts"
        )

    def move_alias(
        self,
        model: str,
        alias: str,
        version: int | None,
        *,
        action: str = "promote",
        by: str | None = None,
        reason: str = "",
        run_id: str | None = None,
        expected: int | str | None = "any",
        evidence: Mapping[str, Any] | None = None,
    ) -> AliasState:
        """Point ``alias`` at ``version`` by compare-and-swap and append the move to its
        history. The version must be complete (its manifest written).

        :param expected: when given, move only if the alias currently points at this
            version (``None``: only if unset); else raise :class:`PreconditionFailed`.
            The check and the move are one conditional write: a promotion judged against
            version P can only replace P.
        :param evidence: what the move rests on (the comparison with the version it
            replaces, the evaluation data's digest), kept in the history entry.
        """
        if version is not None:
            # NotFound for incomplete or missing versions; with a key, a version whose
            # signature is missing or wrong is never promoted (nor rolled back to)
            self.require_signed(self.get(model, version), f"{action} to alias {alias!r}")
        key = layout.alias_key(model, alias)
        for _ in range(_MAX_CAS_ATTEMPTS):
            state = self.alias(model, alias)
            current = state.version if state else None
            if (
                state is not None
                and run_id
                and current == version
                and state.history
                and state.history[-1].get("run_id") == run_id
            ):
                return state  # this run already made this move: a retry changes nothing
            if expected != "any" and current != expected:
                raise PreconditionFailed(
                    f"alias {alias!r} of {model!r} points at {current}, expected {expected}",
                    uri=self.storage.url(key),
                )
            seq = (state.seq if state else 0) + 1
            entry = {
                "seq": seq,
                "action": action,
                "version": version,
                "previous": current,
                "by": by or actor(),
                "at": utc_now_iso(),
                "reason": reason,
                "run_id": run_id,
            }
            if evidence:
                entry["evidence"] = dict(evidence)
            history = [*(state.history if state else ()), entry]
            doc = {
                "model": model,
                "alias": alias,
                "version": version,
                "seq": seq,
                "updated_at": entry["at"],
                "history": history,
            }
            try:
                if state is None:
                    info = self.storage.create(key, jsonio.dumps(doc))
                else:
                    info = self.storage.replace(key, jsonio.dumps(doc), state.etag or "")
            except PreconditionFailed:
                continue  # someone moved it first: re-read and try again
            self._notify(
                "after_alias_moved",
                move=AliasMove(
                    model=model,
                    alias=alias,
                    version=version,
                    previous=current,
                    action=action,
                    by=str(entry["by"]),
                    at=str(entry["at"]),
                    reason=reason,
                    run_id=run_id,
                    seq=seq,
                ),
            )
            return AliasState(model, alias, version, seq, tuple(history), info.etag)
        raise HooklineError(f"could not move alias {alias!r} of {model!r}: too much contention")

    def rollback(
        self,
        model: str,
        alias: str = "production",
        *,
        by: str | None = None,
        reason: str = "",
        expected: int | str | None = "any",
    ) -> AliasState:
        """Point ``alias`` back at the version it pointed at before its latest promotion.

        :param expected: when given, roll back only if the alias currently points at this
            version (``None``: only if unset); else raise :class:`PreconditionFailed`.
        """
        state = self.alias(model, alias)
        if state is None:
            raise UsageError(f"model {model!r} has no alias {alias!r} to roll back")
        if expected != "any" and state.version != expected:
            raise PreconditionFailed(
                f"alias {alias!r} of {model!r} points at {state.version}, expected {expected}",
                uri=self.storage.url(layout.alias_key(model, alias)),
            )
        if not state.can_roll_back:
            raise UsageError(
                f"alias {alias!r} of {model!r} has no earlier version to roll back to",
                hint="promote a version explicitly instead",
            )
        return self.move_alias(
            model,
            alias,
            state.rollback_target,
            action="rollback",
            by=by,
            reason=reason,
            expected=state.version,
        )

    def approve(
        self,
        model: str,
        version: int,
        *,
        alias: str = "production",
        by: str | None = None,
        reason: str = "",
    ) -> AliasState:
        """Promote a version waiting for approval (usually the one ``staging`` points at)."""
        return self.move_alias(model, alias, version, action="approve", by=by, reason=reason)
