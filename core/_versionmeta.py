"""Tags and a description on registered versions, and resolving model references.

A version's manifest is written once and (with a signing key) signed, so what people
change later lives beside it: ``registry/<model>/versions/<v>/meta.json``
(:func:`hookline.layout.version_meta_key`), created only if absent and then replaced only
if unchanged, so two people tagging at once both land. Nothing automatic reads it to
decide anything: it is description, never evidence (gates, promotion and loading ignore
it). Every change is appended to the file's history and fires ``after_version_updated``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hookline import jsonio, layout
from hookline._modelref import ModelRef, parse_model_ref
from hookline.errors import (
    AlreadyExists,
    HooklineError,
    NotFound,
    PreconditionFailed,
    UsageError,
)
from hookline.events import utc_now_iso
from hookline.types import ModelVersion, VersionMeta

if TYPE_CHECKING:
    from hookline.storage import Storage

__all__ = ["MAX_DESCRIPTION", "MAX_TAGS", "MAX_TAG_VALUE", "VersionMetadata", "check_tags"]

MAX_TAGS = 100
MAX_TAG_VALUE = 5000
MAX_DESCRIPTION = 20_000
_TAG_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:/-]{0,127}$")
_CAS_ATTEMPTS = 100


def check_tags(tags: Mapping[str, Any]) -> dict[str, str]:
    """Tags as stored: string keys of letters, digits, ``_ . : / -`` (128 at most) and
    string values (5000 characters at most, no NUL).

    :raises UsageError: naming the key that is wrong and why.
    """
    out: dict[str, str] = {}
    for key, value in tags.items():
        if not isinstance(key, str) or not _TAG_KEY.match(key):
            raise UsageError(
                f"invalid tag key {key!r}",
                hint="use letters, digits, '_', '.', ':', '/' and '-' (max 128 characters), "
                "starting with a letter, digit or '_'",
            )
        if key == "description":
            raise UsageError(
                "'description' is not a tag: it is the version's description",
                hint="set it with `hookline models describe NAME/VERSION TEXT`",
            )
        if not isinstance(value, str):
            raise UsageError(f"tag {key!r}: the value must be text, got {type(value).__name__}")
        if len(value) > MAX_TAG_VALUE or "\x00" in value:
            raise UsageError(
                f"tag {key!r}: the value must be text of at most {MAX_TAG_VALUE} characters "
                "without NUL"
            )
        out[key] = value
    return out


class VersionMetadata:
    """Mixed into :class:`hookline.registry.Registry`: tags, descriptions, references."""

    storage: Storage

    # provided by the registry
    def get(self, model: str, version: int) -> ModelVersion:  # pragma: no cover
        raise NotImplementedError

    def resolve(self, model: str, alias: str) -> ModelVersion | None:  # pragma: no cover
        raise NotImplementedError

    def _notify(self, hook: str, **arguments: Any) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- references -----------------------------------------------------------------------

    def lookup(self, ref: str | ModelRef, *, default_alias: str | None = None) -> ModelVersion:
        """The complete version a reference names: ``name/3`` that version, ``name@alias``
        the version the alias points at, a bare ``name`` the version ``default_alias``
        points at (when given).

        :raises UsageError: a malformed reference, or a bare name without a default alias.
        :raises NotFound: no such version, or the alias points at none.
        """
        parsed = parse_model_ref(ref) if isinstance(ref, str) else ref
        if parsed.version is not None:
            return self.get(parsed.name, parsed.version)
        alias = parsed.alias or default_alias
        if alias is None:
            raise UsageError(
                f"{parsed.name!r} names a model, not one of its versions",
                hint=f"write {parsed.name}/VERSION or {parsed.name}@ALIAS "
                f"(e.g. {parsed.name}@production)",
            )
        found = self.resolve(parsed.name, alias)
        if found is None:
            raise NotFound(
                f"alias {alias!r} of model {parsed.name!r} points at no version",
                hint=f"see `hookline models show {parsed.name}`",
            )
        return found

    # -- tags and description ---------------------------------------------------------------

    def _read_meta(self, model: str, version: int) -> tuple[dict[str, Any] | None, str | None]:
        try:
            raw, info = self.storage.read_with_info(layout.version_meta_key(model, version))
        except NotFound:
            return None, None
        doc = jsonio.loads(raw)
        return (doc if isinstance(doc, dict) else {}), info.etag

    def version_meta(self, model: str, version: int) -> VersionMeta:
        """The tags and description of a version (empty when never set).

        Reads one small object; it does not check that the version exists (reading the
        notes of every listed version stays one read each)."""
        doc, _ = self._read_meta(model, version)
        return _meta(model, version, doc or {})

    def update_version(
        self,
        model: str,
        version: int,
        *,
        tags: Mapping[str, str] | None = None,
        remove: Iterable[str] = (),
        description: str | None = None,
        by: str | None = None,
    ) -> VersionMeta:
        """Set or remove tags and set the description of a complete version, by
        compare-and-swap; a change that changes nothing writes nothing and fires nothing.

        :param tags: keys to set (existing values are replaced).
        :param remove: keys to remove (a key that is not there is ignored).
        :param description: the new description (``None``: unchanged; ``""`` clears it).
        :raises NotFound: the version does not exist.
        :raises UsageError: an invalid tag, a key both set and removed, too many tags, or a
            description too long.
        """
        from hookline.registry import actor

        wanted = check_tags(tags or {})
        dropped = sorted(set(remove))
        both = sorted(set(wanted) & set(dropped))
        if both:
            raise UsageError(f"tag {both[0]!r} is both set and removed")
        if description is not None and (
            not isinstance(description, str) or len(description) > MAX_DESCRIPTION
        ):
            raise UsageError(
                f"the description must be text of at most {MAX_DESCRIPTION} characters"
            )
        mv = self.get(model, version)  # NotFound names the version
        key = layout.version_meta_key(model, version)
        for _ in range(_CAS_ATTEMPTS):
            doc, etag = self._read_meta(model, version)
            current = _meta(model, version, doc or {})
            new_tags = {k: v for k, v in current.tags.items() if k not in dropped}
            new_tags.update(wanted)
            new_tags = dict(sorted(new_tags.items()))
            changed = sorted(
                k
                for k in set(new_tags) | set(current.tags)
                if new_tags.get(k) != current.tags.get(k)
            )
            if description is not None and description != current.description:
                changed.append("description")
            if not changed:
                return current
            if len(new_tags) > MAX_TAGS:
                raise UsageError(
                    f"model {model!r} version {version} would have {len(new_tags)} tags, "
                    f"more than {MAX_TAGS}",
                    hint="remove some with --remove KEY",
                )
            entry = {
                "seq": current.seq + 1,
                "at": utc_now_iso(),
                "by": by or actor(),
                "set": {k: new_tags[k] for k in changed if k in new_tags},
                "removed": [k for k in changed if k != "description" and k not in new_tags],
            }
            if "description" in changed:
                entry["description"] = description
            stored = {
                "model": model,
                "version": version,
                "tags": new_tags,
                "description": current.description if description is None else description,
                "seq": entry["seq"],
                "updated_at": entry["at"],
                "updated_by": entry["by"],
                "history": [*((doc or {}).get("history") or []), entry],
            }
            try:
                if etag is None:
                    self.storage.create(key, jsonio.dumps(stored))
                else:
                    self.storage.replace(key, jsonio.dumps(stored), etag)
            except (AlreadyExists, PreconditionFailed):
                continue  # someone changed it first: re-read and apply ours on top
            meta = _meta(model, version, stored, changed=tuple(changed))
            self._notify("after_version_updated", version=mv, meta=meta)
            return meta
        raise HooklineError(
            f"could not update model {model!r} version {version}: too much contention"
        )


def _meta(
    model: str, version: int, doc: Mapping[str, Any], *, changed: tuple[str, ...] = ()
) -> VersionMeta:
    tags = doc.get("tags")
    return VersionMeta(
        model=model,
        version=int(version),
        tags={str(k): str(v) for k, v in tags.items()} if isinstance(tags, dict) else {},
        description=str(doc.get("description") or ""),
        seq=int(doc.get("seq") or 0),
        by=doc.get("updated_by"),
        at=doc.get("updated_at"),
        changed=changed,
    )
