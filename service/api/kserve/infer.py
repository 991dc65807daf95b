"""`POST /v2/models/{name}[/versions/{version}]/infer`: the Open Inference Protocol's inference.

The one input is the signature's (`window`: FP32 or FP64, shape `[n, window, n_features]`,
`[n, window]` for one feature), its `data` flat or nested, or binary (the binary tensor data
extension, as tritonclient sends by default). It passes the same input rules and data plane as
every protocol. The answer holds every output of the serving signature, or those `outputs`
names, each FP32 and batch first: the prediction, the interval bounds `lower` and `upper`, the
drift `drift_value` and `drift_score`; plus `warnings`, a BYTES tensor of one JSON object per
input outside the training distribution, and the interval's level in `parameters`.
Errors are `{"error": "..."}`: 400 bad input, 404 no such model or version, 429 queue full,
503 not loaded.
"""

from typing import Any

import numpy as np
from fastapi import APIRouter, Request, Response
from pydantic_core import to_json

from service.api import errors
from service.api.body import encode, parse
from service.api.deps import registry_of
from service.api.errors import error_only, error_only_responses, route_class, short
from service.api.kserve import tensors
from service.api.kserve.schemas import V2Error, V2InferRequest, V2InferResponse
from service.api.native.predict import warnings as native_warnings
from service.api.openapi import json_body
from service.core import context, dataplane, inputs
from service.core.dataplane import Answer
from service.core.errors import InputError, VersionNotFound
from service.core.registry import Model

WARNINGS = "warnings"  # the extra BYTES output: one JSON object per warning


def render(exc: Exception) -> Response | None:
    """The protocol's answer to an error, or None if it is not one of ours."""
    return error_only(exc)


def render_direct(exc: Exception, method: str, path: str) -> Response:
    """`render`, else the native answer (what the app's handlers give when `render` passes)."""
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
    return await _infer((await registry_of(request)).model(name), request)


@router.post("/models/{name}/versions/{version}/infer", **_INFER)
async def infer_version(request: Request, name: str, version: str) -> Response:
    """The same, 404 unless `version` is the one being served."""
    if not version.isdigit():
        raise VersionNotFound(name, short(version))  # type: ignore[arg-type]
    return await _infer((await registry_of(request)).model(name, int(version)), request)


# Called by the gate without FastAPI's routing (service.api.direct)
DIRECT = {("POST", "/v2/models/{name}/infer"): infer,
          ("POST", "/v2/models/{name}/versions/{version}/infer"): infer_version}  # fmt: skip


async def _infer(model: Model, request: Request) -> Response:
    head, raw = tensors.split(await request.body(), request.headers.get(tensors.HEADER))
    body = parse(V2InferRequest, head)
    _check_names(model, body)
    batch, wanted = _windows(model, body, raw), _outputs(model, body)
    return _answer(model, body, await dataplane.predict(model, batch), wanted)


def _check_names(model: Model, body: V2InferRequest) -> None:
    if body.model_name not in (None, model.name):
        raise InputError(("model_name",), f"is {short(body.model_name)!r}, not {model.name!r}")
    if body.model_version not in (None, "", str(model.version)):
        message = f"is {short(body.model_version)!r}; version {model.version} is served"
        raise InputError(("model_version",), message)


def _windows(model: Model, body: V2InferRequest, raw: bytes) -> np.ndarray:
    """The checked batch `(n, window, F)` from the one input; errors name where it broke."""
    spec, loc = model.spec, ("inputs", 0)
    if len(body.inputs) != 1 or body.inputs[0].name != spec.input_name:
        names = ", ".join(repr(short(t.name)) for t in body.inputs)
        raise InputError(("inputs",), f"must be the one input {spec.input_name!r} (got {names})")
    tensor = body.inputs[0]
    if tensor.datatype not in tensors.FLOATS:
        message = f"must be FP32 or FP64 (got {short(tensor.datatype)!r})"
        raise InputError((*loc, "datatype"), message)
    shape, size = tuple(tensor.shape), (tensor.parameters or {}).get("binary_data_size")
    if size is not None:
        if type(size) is not int or size != len(raw) or tensor.data is not None:
            where = (*loc, "parameters", "binary_data_size")
            raise InputError(where, f"must be the {len(raw)} bytes after the JSON, with no data")
        values = tensors.from_binary(loc, raw, shape, tensor.datatype)
    elif tensor.data is None or raw:
        raise InputError((*loc, "data"), "is required (or binary_data_size, for raw bytes)")
    else:
        values = tensors.from_json(loc, tensor.data, shape)
    try:
        return inputs.windows(spec, values)
    except InputError as exc:  # (i, step, feature) -> window[i][step].feature
        raise InputError((spec.input_name, *exc.loc), exc.msg) from None


def _outputs(model: Model, body: V2InferRequest) -> list[tuple[str, bool]]:
    """(name, in binary) of every output to answer, checked before the model runs."""
    names = [*model.spec.outputs, WARNINGS]
    binary = _flag(body.parameters, "binary_data_output", ("parameters",))
    if not body.outputs:
        return [(name, binary) for name in names]
    wanted = []
    for i, output in enumerate(body.outputs):
        if output.name not in names:
            message = f"{short(output.name)!r} is not an output ({', '.join(names)})"
            raise InputError(("outputs", i, "name"), message)
        if output.parameters and "classification" in output.parameters:
            raise InputError(("outputs", i, "parameters"), "classification is not supported")
        where = ("outputs", i, "parameters")
        wanted.append((output.name, _flag(output.parameters, "binary_data", where, binary)))
    return wanted


def _answer(
    model: Model, body: V2InferRequest, answer: Answer, wanted: list[tuple[str, bool]]
) -> Response:
    """The answer's JSON, or JSON and raw bytes when any output is asked for in binary."""
    outputs, chunks = [], []
    for name, binary in wanted:
        values = _warnings(answer) if name == WARNINGS else answer.outputs[name]
        tensor = _head(name, values)
        if binary:
            raw = tensors.to_raw(values)
            tensor["parameters"] = {"binary_data_size": len(raw)}
            chunks.append(raw)
        elif isinstance(values, list):
            tensor["data"] = [v.decode() for v in values]
        else:
            tensor["data"] = values.ravel().tolist()
        outputs.append(tensor)
    content: dict[str, Any] = {
        "model_name": model.name,
        "model_version": str(model.version),
        "id": body.id if body.id is not None else _request_id(),
        "outputs": outputs,
    }
    if answer.level is not None:
        content["parameters"] = {"interval_level": answer.level}
    if not chunks:
        return encode(content)
    header = to_json(content)
    return Response(b"".join([header, *chunks]), media_type="application/octet-stream",
                    headers={tensors.HEADER: str(len(header))})  # fmt: skip


def _head(name: str, values: np.ndarray | list[bytes]) -> dict[str, Any]:
    if isinstance(values, list):
        return {"name": name, "datatype": "BYTES", "shape": [len(values)]}
    return {"name": name, "datatype": "FP32", "shape": list(values.shape)}


def _flag(parameters: dict | None, key: str, where: tuple, default: bool = False) -> bool:
    value = (parameters or {}).get(key, default)
    if type(value) is not bool:
        raise InputError((*where, key), "must be true or false")
    return value


def _warnings(answer: Answer) -> list[bytes]:
    """One JSON object per warning, the native answer's fields."""
    return [to_json(w) for w in native_warnings(answer)]


def _request_id() -> str:
    current = context.current.get()
    return current.request_id if current is not None else context.new_id()
