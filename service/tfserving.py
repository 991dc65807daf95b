"""TensorFlow Serving's REST API (and KServe's v1, the same shape) over the native path.

An instance is one window in raw input units: stock `[[open, high, low, close, volume], ...]`
(features in `metadata.input.features` order, `window` rows), curves `[x0, ..., x19]` or
`[[x0], ..., [x19]]`. Instances are checked with the native rules (the `StockRow` and `Number`
types), run through `infer()`, and answered with the raw output rows, as TF Serving would.
"""

from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from service import drift, examples
from service.errors import format_loc, format_msg
from service.predict import infer
from service.registry import LoadedModel, Registry
from service.schemas import MAX_WINDOWS, InputWarning, Number, StockRow
from service.versions import states

SIGNATURE = "serving_default"
INPUT, OUTPUT = "window", "output_0"  # the Keras export's signature names

_ROWS = TypeAdapter(list[StockRow])
_XS = TypeAdapter(list[Number])


class ServingError(Exception):
    """An error answered as TF Serving does: `{"error": message}` with its HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class TFError(BaseModel):
    error: str


class TFStatus(BaseModel):
    error_code: str = Field(description="OK, or UNKNOWN when the version failed to load")
    error_message: str


class TFVersionStatus(BaseModel):
    version: str
    state: Literal["START", "LOADING", "AVAILABLE", "UNLOADING", "END", "UNKNOWN"]
    status: TFStatus


class TFModelStatus(BaseModel):
    model_version_status: list[TFVersionStatus]


class TFModelMetadata(BaseModel):
    model_spec: dict[str, str] = Field(description="name, signature_name, version")
    metadata: dict[str, Any] = Field(description="signature_def: the serving_default signature")


class TFPredictRequest(BaseModel):
    """Row form `{"instances": [...]}` or column form `{"inputs": [...]}`, one per request."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"instances": [examples.SINE_X]}]}
    )

    signature_name: str | None = Field(None, description=f"Only {SIGNATURE!r} exists")
    instances: list[Any] | None = Field(None, description="One window per instance")
    inputs: list[Any] | dict[str, Any] | None = Field(
        None, description=f'The batch of windows, or {{"{INPUT}": batch}}'
    )

    @model_validator(mode="after")
    def _one_form(self) -> "TFPredictRequest":
        if (self.instances is None) == (self.inputs is None):
            raise ValueError("give exactly one of 'instances' (row form) or 'inputs' (columns)")
        return self


class TFPredictResponse(BaseModel):
    predictions: list[Any] | None = Field(None, description="Row form: one output per instance")
    outputs: list[Any] | None = Field(None, description="Column form: the output batch")
    warnings: list[InputWarning] = Field(
        default_factory=list, description="Instances outside the training distribution"
    )


def served(registry: Registry, name: str, version: int | None) -> LoadedModel:
    """The model serving `name`; 404 if `version` is given and is not the one being served."""
    registry.metadata(name)  # as the native routes: 404 unknown, 503 known but not loaded
    model = registry.get(name)
    if version is not None and version != model.version:
        raise ServingError(404, f"Servable not found for request: Specific({name}, {version})")
    return model


def windows_of(body: TFPredictRequest) -> list[Any]:
    """The list of windows of either form; named inputs must use the signature's name."""
    if body.signature_name not in (None, "", SIGNATURE):
        raise ServingError(400, f'Serving signature name: "{body.signature_name}" not found')
    batch = body.instances if body.instances is not None else body.inputs
    if isinstance(batch, dict):
        if set(batch) != {INPUT}:
            raise ServingError(400, f"inputs: expected the one input '{INPUT}'")
        batch = batch[INPUT]
        if not isinstance(batch, list):
            raise ServingError(400, f"inputs.{INPUT}: must be a list of windows")
    named = [isinstance(w, dict) for w in batch]
    if any(named):  # row form with named inputs: [{"window": [...]}, ...]
        if not all(named) or any(set(w) != {INPUT} for w in batch):
            raise ServingError(400, f"instances: each must be a window or {{'{INPUT}': window}}")
        batch = [w[INPUT] for w in batch]
    if not 1 <= len(batch) <= MAX_WINDOWS:
        raise ServingError(400, f"instances: must hold 1 to {MAX_WINDOWS} (got {len(batch)})")
    return batch


