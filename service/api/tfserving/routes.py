"""TF Serving's REST routes: status, metadata, `:predict` (and `:classify`, `:regress`), by
name, version or label, with its error shape.

An instance is one window in raw units: stock `[[open, high, low, close, volume], ...]` (the
metadata's feature order), curves `[x0, ..., x19]` or `[[x0], ..., [x19]]`. The answer is what
TF Serving gives for a signature with named outputs: per instance `{output name: value}` (row
form) or `{output name: batch}` (column form), plus this service's `warnings`. What it all
means is the protocol's codec (service.protocols.tfserving), shared with gRPC; this module
reads the JSON forms. Errors are `{"error": "..."}` with TF Serving's statuses and words: 400
invalid argument, 404 not found, 429, 503.
"""

from typing import Annotated, Any

import numpy as np
from fastapi import APIRouter, Depends, Request, Response
from pydantic import TypeAdapter, ValidationError

from service.api import errors
from service.api.body import bounded, encode, parse
from service.api.deps import RegistryDep, registry_of
from service.api.errors import (
    detail,
    error_only,
    error_only_responses,
    route_class,
    route_path,
)
from service.api.openapi import json_body
from service.api.tfserving.schemas import TFError, TFModelMetadata, TFModelStatus, TFPredictRequest
from service.api.tfserving.schemas import TFPredictResponse as Predicted
from service.core import dataplane, inputs
from service.core.errors import InputError
from service.core.registry import Model
from service.protocols import tfserving
from service.protocols.digits import whole
from service.protocols.errors import BadRequest

_NUMBERS = {1: TypeAdapter(list[list[float]]), 2: TypeAdapter(list[list[list[float]]])}


def render(exc: Exception, method: str = "", path: str = "") -> Response:
    """TF Serving's `{"error"}` answer; the native one for what is not ours (re-raised if it
    is no expected error at all)."""
    return error_only(exc) or errors.render(exc, method, path)


TFServingRoute = route_class(render)


def _version(request: Request, version: str) -> int:
    """The `{version}` of the path: ASCII digits, as TF Serving's URL pattern takes them."""
    number = whole(version)
    if number is None:
        raise _malformed(request)
    return number


def _malformed(request: Request) -> BadRequest:
    return tfserving.malformed(request.method, route_path(request.scope))


Version = Annotated[int, Depends(_version)]


_ERRORS = error_only_responses(TFError, "Invalid argument")
router = APIRouter(prefix="/v1/models", tags=["tensorflow-serving"], route_class=TFServingRoute,
                   responses=_ERRORS)  # fmt: skip


@router.get("/{name}", response_model=TFModelStatus)
async def model_status(name: str, request: Request, registry: RegistryDep) -> Any:
    """`model_version_status` of every version: AVAILABLE (serving), START or END."""
    if ":" in name:  # `GET .../sine:predict`: TF Serving's pattern has no `:` in a name
        raise _malformed(request)
    return tfserving.status(registry, name)


@router.get("/{name}/versions/{version}", response_model=TFModelStatus)
async def version_status(name: str, version: Version, registry: RegistryDep) -> Any:
    """The status of one version."""
    return tfserving.status(registry, name, version)


@router.get("/{name}/labels/{label}", response_model=TFModelStatus)
async def label_status(name: str, label: str, registry: RegistryDep) -> Any:
    """The status of the version a label names (labels.json beside the versions)."""
    return tfserving.status(registry, name, label=label)


@router.get("/{name}/metadata", response_model=TFModelMetadata)
async def model_metadata(name: str, registry: RegistryDep) -> Any:
    """The `serving_default` signature of the served version."""
    return tfserving.metadata(tfserving.model_of(registry, name))


@router.get("/{name}/versions/{version}/metadata", response_model=TFModelMetadata)
async def version_metadata(name: str, version: Version, registry: RegistryDep) -> Any:
    """The same, 404 unless `version` is the one being served."""
    return tfserving.metadata(tfserving.model_of(registry, name, version))


@router.get("/{name}/labels/{label}/metadata", response_model=TFModelMetadata)
async def label_metadata(name: str, label: str, registry: RegistryDep) -> Any:
    """The same for the version a label names."""
    return tfserving.metadata(tfserving.model_of(registry, name, label=label))


_PREDICT = {"response_model": Predicted, "openapi_extra": json_body(TFPredictRequest)}
# TF Serving's :classify and :regress, which answer only its 400 for a model without such
# signatures (every Keras export): kept out of /docs, which lists what a client can use
_OTHER = {"include_in_schema": False}


