"""TF Serving's REST routes: model status, metadata and `:predict`, with its error shape.

An instance is one window in raw units: stock `[[open, high, low, close, volume], ...]` (the
metadata's feature order), curves `[x0, ..., x19]` or `[[x0], ..., [x19]]`. It goes through the
same input rules and data plane as the native routes. The answer is what TF Serving gives for
a signature with named outputs: per instance `{output name: value}` (row form) or `{output
name: batch}` (column form), plus this service's `warnings`. Errors are `{"error": "..."}`
with TF Serving's statuses: 400 invalid argument, 404 not found, 429, 503.
"""

from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic import TypeAdapter, ValidationError

from service.api.body import bounded, encode, parse
from service.api.deps import RegistryDep, registry_of
from service.api.errors import detail, error_only, error_only_responses, route_class
from service.api.native.predict import warnings as native_warnings
from service.api.openapi import json_body
from service.api.tfserving.schemas import TFError, TFModelMetadata, TFModelStatus, TFPredictRequest
from service.api.tfserving.schemas import TFPredictResponse as Predicted
from service.core import dataplane, inputs
from service.core.errors import (
    InputError,
    ModelNotFound,
    ServiceError,
    VersionNotFound,
)
from service.core.registry import Model, Registry

_NUMBERS = {1: TypeAdapter(list[list[float]]), 2: TypeAdapter(list[list[list[float]]])}


class ServingError(ServiceError):
    """TF Serving's own wording for a request it cannot serve."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status


def render(exc: Exception) -> Response | None:
    """TF Serving's answer to an error of this router, or None if it is not one of ours."""
    if isinstance(exc, ServingError):
        return encode({"error": exc.message}, exc.http_status)
    if isinstance(exc, VersionNotFound):
        found = f"Specific({exc.name}, {exc.version})"
        return encode({"error": f"Servable not found for request: {found}"}, 404)
    if isinstance(exc, ModelNotFound):
        return encode({"error": f"Servable not found for request: Latest({exc.name})"}, 404)
    return error_only(exc)


TFServingRoute = route_class(render)


_ERRORS = error_only_responses(TFError, "Invalid argument")
router = APIRouter(prefix="/v1/models", tags=["tensorflow-serving"], route_class=TFServingRoute,
                   responses=_ERRORS)  # fmt: skip


@router.get("/{name}", response_model=TFModelStatus)
async def model_status(name: str, registry: RegistryDep) -> Any:
    """`model_version_status` of every version: AVAILABLE (serving), START or END."""
    return _status(registry, name, None)


@router.get("/{name}/versions/{version}", response_model=TFModelStatus)
async def version_status(name: str, version: int, registry: RegistryDep) -> Any:
    """The status of one version."""
    return _status(registry, name, version)


@router.get("/{name}/metadata", response_model=TFModelMetadata)
async def model_metadata(name: str, registry: RegistryDep) -> Any:
    """The `serving_default` signature of the served version."""
    return _metadata(registry.model(name))


@router.get("/{name}/versions/{version}/metadata", response_model=TFModelMetadata)
async def version_metadata(name: str, version: int, registry: RegistryDep) -> Any:
    """The same, 404 unless `version` is the one being served."""
    return _metadata(registry.model(name, version))


_PREDICT = {"response_model": Predicted, "openapi_extra": json_body(TFPredictRequest)}


@router.post("/{name}:predict", **_PREDICT)
async def predict(name: str, request: Request) -> Response:
    """`{"instances": [window, ...]}` -> `{"predictions": [...]}`, or `inputs` -> `outputs`."""
    return await _predict((await registry_of(request)).model(name), await request.body())


@router.post("/{name}/versions/{version}:predict", **_PREDICT)
async def predict_version(name: str, version: int, request: Request) -> Response:
    """The same, 404 unless `version` is the one being served."""
    return await _predict((await registry_of(request)).model(name, version), await request.body())


