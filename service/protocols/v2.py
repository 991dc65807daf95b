"""The Open Inference Protocol (KServe v2, Triton), once for REST and gRPC.

A transport reads the wire into a `Request` (each input's values decoded with `from_raw` or
`from_values`, which hold the datatype rules: FP32 and FP64 accepted, anything else, BYTES
among them, refused the same way), awaits `infer`, and writes the `Response` back in its own
framing. Metadata, readiness and the model configuration are answered here as plain dicts in
the protocol's JSON shape (the gRPC messages carry the same fields). Errors are the core's
(service.core.errors), located in the request: `inputs[0].datatype: must be FP32 or FP64`.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from service import VERSION
from service.core import context, dataplane, inputs
from service.core.errors import (
    InputError,
    Loc,
    ModelNotFound,
    ModelUnavailable,
    VersionNotFound,
    short,
)
from service.protocols import warnings
from service.protocols.digits import MAX_DIGITS, whole

if TYPE_CHECKING:
    from service.core.registry import Model, Registry

SERVER = "lstm-service"
EXTENSIONS = ["binary_tensor_data", "model_configuration"]
PLATFORM = "tensorflow_savedmodel"
WARNINGS = "warnings"  # the extra BYTES output: one JSON object per warning
DTYPES = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}  # accepted for the float input
MAX_ID = 128  # characters of a request's `id`, which the answer and the log repeat


@dataclass(slots=True)
class Input:
    name: str
    datatype: str
    shape: tuple[int, ...]
    values: np.ndarray | None = None  # decoded by the transport with from_raw / from_values


@dataclass(slots=True)
class Request:
    """What either transport read: the names it addressed, parameters as plain values."""

    model_name: str
    model_version: str | None
    id: str | None
    inputs: list[Input]
    outputs: list[tuple[str, dict[str, Any]]]  # (name, its parameters); empty: all
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Output:
    name: str
    datatype: str  # FP32, or BYTES for warnings
    shape: list[int]
    values: np.ndarray | list[bytes]


@dataclass(slots=True)
class Response:
    model_name: str
    model_version: str
    id: str
    outputs: list[Output]
    parameters: dict[str, Any]


# -- decoding an input's values: the datatype rules, the same on every transport


def dtype_of(loc: Loc, datatype: str) -> np.dtype:
    found = DTYPES.get(datatype)
    if found is None:
        raise InputError((*loc, "datatype"), f"must be FP32 or FP64 (got {short(datatype)!r})")
    return found


def check_shape(loc: Loc, shape: tuple[int, ...], model: Model) -> None:
    """Refuse a shape that cannot fit one request before any value is read."""
    problem = inputs.declared_shape(shape, *model.spec.input_shape)
    if problem is not None:
        raise InputError((*loc, "shape"), problem)


def from_raw(loc: Loc, raw: bytes, shape: tuple[int, ...], datatype: str) -> np.ndarray:
    """`shape` from the little-endian bytes of one input (binary extension, raw contents)."""
    dtype = dtype_of(loc, datatype)
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        message = f"{len(raw)} raw bytes; shape {list(shape)} of {datatype} needs {expected}"
        raise InputError((*loc, "data"), message)
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def from_values(loc: Loc, values: Any, shape: tuple[int, ...]) -> np.ndarray:
    """float64 `shape` from a flat sequence of numbers (JSON `data`, gRPC `contents`)."""
    count = len(values)
    if count != math.prod(shape):
        message = f"holds {count} values; shape {list(shape)} needs {math.prod(shape)}"
        raise InputError((*loc, "data"), message)
    try:
        return np.asarray(values, dtype=np.float64).reshape(shape)
    except OverflowError:  # a JSON integer beyond float64
        raise InputError((*loc, "data"), "must hold numbers within float32's range") from None


def bytes_raw(items: list[bytes]) -> bytes:
    """A BYTES tensor's raw form: each element its 4-byte little-endian length, then itself."""
    return b"".join(struct.pack("<I", len(item)) + item for item in items)


# -- inference


def version_of(text: str | None) -> int | None:
    """The version a request names: none (the served one), or a whole number."""
    if not text:
        return None
    number = whole(text)
    if number is None:
        message = f"must be a whole number of at most {MAX_DIGITS} digits (got {short(text)!r})"
        raise InputError(("model_version",), message)
    return number


def model_of(registry: Registry, name: str, version: str | None) -> Model:
    return registry.model(name, version_of(version))


async def infer(model: Model, request: Request) -> Response:
    """The core's answer to `request`, as the protocol's outputs (all, or those asked for)."""
    if request.id and len(request.id) > MAX_ID:
        raise InputError(("id",), f"must hold at most {MAX_ID} characters (got {len(request.id)})")
    batch = windows(model, request.inputs)
    wanted = outputs(model, request.outputs)
    parameters = _parameters(model, request.parameters)
    answer = await dataplane.predict(model, batch)
    found = []
    for name in wanted:
        if name == WARNINGS:
            items = warnings.as_json(answer)
            found.append(Output(name, "BYTES", [len(items)], items))
        else:
            values = answer.outputs[name]
            found.append(Output(name, "FP32", list(values.shape), values))
    rid = request.id if request.id else _request_id()
    return Response(model.name, str(model.version), rid, found, parameters)


