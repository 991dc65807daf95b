"""Open Inference Protocol tensors <-> numpy: JSON `data` and the binary tensor data extension.

JSON `data` is row-major, flat or nested as the tensor's shape. With the binary extension the
body is a JSON header of `Inference-Header-Content-Length` bytes followed by the raw bytes of
each input whose `parameters.binary_data_size` is set, in input order; answers do the same
for outputs asked for in binary. Raw numbers are little-endian; a BYTES element is its 4-byte
little-endian length, then its bytes. Errors are `InputError`s located in the request.
"""

from typing import Any

import numpy as np

from service.core.errors import InputError, Loc
from service.protocols import v2
from service.protocols.digits import whole

HEADER = "inference-header-content-length"
_NUMBER = {int, float}


def split(body: bytes, header_length: str | None) -> tuple[bytes, bytes]:
    """The JSON header and the binary part after it (empty without the extension)."""
    if header_length is None:
        return body, b""
    n = whole(header_length)
    if n is None or n > len(body):
        raise InputError(
            (), f"the {HEADER} header must be a byte count within the body ({len(body)} bytes)"
        )
    return body[:n], body[n:]


def from_json(loc: Loc, data: list[Any], shape: tuple[int, ...]) -> np.ndarray:
    """float64 `shape` from numbers (no strings, booleans or nulls), flat or nested."""
    values = np.array(data, dtype=object)
    if values.ndim > 1 and tuple(values.shape) != shape:
        nested = v2.short(list(values.shape))
        raise InputError((*loc, "data"), f"is nested as {nested}, not {list(shape)}")
    flat = values.ravel()
    if not set(map(type, flat)) <= _NUMBER:
        raise InputError((*loc, "data"), f"must hold numbers only, flat or nested as {list(shape)}")
    return v2.from_values(loc, flat, shape)


def to_raw(values: np.ndarray | list[bytes]) -> bytes:
    """The binary form of an output: little-endian numbers, or length-prefixed BYTES."""
    if isinstance(values, list):
        return v2.bytes_raw(values)
    return np.ascontiguousarray(values, dtype=values.dtype.newbyteorder("<")).tobytes()
