"""Model serialisation: skops only, verified by sha256, never pickle.

scikit-learn is imported only when a model is actually saved or loaded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from hookline.errors import ModelIntegrityError

__all__ = ["TRUSTED_PREFIXES", "dumps", "loads", "sha256"]

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.", "scipy.special.", "collections.")
"""Module prefixes whose types a model may contain, beyond skops' own defaults."""

_PICKLE_MAGIC = (b"\x80", b"(dp", b"(lp", b"ccopy_reg", b"cnumpy", b"csklearn")
_ZIP_MAGIC = b"PK\x03\x04"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def dumps(estimator: Any) -> bytes:
    """Serialise a scikit-learn estimator (or pipeline) with skops."""
    import skops.io as sio

    return bytes(sio.dumps(estimator))


def loads(
    data: bytes, *, expected_sha256: str | None, where: str, trusted: Iterable[str] = ()
) -> Any:
    """Verify and load a skops artifact.

    :param expected_sha256: the digest recorded when the artifact was written; a mismatch
        means the bytes were changed and nothing is loaded.
    :param where: the artifact's URI, for error messages.
    :param trusted: extra fully qualified type names to trust.
    :raises ModelIntegrityError: checksum mismatch, a pickle, not a skops file, or a type
        outside the trusted set.
    """
    if expected_sha256 is not None:
        actual = sha256(data)
        if actual != expected_sha256:
            raise ModelIntegrityError(
                f"{where}: checksum mismatch (expected sha256 {expected_sha256[:12]}..., "
                f"got {actual[:12]}...): the artifact was modified after it was registered",
                hint="re-register the model from its run, or roll the alias back",
            )
    if data.startswith(_PICKLE_MAGIC):
        raise ModelIntegrityError(
            f"{where}: this is a pickle; hookline never loads pickles (they run code on load)",
            hint="save models with skops (hookline's registry does this for you)",
        )
    if not data.startswith(_ZIP_MAGIC):
        raise ModelIntegrityError(f"{where}: not a skops model file")
    import skops.io as sio

    try:
        untrusted = sio.get_untrusted_types(data=data)
    except Exception as exc:
        raise ModelIntegrityError(f"{where}: unreadable skops file: {exc}") from exc
    extra = set(trusted)
    refused = [t for t in untrusted if t not in extra and not t.startswith(TRUSTED_PREFIXES)]
    if refused:
        raise ModelIntegrityError(
            f"{where}: the model contains types outside the trusted set: {', '.join(refused)}",
            hint="if you trust them, list them in [registry] trusted_types",
        )
    try:
        return sio.loads(data, trusted=list(untrusted))
    except Exception as exc:
        raise ModelIntegrityError(f"{where}: failed to load the skops file: {exc}") from exc
