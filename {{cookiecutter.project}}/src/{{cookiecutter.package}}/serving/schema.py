"""The /predict request schema, built from the column specs of ``confs/data.yaml`` that `mlops validate` checks.

One row model per project: every declared column but the target, each with its type, range and
allowed values, so the OpenAPI page and the 422 answers say what was expected. Features are required
unless declared ``nullable`` (a missing one is then null, which the training pipeline imputes);
the other declared columns (id, timestamp, sensitive attribute) are optional and only logged.
Anything else is an unknown field and refused.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from ..config import DataConfig
from ..core.schemas import PANDAS_DTYPES
from ..core.specs import ColumnSpec

if TYPE_CHECKING:
    import pandas as pd

PYTHON_TYPES: dict[str, type] = {"int": int, "float": float, "string": str, "category": str, "datetime": datetime, "bool": bool}


def _number_as_text(value: Any) -> Any:
    # A category of numeric codes (region 11) may come as a JSON number: validate reads it as the text "11".
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _naive_utc(value: datetime | None) -> datetime | None:
    # Validated data holds naive datetimes (datetime64[ns]); an offset is honoured, then dropped.
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None and value.tzinfo is not None else value


def _annotation(spec: ColumnSpec) -> Any:
    text = spec.dtype in ("string", "category")
    if spec.allowed is not None:
        values = tuple(str(value) for value in spec.allowed) if text else tuple(spec.allowed)
        annotation: Any = Literal[values]  # type: ignore[valid-type]
    else:
        bounds = {key: value for key, value in (("ge", spec.min), ("le", spec.max)) if value is not None}
        extra = {"allow_inf_nan": False} if spec.dtype == "float" else {}
        annotation = Annotated[PYTHON_TYPES[spec.dtype], Field(**bounds, **extra)]
    if text:
        annotation = Annotated[annotation, BeforeValidator(_number_as_text)]
    if spec.dtype == "datetime":
        annotation = Annotated[annotation, AfterValidator(_naive_utc)]
    return annotation


class RowSchema:
    """The request model of one row, and the typed frame of validated rows for the model."""

    def __init__(self, data: DataConfig) -> None:
        self.features = list(data.features.all)
        self.columns = {name: spec for name, spec in data.columns.items() if name != data.target}
        self.target = data.target
        self.id_column = data.id_column
        # The log fills a missing timestamp with the time it was logged: only a datetime column can hold that.
        timestamp = data.timestamp_column
        self.timestamp_column = timestamp if timestamp and data.columns[timestamp].dtype == "datetime" else None
        # Field names are positional (a column may be called "class" or "monthly charges"); the alias is the column.
        self.keys = {name: f"c{index}" for index, name in enumerate(self.columns)}
        fields: dict[str, Any] = {}
        for name, spec in self.columns.items():
            required = name in self.features and not spec.nullable
            annotation = _annotation(spec)
            description = _describe(spec, feature=name in self.features)
            if required:
                fields[self.keys[name]] = (annotation, Field(alias=name, description=description))
            else:
                fields[self.keys[name]] = (annotation | None, Field(default=None, alias=name, description=description))
        self.row = create_model(  # type: ignore[call-overload]
            "Row", __config__=ConfigDict(extra="forbid", frozen=True, title="Row", populate_by_name=False), **fields
        )

    def request_model(self, max_rows: int) -> type[BaseModel]:
        """``{"rows": [row, ...]}``; a longer batch fails as ``too_long`` at ``rows``, which the app answers with 413."""
        return create_model(
            "PredictRequest",
            __config__=ConfigDict(extra="forbid"),
            rows=(list[self.row], Field(min_length=1, max_length=max_rows, description=f"1 to {max_rows} rows")),  # type: ignore[name-defined]
        )

    def frame(self, rows: list[BaseModel]) -> pd.DataFrame:
        """The features of ``rows``, column by column, typed as `mlops validate` types the data (``core.schemas``)."""
        import numpy as np
        import pandas as pd

        columns: dict[str, Any] = {}
        for name in self.features:
            spec, key = self.columns[name], self.keys[name]
            values = [getattr(row, key) for row in rows]
            if spec.dtype == "int":
                columns[name] = pd.array(values, dtype="Int64") if spec.nullable else np.array(values, dtype=PANDAS_DTYPES["int"])
            elif spec.dtype == "float":
                columns[name] = np.array(values, dtype=PANDAS_DTYPES["float"])  # None becomes NaN, as validated
            elif spec.dtype == "bool":
                columns[name] = np.array(values, dtype=bool)  # as pandera coerces a nullable bool: missing is False
            elif spec.dtype == "datetime":
                columns[name] = pd.to_datetime(pd.Series(values, dtype=object)).astype(PANDAS_DTYPES["datetime"])
            else:
                columns[name] = np.array(values, dtype=object)  # text as str, missing as None, as validated
        return pd.DataFrame(columns, index=pd.RangeIndex(len(rows)), copy=False)

    def values(self, row: BaseModel) -> dict[str, Any]:
        """The row as sent, keyed by column (datetimes as ISO text): what the prediction log keeps."""
        out: dict[str, Any] = {}
        for name, key in self.keys.items():
            value = getattr(row, key)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out

    def example(self) -> BaseModel:
        """A row every check accepts (the first allowed value, else the minimum, else zero): warms the model up."""
        values: dict[str, Any] = {}
        for name in self.features:
            spec = self.columns[name]
            if spec.allowed:
                values[name] = spec.allowed[0]
            elif spec.dtype in ("int", "float"):
                values[name] = spec.min if spec.min is not None else (spec.max if spec.max is not None and spec.max < 0 else 0)
            else:
                values[name] = {"bool": False, "datetime": "2000-01-01T00:00:00"}.get(spec.dtype, "")
        return self.row.model_validate(values)


def _describe(spec: ColumnSpec, *, feature: bool) -> str:
    parts = [spec.dtype]
    if spec.min is not None:
        parts.append(f"≥ {spec.min}")
    if spec.max is not None:
        parts.append(f"≤ {spec.max}")
    if spec.allowed is not None:
        parts.append(f"one of {', '.join(str(value) for value in spec.allowed)}")
    role = ("feature, may be null (imputed)" if spec.nullable else "feature, required") if feature else "optional, logged only"
    return f"{'; '.join(parts)} ({role})"
