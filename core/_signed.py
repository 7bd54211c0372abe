"""Signatures and verification of registry versions: the part of :class:`Registry` that
writes ``signature.json``, refuses unsigned or mis-signed versions when a key is
configured, and checks every artifact's bytes (``hookline models verify``)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from hookline import jsonio, layout
from hookline.errors import ModelIntegrityError, NotFound, UsageError
from hookline.events import utc_now_iso
from hookline.signing import SIGNATURE, SigningKey, signed_payload

if TYPE_CHECKING:
    from hookline.storage import Storage
    from hookline.types import ModelVersion

__all__ = ["UNSIGNED", "VersionCheck", "VersionSigning"]

UNSIGNED = "it is unsigned"


@dataclass(frozen=True, slots=True)
class VersionCheck:
    """What :meth:`Registry.verify` found for one version.

    :param problems: empty when every artifact matches its recorded sha256 and size and,
        with a signing key, the signature is valid.
    :param signature: ``valid``, ``unsigned``, ``invalid``, or, without a key,
        ``present (not checked: no signing key)`` / ``none``.
    """

    model: str
    version: int
    artifacts: int
    signature: str
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def line(self) -> str:
        """One line: ``churn v7 ok: 3 artifacts, signature valid``."""
        head = f"{self.model} v{self.version}"
        if self.ok:
            return f"{head} ok: {self.artifacts} artifact(s) match, signature {self.signature}"
        return f"{head} FAILED: {'; '.join(self.problems)}"


class VersionSigning:
    """Mixed into :class:`~hookline.registry.Registry` (which provides the storage, the
    key and the version layout)."""

    storage: Storage
    signing_key: SigningKey | None
    _signed_ok: set[tuple[str, int, str]]

    def get(self, model: str, version: int) -> ModelVersion:  # pragma: no cover
        raise NotImplementedError

    def _signature_key(self, model: str, version: int) -> str:
        return layout.version_key(model, version, SIGNATURE)

    def _write_signature(self, mv: ModelVersion) -> dict[str, Any]:
        assert self.signing_key is not None
        doc = self.signing_key.document(
            signed_payload(mv.model, mv.version, mv.manifest), at=utc_now_iso(), by=_actor()
        )
        self.storage.write(self._signature_key(mv.model, mv.version), jsonio.dumps(doc))
        return doc

    def _finish_signature(self, mv: ModelVersion, run_id: str | None) -> ModelVersion:
        """A retried registration found its version complete: with a key, sign it if a
        crash came between the manifest and the signature (only this run's own version,
        and only when every artifact still matches its digest)."""
        if (
            self.signing_key is not None
            and run_id
            and mv.manifest.get("run_id") == run_id
            and self.signature_problem(mv) == UNSIGNED
            and not self._artifact_problems(mv)
        ):
            self._write_signature(mv)
        return mv

    def signature_problem(self, mv: ModelVersion) -> str | None:
        """Why ``mv`` does not carry a valid signature of the configured key (``None``
        when it does, or when no key is configured)."""
        key = self.signing_key
        if key is None:
            return None
        payload = signed_payload(mv.model, mv.version, mv.manifest)
        token = (mv.model, mv.version, payload["manifest_sha256"])
        if token in self._signed_ok:
            return None
        try:
            doc = jsonio.loads(self.storage.read(self._signature_key(mv.model, mv.version)))
        except NotFound:
            return UNSIGNED
        except ValueError:
            return "its signature.json is not valid JSON"
        problem = key.problem(payload, doc)
        if problem is None:
            self._signed_ok.add(token)
        return problem

    def require_signed(self, mv: ModelVersion, action: str) -> None:
        """:raises ModelIntegrityError: signing is on and ``mv``'s signature is missing or
        wrong; nothing is loaded or moved."""
        problem = self.signature_problem(mv)
        if problem is None:
            return
        where = f"{mv.model} {mv.version}"
        if problem == UNSIGNED:  # written before signing was on: can be vouched for
            hint = (
                f"promote or roll back to a version that verifies (`hookline models verify "
                f"{mv.model}`); if this version was written before signing was turned on "
                f"and you have checked it, sign it: `hookline models sign {where}`"
            )
        else:  # a signature that does not match: tampering, or another key
            hint = (
                f"do not re-sign it unless you know why it changed (a key rotation: "
                f"`hookline models sign {where} --replace`); promote or roll back to a "
                f"version that verifies (`hookline models verify {mv.model}`)"
            )
        raise ModelIntegrityError(
            f"model {mv.model!r} version {mv.version} refused for {action}: {problem} "
            f"({self.storage.url(self._signature_key(mv.model, mv.version))})",
            hint=hint,
        )

    def _artifact_problems(self, mv: ModelVersion) -> list[str]:
        """Every artifact's bytes against its recorded sha256 and size (streamed)."""
        problems = []
        for name, meta in sorted(mv.artifacts.items()):
            key = layout.version_key(mv.model, mv.version, name)
            digest, size = hashlib.sha256(), 0
            try:
                with self.storage.open(key) as fh:
                    while chunk := fh.read(1 << 20):
                        digest.update(chunk)
                        size += len(chunk)
            except NotFound:
                problems.append(f"{name} is missing")
                continue
            if digest.hexdigest() != meta.get("sha256"):
                problems.append(f"{name} checksum mismatch (modified after it was registered)")
            elif meta.get("size") is not None and size != meta.get("size"):
                problems.append(f"{name} is {size} bytes, the manifest says {meta.get('size')}")
        return problems

    def verify(self, model: str, version: int) -> VersionCheck:
        """Check one version: every artifact's bytes against the manifest and, with a
        signing key, the signature. Never raises for what it finds (only storage errors
        and an unknown version raise)."""
        mv = self.get(model, version)
        problems = []
        if mv.manifest.get("model") not in (None, model) or mv.manifest.get("version") not in (
            None,
            int(version),
        ):
            problems.append(
                f"its manifest says model {mv.manifest.get('model')!r} version "
                f"{mv.manifest.get('version')} (copied from another version?)"
            )
        problems += self._artifact_problems(mv)
        if not mv.artifacts:
            problems.append("its manifest lists no artifacts")
        if self.signing_key is not None:
            problem = self.signature_problem(mv)
            signature = (
                "valid" if problem is None else ("unsigned" if problem == UNSIGNED else "invalid")
            )
            if problem is not None:
                problems.append(f"signature: {problem}")
        else:
            present = self.storage.stat(self._signature_key(model, version)) is not None
            signature = "present (not checked: no signing key)" if present else "none"
        return VersionCheck(model, mv.version, len(mv.artifacts), signature, tuple(problems))

    def sign(self, model: str, version: int, *, replace: bool = False) -> dict[str, Any]:
        """Sign an existing version (turning signing on for a registry that has
        versions) after checking that every artifact still matches its digest.

        :param replace: also replace a signature that does not verify (after a key
            rotation); without it such a version is refused: its manifest may have been
            rewritten, and re-signing would vouch for it.
        :raises UsageError: no signing key is configured.
        :raises ModelIntegrityError: an artifact does not match, or (without ``replace``)
            a signature exists and does not verify: nothing is signed.
        """
        if self.signing_key is None:
            raise UsageError(
                "no signing key is configured",
                hint="set $HOOKLINE_SIGNING_KEY (or $HOOKLINE_SIGNING_KEY_SECRET)",
            )
        mv = self.get(model, version)
        problem = self.signature_problem(mv)
        if problem not in (None, UNSIGNED) and not replace:
            raise ModelIntegrityError(
                f"model {model!r} version {version} not re-signed: {problem}",
                hint="its manifest may have been rewritten since it was signed; after a key "
                f"rotation, and having checked it, use `hookline models sign {model} "
                f"{version} --replace`",
            )
        problems = self._artifact_problems(mv)
        if problems:
            raise ModelIntegrityError(
                f"model {model!r} version {version} not signed: {'; '.join(problems)}",
                hint="a version whose bytes changed must not be vouched for; roll back",
            )
        return self._write_signature(mv)


def _actor() -> str:
    from hookline.registry import actor

    return actor()
