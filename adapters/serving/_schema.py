"""The feature schema of a registered model, and the request model derived from it.

A registered version's manifest carries ``features``: name to
``{"dtype": "number"|"integer"|"string"|"boolean", "categories": [...], "nullable": bool}``,
in training column order. From it we build one pydantic model per version, so that

* the OpenAPI document shows the real fields,
* a wrong field (extra keys are forbidden), a missing field or a wrong type is refused
  with a 422 that names the field.

A category not seen in training is not refused here: it goes to the model, which accepts
it the way it was built to (a one-hot encoder with ``handle_unknown="ignore"`` scores it as
no known category; one that errors makes the answer a 422 naming the version).

Types are strict: a ``number`` accepts JSON integers and decimals (not strings, booleans,
NaN or infinities); an ``integer`` accepts JSON integers (and, as JSON Schema has it,
numbers with a zero fraction such as ``3.0``) within the int64 range; a ``string`` only strings; a
``boolean`` only ``true``/``false``. A ``nullable`` feature accepts ``null`` and may be left
out (it is then missing, as in training data); every other feature is required.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from hookline.errors import ModelIntegrityError
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

__all__ = ["DTYPES", "Feature", "FeatureSchema", "RecordError", "build_record_model"]

DTYPES = ("number", "integer", "string", "boolean")
_PYTHON_TYPES: dict[str, type] = {"number": float, "integer": int, "string": str, "boolean": bool}
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


@dataclass(frozen=True, slots=True)
class Feature:
    """One input column of the model.

    :param name: the column name, exactly as in training data.
    :param dtype: ``number``, ``integer``, ``string`` or ``boolean``.
    :param categories: the values seen in training for a categorical feature, else ``None``.
    :param nullable: whether ``null`` (a missing value) is accepted.
    """

    name: str
    dtype: str
    categories: tuple[Any, ...] | None = None
    nullable: bool = False

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "dtype": self.dtype, "nullable": self.nullable}
        if self.categories is not None:
            out["categories"] = list(self.categories)
        return out


@dataclass(frozen=True, slots=True)
class FeatureSchema:
    """The ordered input features of one registered version."""

    features: tuple[Feature, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @classmethod
    def from_manifest(cls, manifest: Mapping[str, Any], *, where: str) -> FeatureSchema:
        """Read ``manifest["features"]``.

        :param where: the version's URI, for error messages.
        :raises ModelIntegrityError: the manifest has no usable feature schema.
        """
        raw = manifest.get("features")
        if isinstance(raw, Sequence) and not isinstance(raw, str):  # list of {"name": ...}
            try:
                raw = {item["name"]: item for item in raw}
            except (TypeError, KeyError):
                raw = None
        if not isinstance(raw, Mapping) or not raw:
            raise ModelIntegrityError(
                f"{where}: the manifest has no 'features' schema, so requests cannot be validated",
                hint="register the model with the built-in train plugin, or pass "
                "metadata={'features': {name: {'dtype': ...}}} to Registry.register_estimator",
            )
        features = []
        for name, spec in raw.items():
            if not isinstance(spec, Mapping):
                raise ModelIntegrityError(f"{where}: features.{name}: expected a table")
            dtype = spec.get("dtype")
            if dtype not in DTYPES:
                raise ModelIntegrityError(
                    f"{where}: features.{name}.dtype: expected one of {', '.join(DTYPES)}, "
                    f"got {dtype!r}"
                )
            categories = spec.get("categories")
            if categories is not None:
                if (
                    not isinstance(categories, Sequence)
                    or isinstance(categories, str)
                    or not categories
                ):
                    raise ModelIntegrityError(
                        f"{where}: features.{name}.categories: expected a non-empty list"
                    )
                categories = tuple(categories)
            features.append(
                Feature(str(name), dtype, categories, bool(spec.get("nullable", False)))
            )
        return cls(tuple(features))

    def reorder(self, columns: Sequence[str], *, where: str) -> FeatureSchema:
        """The same features in the model's own column order (``feature_names_in_``).

        :raises ModelIntegrityError: the model expects columns the schema does not describe.
        """
        by_name = {f.name: f for f in self.features}
        missing = [c for c in columns if c not in by_name]
        if missing:
            raise ModelIntegrityError(
                f"{where}: the model expects columns {missing} that the manifest's feature "
                "schema does not describe",
                hint="re-register the model with a complete schema",
            )
        return FeatureSchema(tuple(by_name[c] for c in columns))

    def to_list(self) -> list[dict[str, Any]]:
        return [f.to_dict() for f in self.features]


def _integral(value: Any) -> Any:
    """JSON Schema's ``integer`` includes numbers with a zero fraction (``3.0``)."""
    if type(value) is float and value.is_integer():
        return int(value)
    return value


def _annotation(feature: Feature) -> Any:
    base: Any = _PYTHON_TYPES[feature.dtype]
    if feature.dtype == "integer":
        base = Annotated[base, BeforeValidator(_integral)]
    return base | None if feature.nullable else base


def build_record_model(schema: FeatureSchema, title: str = "Record") -> type[BaseModel]:
    """One pydantic model for a record: one field per feature, aliased to the column
    name (column names need not be Python identifiers), extra keys forbidden, strict."""
    fields: dict[str, Any] = {}
    for i, feature in enumerate(schema.features):
        kwargs: dict[str, Any] = {"alias": feature.name, "title": feature.name}
        if feature.dtype == "number":
            kwargs["allow_inf_nan"] = False
        elif feature.dtype == "integer":
            kwargs.update(ge=_INT64_MIN, le=_INT64_MAX)  # what a numpy int64 column holds
        if feature.categories is not None:
            kwargs["description"] = "categorical: the categories seen in training are listed"
            kwargs["json_schema_extra"] = {"examples": list(feature.categories[:50])}
        default = None if feature.nullable else ...
        fields[f"f{i}"] = (_annotation(feature), Field(default, **kwargs))
    return create_model(  # type: ignore[call-overload,no-any-return]
        title, __config__=ConfigDict(extra="forbid", strict=True, title=title), **fields
    )


@dataclass(frozen=True, slots=True)
class RecordError:
    """One validation failure, located in the request body: ``loc`` is
    ``["body", <record index when the body is a batch>, <field>]``."""

    loc: tuple[str | int, ...]
    msg: str
    type: str

    def to_dict(self) -> dict[str, Any]:
        return {"loc": list(self.loc), "msg": self.msg, "type": self.type}

    def sentence(self) -> str:
        where = ".".join(str(p) for p in self.loc[1:]) or "body"
        return f"{where}: {self.msg}"


def errors_of(exc: ValidationError, prefix: tuple[str | int, ...]) -> list[RecordError]:
    """Flatten a pydantic error into :class:`RecordError` s under ``prefix``; the input
    values are not echoed back (they may be personal data)."""
    out = []
    for err in exc.errors(include_url=False, include_input=False):
        msg = err["msg"]
        loc = tuple(p[:64] + "..." if isinstance(p, str) and len(p) > 64 else p for p in err["loc"])
        if err["type"] == "extra_forbidden":
            msg = "unknown field: the model has no feature of this name"
        out.append(RecordError((*prefix, *loc), msg, err["type"]))
    return out