def to_batch(model: LoadedModel, windows: list[Any], key: str) -> np.ndarray:
    """`(n, window, features)` float32 from validated windows; 400 naming the first bad value."""
    check = _stock_window if len(model.features) > 1 else _curve_window
    return np.stack([check(model, w, f"{key}[{i}]") for i, w in enumerate(windows)])


def _stock_window(model: LoadedModel, window: Any, where: str) -> np.ndarray:
    features, n = model.features, len(model.features)
    if not isinstance(window, list) or len(window) != model.window:
        raise ServingError(400, f"{where}: must be a list of {model.window} rows")
    for r, row in enumerate(window):
        if not isinstance(row, list) or len(row) != n:
            raise ServingError(400, f"{where}[{r}]: must hold {n} values: {', '.join(features)}")
    rows = _validated(_ROWS, [dict(zip(features, row, strict=True)) for row in window], where)
    return np.array([[getattr(row, f) for f in features] for row in rows], dtype=np.float32)


def _curve_window(model: LoadedModel, window: Any, where: str) -> np.ndarray:
    if isinstance(window, list) and all(isinstance(v, list) and len(v) == 1 for v in window):
        window = [v[0] for v in window]  # [[x0], [x1], ...] -> [x0, x1, ...]
    if not isinstance(window, list) or len(window) != model.window:
        raise ServingError(400, f"{where}: must be a list of {model.window} x values")
    xs = _validated(_XS, window, where)
    return np.array(xs, dtype=np.float32)[:, np.newaxis]  # (window, 1)


def _validated(adapter: TypeAdapter, value: Any, where: str) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = f"{where}{format_loc(list(err['loc']))}: {format_msg(err)}"
        raise ServingError(400, message) from None


async def predict(model: LoadedModel, body: TFPredictRequest) -> TFPredictResponse:
    """TF Serving's `:predict`: the raw output row of every window."""
    key = "instances" if body.instances is not None else "inputs"
    batch = to_batch(model, windows_of(body), key)
    output = (await infer(model, batch)).tolist()
    warnings = drift.check(model, batch)
    if key == "instances":
        return TFPredictResponse(predictions=output, warnings=warnings)
    return TFPredictResponse(outputs=output, warnings=warnings)


def version_status(registry: Registry, name: str, version: int | None) -> dict[str, Any]:
    """`{"model_version_status": [...]}`: every version, or the one asked for."""
    found = [s for s in states(registry, name) if version is None or s.version == version]
    if not found:
        raise ServingError(404, f"Servable not found for request: Specific({name}, {version})")
    return {
        "model_version_status": [
            {"version": str(s.version), "state": s.state,
             "status": {"error_code": "UNKNOWN" if s.error else "OK", "error_message": s.error}}
            for s in found
        ]
    }  # fmt: skip


def signature(model: LoadedModel) -> dict[str, Any]:
    """The `serving_default` SignatureDef, in TF Serving's JSON rendering."""

    def tensor(shape: list[int | None], name: str) -> dict[str, Any]:
        dims = [{"size": str(-1 if d is None else d), "name": ""} for d in shape]
        return {"dtype": "DT_FLOAT", "tensor_shape": {"dim": dims, "unknown_rank": False},
                "name": name}  # fmt: skip

    meta = model.metadata
    return {
        "inputs": {INPUT: tensor(meta["input"]["shape"], f"{SIGNATURE}_{INPUT}:0")},
        "outputs": {OUTPUT: tensor(meta["output"]["shape"], "StatefulPartitionedCall:0")},
        "method_name": "tensorflow/serving/predict",
    }


def model_metadata(model: LoadedModel) -> dict[str, Any]:
    return {
        "model_spec": {"name": model.name, "signature_name": "", "version": str(model.version)},
        "metadata": {"signature_def": {"signature_def": {SIGNATURE: signature(model)}}},
    }