async def _predict(model: Model, raw: bytes) -> Response:
    window, n_features = model.spec.input_shape
    n = inputs.MAX_WINDOWS
    values = n * window * n_features
    limits = {b"[": 2 + n * (window + 1), b",": values + n * window + n + 8}
    body = parse(
        TFPredictRequest,
        bounded(
            raw,
            limits,
            ("instances",),
            f"must hold at most {n} windows of {window} x {n_features} values",
        ),
    )
    key, batch = _windows(model, body)
    answer = await dataplane.predict(model, batch)
    names = list(model.spec.outputs)
    if key == "instances":
        columns = [answer.outputs[n].tolist() for n in names]
        rows = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
        return encode({"predictions": rows, "warnings": native_warnings(answer)})
    columns = {n: answer.outputs[n].tolist() for n in names}
    return encode({"outputs": columns, "warnings": native_warnings(answer)})


def _windows(model: Model, body: TFPredictRequest) -> tuple[str, np.ndarray]:
    """The checked batch of either form; errors name `instances[i][step].feature`."""
    spec = model.spec
    if body.signature_name not in (None, "", spec.signature_name):
        raise ServingError(400, f'Serving signature name: "{body.signature_name}" not found')
    key = "instances" if body.instances is not None else "inputs"
    batch = body.instances if body.instances is not None else body.inputs
    if isinstance(batch, dict):
        if set(batch) != {spec.input_name}:
            raise ServingError(400, f"inputs: expected the one input '{spec.input_name}'")
        key, batch = f"inputs.{spec.input_name}", batch[spec.input_name]
        if not isinstance(batch, list):
            raise ServingError(400, f"{key}: must be a list of windows")
    named = [isinstance(w, dict) for w in batch]
    if any(named):  # row form with named inputs: [{"window": [...]}, ...]
        if not all(named) or any(set(w) != {spec.input_name} for w in batch):
            raise ServingError(400, f"{key}: each must be a window or {{'{spec.input_name}': ...}}")
        batch = [w[spec.input_name] for w in batch]
    if not 1 <= len(batch) <= inputs.MAX_WINDOWS:
        raise ServingError(400, f"{key}: must hold 1 to {inputs.MAX_WINDOWS} (got {len(batch)})")
    return key, _checked(spec, _typed(spec, batch, key), key)


def _typed(spec: Any, batch: list, key: str) -> list:
    """Numbers only (no strings, booleans or nulls), in lists as deep as the model's windows."""
    if len(spec.features) == 1:  # [[x0], [x1], ...] -> [x0, x1, ...]
        batch = [_flat(w) for w in batch]
    try:
        return _NUMBERS[1 if len(spec.features) == 1 else 2].validate_python(batch, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        if len(loc) == 3:
            loc[2] = spec.features[loc[2]]
        raise InputError((key, *loc), detail(err, root="")["msg"]) from None


def _flat(window: Any) -> Any:
    columns = isinstance(window, list) and window and all(isinstance(v, list) for v in window)
    return [v[0] for v in window] if columns and all(len(v) == 1 for v in window) else window


def _checked(spec: Any, batch: list, key: str) -> np.ndarray:
    try:
        return inputs.windows(spec, batch)
    except InputError as exc:
        raise InputError((key, *exc.loc), exc.msg) from None


def _status(registry: Registry, name: str, version: int | None) -> dict[str, Any]:
    found = [s for s in registry.versions(name) if version is None or s.version == version]
    if not found:
        raise ServingError(404, f"Servable not found for request: Specific({name}, {version})")
    return {"model_version_status": [
        {"version": str(s.version), "state": s.state,
         "status": {"error_code": "UNKNOWN" if s.error else "OK", "error_message": s.error}}
        for s in found
    ]}  # fmt: skip


def _metadata(model: Model) -> dict[str, Any]:
    spec = model.spec

    def tensor(shape: list[int | None], name: str) -> dict[str, Any]:
        dims = [{"size": str(-1 if d is None else d), "name": ""} for d in shape]
        return {"dtype": "DT_FLOAT", "tensor_shape": {"dim": dims, "unknown_rank": False},
                "name": name}  # fmt: skip

    window = [None, *spec.input_shape]
    outputs = {n: tensor(t.shape, f"StatefulPartitionedCall:{i}")
               for i, (n, t) in enumerate(spec.outputs.items())}  # fmt: skip
    signature = {
        "inputs": {spec.input_name: tensor(window, f"{spec.signature_name}_{spec.input_name}:0")},
        "outputs": outputs,
        "method_name": "tensorflow/serving/predict",
    }
    return {
        "model_spec": {"name": model.name, "signature_name": "", "version": str(model.version)},
        "metadata": {"signature_def": {"signature_def": {spec.signature_name: signature}}},
    }
