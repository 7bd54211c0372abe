"""Mirroring hookline's registry into the MLflow Model Registry, by reconciliation.

Every registry event (and the end of every run) reconciles one model: the hookline versions
MLflow lacks are created, then each hookline alias is pointed at the MLflow version that
mirrors its hookline version. Reconciling instead of replaying single events is what makes
an alias moved while MLflow was away come right on the next event, and doing it twice
harmless.

MLflow versions are matched to hookline versions by tag (``hookline.version`` and
``hookline.storage``, the storage root), never by number: a registered model that already
holds versions from elsewhere keeps them untouched, and MLflow's numbers simply continue.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from hookline.errors import NotFound
from hookline.plugins._mlflow_client import Session, error_code
from hookline.registry import ModelVersion, Registry
from hookline.storage import Storage

__all__ = ["TAG_STORAGE", "TAG_VERSION", "mirrored_versions", "sync_model", "version_source"]

TAG_VERSION = "hookline.version"
TAG_STORAGE = "hookline.storage"
_ALIAS = re.compile(r"^[\w-]+$")
_REMOTE_TRACKING = ("http", "https", "databricks")


def _mlflow_name(prefix: str, model: str) -> str:
    return f"{prefix}{model}"


def mirrored_versions(client: Any, name: str, storage_uri: str) -> dict[int, list[Any]]:
    """MLflow versions of ``name`` that mirror a hookline version of this storage root,
    by hookline version number (more than one only after a race, see :func:`_create`)."""
    found: dict[int, list[Any]] = {}
    token = None
    while True:
        page = client.search_model_versions(f"name = '{name}'", page_token=token)
        for mv in page:
            tags = mv.tags or {}
            number = str(tags.get(TAG_VERSION, ""))
            if tags.get(TAG_STORAGE) == storage_uri and number.isdigit():
                found.setdefault(int(number), []).append(mv)
        token = getattr(page, "token", None)
        if not token:
            return found


def version_folder(storage: Storage, model: str, version: int) -> str:
    """The URI of a hookline version's folder (``registry/<model>/versions/<NNNNNN>/``)."""
    return storage.url(f"registry/{model}/versions/{int(version):06d}/")


def version_source(
    storage: Storage, tracking_uri: str, mv: ModelVersion, mlflow_run: str | None
) -> tuple[str, bool]:
    """The MLflow ``source`` of a hookline version, and whether it is a pointer artifact
    in the MLflow run (which must then be logged).

    The hookline folder's URI (``s3://...``, ``gs://...``, ``az://...``) in general. A
    tracking *server* refuses local paths as sources (only the run's own artifacts may be),
    so with a local storage root the source is ``runs:/<run>/hookline/model``, where the
    version's manifest is logged; the hookline URI stays in the ``hookline.artifact_uri`` tag.
    """
    folder = version_folder(storage, mv.model, mv.version)
    local = urlsplit(folder).scheme in ("", "file")
    if local and urlsplit(tracking_uri).scheme in _REMOTE_TRACKING and mlflow_run:
        return f"runs:/{mlflow_run}/hookline/model", True
    return folder, False


def _tags(storage: Storage, mv: ModelVersion) -> dict[str, str]:
    manifest = mv.manifest
    lineage = manifest.get("lineage") or {}
    artifact = str(manifest.get("model_artifact") or "model.skops")
    tags = {
        TAG_VERSION: str(mv.version),
        TAG_STORAGE: storage.uri,
        "hookline.model": mv.model,
        "hookline.artifact_uri": version_folder(storage, mv.model, mv.version) + artifact,
        "hookline.model_sha256": str((mv.artifacts.get(artifact) or {}).get("sha256", "")),
        "hookline.run_id": str(manifest.get("run_id") or ""),
        "hookline.pipeline": str(manifest.get("pipeline") or lineage.get("pipeline") or ""),
        "hookline.trigger.uri": str(lineage.get("trigger_uri") or ""),
        "hookline.trigger.version": str(lineage.get("trigger_version") or ""),
        "hookline.trigger.sha256": str(lineage.get("sha256") or ""),
        "hookline.created_by": str(manifest.get("created_by") or ""),
    }
    for key, value in (manifest.get("metrics") or {}).items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            tags[f"hookline.metric.{key}"] = repr(float(value))
    return {k: v[:5000] for k, v in tags.items() if v}