def windows(model: Model, given: list[Input]) -> np.ndarray:
    """The checked batch `(n, window, F)` from the one input; errors name where it broke."""
    spec = model.spec
    if len(given) != 1 or given[0].name != spec.input_name:
        names = ", ".join(repr(short(t.name)) for t in given)
        raise InputError(("inputs",), f"must be the one input {spec.input_name!r} (got {names})")
    values = given[0].values
    assert values is not None, "the transport decodes the values"
    try:
        return inputs.windows(spec, values)
    except InputError as exc:  # (i, step, feature) -> window[i][step].feature
        raise InputError((spec.input_name, *exc.loc), exc.msg) from None


def outputs(model: Model, asked: list[tuple[str, dict[str, Any]]]) -> list[str]:
    """The names to answer, checked before the model runs: all, in metadata order, by default."""
    names = [*model.spec.outputs, WARNINGS]
    if not asked:
        return names
    for i, (name, parameters) in enumerate(asked):
        if name not in names:
            message = f"{short(name)!r} is not an output ({', '.join(names)})"
            raise InputError(("outputs", i, "name"), message)
        if "classification" in parameters:
            raise InputError(("outputs", i, "parameters", "classification"), "is not supported")
    return [name for name, _ in asked]


def _parameters(model: Model, given: dict[str, Any]) -> dict[str, Any]:
    """The answer's parameters; `interval_level`, if asked, must be the model's own level."""
    level = model.spec.level
    if "interval_level" in given:
        asked, where = given["interval_level"], ("parameters", "interval_level")
        if type(asked) not in (int, float):
            raise InputError(where, "must be a number")
        try:
            asked = float(asked)  # a JSON integer of any size: beyond float64 it is no level
        except OverflowError:
            raise InputError(where, "must be a number within float64's range") from None
        if level is None:
            raise InputError(where, f"model '{model.name}' has no prediction interval")
        if not math.isclose(asked, level, rel_tol=1e-9):
            message = f"is {asked:g}; model '{model.name}' gives its interval at {level:g} only"
            raise InputError(where, message)
    return {"interval_level": level} if level is not None else {}


def _request_id() -> str:
    current = context.current.get()
    return current.request_id if current is not None else context.new_id()


# -- health and metadata


def server_metadata() -> dict[str, Any]:
    return {"name": SERVER, "version": VERSION, "extensions": EXTENSIONS}


READY, NOT_READY, NOT_FOUND = "ready", "not ready", "not found"


def model_ready(registry: Registry, name: str, version: str | None) -> str:
    """READY: that version (or any) is the one serving; NOT_READY: a known model with nothing
    loaded, or an older version on disk; NOT_FOUND: an unknown model, or a version not on
    disk. Each transport says it its way: REST by the status (200, 503, 404: any 4xx reads
    as not ready), gRPC by `ready` alone, false for both of the others, as Triton answers it
    (so tritonclient's `is_model_ready` gives False over either). A malformed version raises."""
    wanted = version_of(version)
    try:
        listed = {s.version for s in registry.versions(name)}
    except ModelNotFound:
        return NOT_FOUND
    if wanted is not None and wanted not in listed:
        return NOT_FOUND
    try:
        registry.model(name, wanted)
    except (ModelUnavailable, VersionNotFound):
        return NOT_READY
    return READY


def _dims(shape: Any) -> list[int]:
    return [-1 if d is None else int(d) for d in shape]


def model_metadata(registry: Registry, name: str, version: str | None) -> dict[str, Any]:
    """Name, the version that can be asked for, and the signature's tensors."""
    model = model_of(registry, name, version)
    spec = model.spec
    shape = _dims((None, *spec.input_shape))
    tensor = {"name": spec.input_name, "datatype": "FP32", "shape": shape}
    outputs = [
        {"name": n, "datatype": "FP32", "shape": _dims(spec.output_shape(n))} for n in spec.outputs
    ]
    return {
        "name": model.name,
        "versions": [str(model.version)],
        "platform": PLATFORM,
        "inputs": [tensor],
        "outputs": [*outputs, {"name": WARNINGS, "datatype": "BYTES", "shape": [-1]}],
    }


def model_config(registry: Registry, name: str, version: str | None) -> dict[str, Any]:
    """Triton's model configuration (its JSON field names). `max_batch_size` 0: the dims are
    whole shapes, batch first as in the metadata (`warnings` has one element per warning)."""
    model = model_of(registry, name, version)
    spec = model.spec

    def tensor(tensor_name: str, shape: Any) -> dict[str, Any]:
        return {"name": tensor_name, "data_type": "TYPE_FP32", "dims": _dims(shape)}

    outputs = [tensor(n, spec.output_shape(n)) for n in spec.outputs]
    return {
        "name": model.name,
        "platform": PLATFORM,
        "backend": "",
        "version_policy": {"latest": {"num_versions": 1}},
        "max_batch_size": 0,
        "input": [tensor(spec.input_name, (None, *spec.input_shape))],
        "output": [*outputs, {"name": WARNINGS, "data_type": "TYPE_STRING", "dims": [-1]}],
    }
