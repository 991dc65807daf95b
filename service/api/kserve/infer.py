"""`POST /v2/models/{name}[/versions/{version}]/infer`: the Open Inference Protocol's inference.

The one input is the signature's (`window`: FP32 or FP64, shape `[n, window, n_features]`,
`[n, window]` for one feature), its `data` flat or nested, or binary (the binary tensor data
extension, as tritonclient sends by default). It passes the same input rules and data plane as
every protocol. The answer holds every output of the serving signature, or those `outputs`
names, each FP32 and batch first: the prediction, the interval bounds `lower` and `upper`, the
drift `drift_value` and `drift_score`; plus `warnings`, a BYTES tensor of one JSON object per
input outside the training distribution, and the interval's level in `parameters`.
Errors are `{"error": "..."}`: 400 bad input, 404 no such model or version, 429 queue full,
503 not loaded. What the request means is the protocol's codec (service.protocols.v2), shared
with gRPC; this module reads JSON and binary tensors and writes them back.
"""

from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic_core import to_json

from service.api import errors
from service.api.body import encode, parse
from service.api.deps import registry_of
from service.api.errors import error_only, error_only_responses, route_class, short
from service.api.kserve import tensors
from service.api.kserve.schemas import V2Error, V2InferRequest, V2InferResponse
from service.api.openapi import json_body
from service.core.errors import InputError
from service.core.registry import Model, Registry
from service.protocols import v2


def render(exc: Exception, method: str = "", path: str = "") -> Response:
    """The protocol's `{"error"}` answer; the native one for what is not ours (re-raised if
    it is no expected error at all)."""
    return error_only(exc) or errors.render(exc, method, path)


V2Route = route_class(render)


_ERRORS = error_only_responses(V2Error, "Bad input: the message names the tensor and rule")
_INFER = {
    "response_model": V2InferResponse,
    "openapi_extra": json_body(V2InferRequest),
    "responses": {
        200: {
            "description": "JSON; with binary outputs, the JSON header then their raw bytes",
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        },
        **_ERRORS,
    },
}
router = APIRouter(prefix="/v2", tags=["kserve"], route_class=V2Route)


@router.post("/models/{name}/infer", **_INFER)
async def infer(request: Request, name: str) -> Response:
    """Every signature output (or those asked for) and `warnings` for a batch of windows."""
    return await _infer(request, name, None)


@router.post("/models/{name}/versions/{version}/infer", **_INFER)
async def infer_version(request: Request, name: str, version: str) -> Response:
    """The same, 404 unless `version` is the one being served."""
    return await _infer(request, name, version)


async def _infer(request: Request, name: str, version: str | None) -> Response:
    registry = await registry_of(request)
    model = v2.model_of(registry, name, version)
    head, raw = tensors.split(await request.body(), request.headers.get(tensors.HEADER))
    body = parse(V2InferRequest, head)
    model = _named(registry, model, body, version)
    binary = _binary(body)
    asked = [(o.name, o.parameters or {}) for o in body.outputs or ()]
    decoded = v2.Request(name, version, body.id, _inputs(model, body, raw), asked,
                         body.parameters or {})  # fmt: skip
    return _answer(await v2.infer(model, decoded), binary)


def _named(registry: Registry, model: Model, body: V2InferRequest, version: str | None) -> Model:
    """The model the body names too. Its `model_name` must be the path's; its `model_version`
    is read as gRPC reads that field (the path's version, when the path has none), so the
    same version string finds the same model, or the same 404, over both transports."""
    if body.model_name not in (None, model.name):
        raise InputError(("model_name",), f"is {short(body.model_name)!r}, not {model.name!r}")
    if not body.model_version:
        return model
    if version is None:
        return v2.model_of(registry, model.name, body.model_version)
    if v2.version_of(body.model_version) != v2.version_of(version):
        message = f"is {short(body.model_version)!r}, not the path's {short(version)!r}"
        raise InputError(("model_version",), message)
    return model


def _inputs(model: Model, body: V2InferRequest, raw: bytes) -> list[v2.Input]:
    """Each input with its values, from JSON `data` or the binary part after the JSON."""
    found = []
    for i, tensor in enumerate(body.inputs):
        loc, shape = ("inputs", i), tuple(tensor.shape)
        v2.dtype_of(loc, tensor.datatype)
        v2.check_shape(loc, shape, model)
        size = (tensor.parameters or {}).get("binary_data_size")
        if size is not None:
            if type(size) is not int or size != len(raw) or tensor.data is not None:
                where = (*loc, "parameters", "binary_data_size")
                raise InputError(where, f"must be the {len(raw)} bytes after the JSON, no data")
            values = v2.from_raw(loc, raw, shape, tensor.datatype)
        elif tensor.data is None or raw:
            raise InputError((*loc, "data"), "is required (or binary_data_size, for raw bytes)")
        else:
            values = tensors.from_json(loc, tensor.data, shape)
        found.append(v2.Input(tensor.name, tensor.datatype, shape, values))
    return found


def _binary(body: V2InferRequest) -> dict[str, bool]:
    """Output name -> sent as raw bytes (the binary extension's parameters), checked first."""
    default = _flag(body.parameters, "binary_data_output", ("parameters",))
    asked = {
        o.name: _flag(o.parameters, "binary_data", ("outputs", i, "parameters"), default)
        for i, o in enumerate(body.outputs or ())
    }
    return asked if body.outputs else {"": default}


def _answer(response: v2.Response, binary: dict[str, bool]) -> Response:
    """The answer's JSON, or JSON and raw bytes when any output is asked for in binary."""
    outputs, chunks = [], []
    default = binary.get("", False)
    for output in response.outputs:
        tensor: dict[str, Any] = {"name": output.name, "datatype": output.datatype,
                                  "shape": output.shape}  # fmt: skip
        if binary.get(output.name, default):
            raw = tensors.to_raw(output.values)
            tensor["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        elif isinstance(output.values, list):
            tensor["data"] = [v.decode() for v in output.values]
        else:
            tensor["data"] = output.values.ravel().tolist()
        outputs.append(tensor)
    content: dict[str, Any] = {"model_name": response.model_name,
                               "model_version": response.model_version, "id": response.id,
                               "outputs": outputs}  # fmt: skip
    if response.parameters:
        content["parameters"] = response.parameters
    if not chunks:
        return encode(content)
    header = to_json(content)
    return Response(b"".join([header, *chunks]), media_type="application/octet-stream",
                    headers={tensors.HEADER: str(len(header))})  # fmt: skip


def _flag(parameters: dict | None, key: str, where: tuple, default: bool = False) -> bool:
    value = (parameters or {}).get(key, default)
    if type(value) is not bool:
        raise InputError((*where, key), "must be true or false")
    return value