def _describe(mv: ModelVersion) -> str:
    manifest = mv.manifest
    lineage = manifest.get("lineage") or {}
    metrics = ", ".join(
        f"{k}={v:.4g}"
        for k, v in (manifest.get("metrics") or {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    )
    text = f"hookline {mv.model} v{mv.version}, registered by run {manifest.get('run_id')}"
    if lineage.get("trigger_uri"):
        text += f", trained on {lineage['trigger_uri']} (sha256 {lineage.get('sha256')})"
    return text + (f"; hold-out {metrics}" if metrics else "")


def _ensure_model(client: Any, name: str, model: str) -> Any:
    try:
        return client.get_registered_model(name)
    except Exception as exc:
        if error_code(exc) != "RESOURCE_DOES_NOT_EXIST":
            raise
    try:
        return client.create_registered_model(
            name,
            tags={"hookline.model": model},
            description=f"Mirrored from the hookline registry (model {model!r}).",
        )
    except Exception as exc:  # created meanwhile by another mirror
        if error_code(exc) != "RESOURCE_ALREADY_EXISTS":
            raise
        return client.get_registered_model(name)


def _create(
    client: Any,
    name: str,
    storage: Storage,
    mv: ModelVersion,
    source: str,
    mlflow_run: str | None,
) -> Any:
    created = client.create_model_version(
        name,
        source,
        run_id=mlflow_run,
        tags=_tags(storage, mv),
        description=_describe(mv),
        await_creation_for=0,
    )
    # Two mirrors racing on the same version both create one; MLflow has no create-if-absent.
    # Both then keep the lowest MLflow number and remove their own other copy.
    twins = sorted(
        mirrored_versions(client, name, storage.uri).get(mv.version, [created]),
        key=lambda m: int(m.version),
    )
    if len(twins) > 1 and str(twins[0].version) != str(created.version):
        client.delete_model_version(name, created.version)
        return twins[0]
    return created


def sync_model(
    session: Session,
    client: Any,
    registry: Registry,
    model: str,
    *,
    prefix: str,
    tracking_uri: str,
    catch_up: int,
    run_of: Callable[[str], str | None],
) -> dict[str, Any]:
    """Bring MLflow's copy of ``model`` in line with hookline's registry.

    :param session: the bounded session (stops at the first sign MLflow is away).
    :param run_of: the MLflow run id that mirrors a hookline run id, if there is one.
    :param catch_up: the most missing versions created in one call (newest first).
    :returns: what this call did: versions created and aliases set, by hookline number.
    """
    name = _mlflow_name(prefix, model)
    storage = registry.storage
    done: dict[str, Any] = {"model": name, "created": [], "aliases": {}}
    what = f"registry of {model} (versions and aliases, caught up on the next event)"
    registered = session.call(what, lambda: _ensure_model(client, name, model))
    if registered is None:
        return done
    mirrored = session.call(
        f"versions of {name}", lambda: mirrored_versions(client, name, storage.uri)
    )
    if mirrored is None:
        return done
    mapping = {n: str(min(int(m.version) for m in found)) for n, found in mirrored.items()}
    missing = [n for n in registry.version_numbers(model) if n not in mapping]
    if len(missing) > catch_up:
        skipped = missing[:-catch_up] if catch_up > 0 else missing
        session.lost.append(f"{len(skipped)} older version(s) of {model} (catch_up = {catch_up})")
        missing = missing[len(skipped) :]
    for number in missing:
        created = session.call(
            f"model version {model} v{number}",
            partial(_mirror_version, client, name, registry, model, number, tracking_uri, run_of),
        )
        if created is not None:
            mapping[number] = str(created.version)
            done["created"].append(number)
    if session.offline is None:
        current = dict(registered.aliases or {})  # as read a moment ago by _ensure_model
        _sync_aliases(session, client, name, registry, model, mapping, current, done)
    return done


def _mirror_version(
    client: Any,
    name: str,
    registry: Registry,
    model: str,
    number: int,
    tracking_uri: str,
    run_of: Callable[[str], str | None],
) -> Any:
    mv = registry.get(model, number)
    hookline_run = str(mv.manifest.get("run_id") or "")
    mlflow_run = run_of(hookline_run) if hookline_run else None
    source, pointer = version_source(registry.storage, tracking_uri, mv, mlflow_run)
    if pointer:
        manifest = json.dumps(mv.manifest, indent=2, sort_keys=True, default=str)
        client.log_text(mlflow_run, manifest, "hookline/model/manifest.json")
    return _create(client, name, registry.storage, mv, source, mlflow_run)


def _sync_aliases(
    session: Session,
    client: Any,
    name: str,
    registry: Registry,
    model: str,
    mapping: Mapping[int, str],
    current: Mapping[str, str],
    done: dict[str, Any],
) -> None:
    try:
        states = registry.aliases(model)
    except NotFound:
        return
    ours = set(mapping.values())
    for alias, state in sorted(states.items()):
        what = f"alias {model}@{alias} -> v{state.version}"
        if not _ALIAS.match(alias) or alias == "latest":
            session.lost.append(f"{what} (MLflow aliases allow letters, digits, '_' and '-')")
            continue
        if state.version is None:
            # an unset alias: remove MLflow's only when it points at one of our versions
            if current.get(alias) in ours and session.do(
                what, partial(client.delete_registered_model_alias, name, alias)
            ):
                done["aliases"][alias] = None
            continue
        target = mapping.get(state.version)
        if target is None:
            session.lost.append(f"{what} (that version is not mirrored yet)")
        elif current.get(alias) != target and session.do(
            what, partial(client.set_registered_model_alias, name, alias, target)
        ):
            done["aliases"][alias] = state.version
