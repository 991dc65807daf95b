"""Open Inference Protocol tensors <-> numpy: JSON `data` and the binary tensor data extension.

JSON `data` is row-major, flat or nested as the tensor's shape. With the binary extension the
body is a JSON header of `Inference-Header-Content-Length` bytes followed by the raw bytes of
each input whose `parameters.binary_data_size` is set, in input order; answers do the same
for outputs asked for in binary. Raw numbers are little-endian; a BYTES element is its 4-byte
little-endian length, then its bytes. Errors are `InputError`s located in the request.
"""

import math
import struct
from typing import Any

import numpy as np

from service.core.errors import InputError, Loc

HEADER = "inference-header-content-length"
FLOATS = {"FP32": np.dtype("<f4"), "FP64": np.dtype("<f8")}  # accepted for a float input
_NUMBER = {int, float}


def split(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """The JSON header and the binary part after it (empty without the extension)."""
    if header_length is None:
        return body, b""
    if not header_length.isdigit() or int(header_length) > len(body):
        raise InputError(
            (), f"the {HEADER} header must be a byte count within the body ({len(body)} bytes)"
        )
    n = int(header_length)
    return body[:n], body[n:]


def from_json(loc: Loc, data: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    """float64 `shape` from numbers (no strings, booleans or nulls), flat or nested."""
    values = np.array(data, dtype=object)
    if values.ndim > 1 and tuple(values.shape) != shape:
        raise InputError((*loc, "data"), f"is nested as {list(values.shape)}, not {list(shape)}")
    if not set(map(type, values.flat)) <= _NUMBER:
        raise InputError((*loc, "data"), f"must hold numbers only, flat or nested as {list(shape)}")
    if values.size != math.prod(shape):
        needs = f"shape {list(shape)} needs {math.prod(shape)}"
        raise InputError((*loc, "data"), f"holds {values.size} values; {needs}")
    try:
        return values.astype(np.float64).reshape(shape)
    except OverflowError:  # a JSON integer beyond float64
        raise InputError((*loc, "data"), "must hold numbers within float32's range") from None


def from_binary(loc: Loc, raw: bytes, shape: tuple[int, ...], datatype: str) -> np.ndarray:
    """`shape` from the raw little-endian bytes of one input."""
    dtype = FLOATS[datatype]
    expected = math.prod(shape) * dtype.itemsize
    if len(raw) != expected:
        raise InputError(
            (*loc, "parameters", "binary_data_size"),
            f"is {len(raw)} bytes; shape {list(shape)} of {datatype} needs {expected}",
        )
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def to_raw(values: np.ndarray | list[bytes]) -> bytes:
    """The binary form of an output: little-endian numbers, or length-prefixed BYTES."""
    if isinstance(values, list):
        return b"".join(struct.pack("<I", len(v)) + v for v in values)
    return np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes()
