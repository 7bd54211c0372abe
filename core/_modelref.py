"""Model references: ``name``, ``name@alias`` and ``name/version``, one parser for every face.

The command line, the dashboard's routes and ``[serving] model`` all name a model this way,
the way MLflow users already write ``models:/name@alias`` and ``models:/name/3`` (that
prefix is accepted too). Names and aliases follow :func:`hookline.layout.check_name`, so a
reference can never reach outside the model's own prefix.
"""

from __future__ import annotations

from dataclasses import dataclass

from hookline.errors import UsageError
from hookline.layout import check_name

__all__ = ["ModelRef", "parse_model_ref"]

_FORMS = "NAME, NAME@ALIAS or NAME/VERSION (e.g. churn, churn@production, churn/3)"
_MLFLOW_PREFIX = "models:/"


@dataclass(frozen=True, slots=True)
class ModelRef:
    """A parsed model reference: a name, and at most one of a version or an alias."""

    name: str
    version: int | None = None
    alias: str | None = None

    def __str__(self) -> str:
        if self.version is not None:
            return f"{self.name}/{self.version}"
        if self.alias is not None:
            return f"{self.name}@{self.alias}"
        return self.name

    @property
    def bare(self) -> bool:
        """Only a name: neither a version nor an alias."""
        return self.version is None and self.alias is None


def _invalid(text: str, why: str) -> UsageError:
    shown = repr(text) if len(text) <= 80 else repr(text[:77] + "...")
    return UsageError(f"invalid model reference {shown}: {why}", hint=f"write {_FORMS}")


def parse_model_ref(text: str) -> ModelRef:
    """Parse ``name``, ``name@alias`` or ``name/version`` (``v3`` and a leading
    ``models:/`` are accepted).

    :raises UsageError: an empty part, a version that is not a positive integer, both an
        alias and a version, or a name or alias that cannot be a storage key segment.
    """
    if not isinstance(text, str) or not text.strip():
        raise _invalid(str(text), "it is empty")
    body = text.strip().removeprefix(_MLFLOW_PREFIX)
    if "@" in body and "/" in body:
        raise _invalid(text, "name a version or an alias, not both")
    if "@" in body:
        name, _, alias = body.partition("@")
        if not name or not alias:
            raise _invalid(text, "the name and the alias around '@' must not be empty")
        return ModelRef(_name(text, "model", name), alias=_name(text, "alias", alias))
    if "/" in body:
        name, _, number = body.partition("/")
        digits = number[1:] if number[:1] in ("v", "V") else number
        if not name:
            raise _invalid(text, "the model name before '/' is empty")
        name = _name(text, "model", name)
        if not digits.isascii() or not digits.isdigit() or len(digits) > 9 or int(digits) < 1:
            raise _invalid(
                text, f"the version {number[:30]!r} is not a version number (1 to 999,999,999)"
            )
        return ModelRef(name, version=int(digits))
    return ModelRef(_name(text, "model", body))


def _name(text: str, kind: str, value: str) -> str:
    try:
        return check_name(kind, value)
    except UsageError as exc:
        raise _invalid(text, exc.message) from None