@router.post("/{name}:predict", **_PREDICT)
async def predict(name: str, request: Request) -> Response:
    """`{"instances": [window, ...]}` -> `{"predictions": [...]}`, or `inputs` -> `outputs`."""
    model = tfserving.model_of(await registry_of(request), name)
    return await _predict(model, await request.body())


@router.post("/{name}/versions/{version}:predict", **_PREDICT)
async def predict_version(name: str, version: Version, request: Request) -> Response:
    """The same, 404 unless `version` is the one being served."""
    model = tfserving.model_of(await registry_of(request), name, version)
    return await _predict(model, await request.body())


@router.post("/{name}/labels/{label}:predict", **_PREDICT)
async def predict_label(name: str, label: str, request: Request) -> Response:
    """The same for the version a label names."""
    model = tfserving.model_of(await registry_of(request), name, label=label)
    return await _predict(model, await request.body())


@router.post("/{name}:{method}", **_OTHER)
async def other(name: str, method: str, registry: RegistryDep) -> Response:
    """`:classify` and `:regress` (400 as TF Serving answers them: the model's one signature
    is a predict signature), and any other method (400 `Unknown method`)."""
    tfserving.model_of(registry, name)
    raise _other(method)


@router.post("/{name}/versions/{version}:{method}", **_OTHER)
async def other_version(
    name: str, version: Version, method: str, registry: RegistryDep
) -> Response:
    """`:classify` and `:regress` of one version."""
    tfserving.model_of(registry, name, version)
    raise _other(method)


@router.post("/{name}/labels/{label}:{method}", **_OTHER)
async def other_label(name: str, label: str, method: str, registry: RegistryDep) -> Response:
    """`:classify` and `:regress` of a label's version."""
    tfserving.model_of(registry, name, label=label)
    raise _other(method)


def _other(method: str) -> Exception:
    if method in ("classify", "regress"):
        return tfserving.unsupported(method)
    return BadRequest(f"Unknown method: {method[:64]}")


async def _predict(model: Model, raw: bytes) -> Response:
    window, n_features = model.spec.input_shape
    n = inputs.MAX_WINDOWS
    values = n * window * n_features
    limits = {b"[": 2 + n * (window + 1), b",": values + n * window + n + 8}
    what = f"must hold at most {n} windows of {window} x {n_features} values"
    body = parse(TFPredictRequest, bounded(raw, limits, ("instances",), what))
    tfserving.check_signature(model, body.signature_name)
    key, batch = _windows(model, body)
    answer = await dataplane.predict(model, batch)
    return encode(tfserving.rows(answer) if key == "instances" else tfserving.columns(answer))


def _windows(model: Model, body: TFPredictRequest) -> tuple[str, np.ndarray]:
    """The checked batch of either form; errors name `instances[i][step].feature`."""
    spec = model.spec
    key = "instances" if body.instances is not None else "inputs"
    batch = body.instances if body.instances is not None else body.inputs
    if isinstance(batch, dict):
        name = tfserving.check_inputs(model, list(batch))
        key, batch = f"inputs.{name}", batch[name]
        if not isinstance(batch, list):
            raise BadRequest(f"{key}: must be a list of windows")
    named = [isinstance(w, dict) for w in batch]
    if any(named):  # row form with named inputs: [{"window": [...]}, ...]
        if not all(named) or any(set(w) != {spec.input_name} for w in batch):
            raise BadRequest(f"{key}: each must be a window or {{'{spec.input_name}': ...}}")
        batch = [w[spec.input_name] for w in batch]
    if not 1 <= len(batch) <= inputs.MAX_WINDOWS:
        raise BadRequest(f"{key}: must hold 1 to {inputs.MAX_WINDOWS} (got {len(batch)})")
    return key, tfserving.windows(model, _typed(spec, batch, key), key)


def _typed(spec: Any, batch: list, key: str) -> list:
    """Numbers only (no strings, booleans or nulls), in lists as deep as the model's windows."""
    if len(spec.features) == 1:  # [[x0], [x1], ...] -> [x0, x1, ...]
        batch = [_flat(w) for w in batch]
    try:
        return _NUMBERS[1 if len(spec.features) == 1 else 2].validate_python(batch, strict=True)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = list(err["loc"])
        if len(loc) == 3 and loc[2] < len(spec.features):  # a value past the features: its index
            loc[2] = spec.features[loc[2]]
        raise InputError((key, *loc), detail(err, root="")["msg"]) from None


def _flat(window: Any) -> Any:
    columns = isinstance(window, list) and window and all(isinstance(v, list) for v in window)
    return [v[0] for v in window] if columns and all(len(v) == 1 for v in window) else window
