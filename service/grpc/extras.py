"""What an answer carries beyond the signature's outputs: the out-of-distribution warnings.

Each warning is one JSON object with the REST answer's fields (window, feature, step, value,
measure, distance, threshold, message).
"""

import dataclasses
import json
import struct
from collections.abc import Sequence

MAX_IN_METADATA = 16  # gRPC metadata is small (8 KiB by default): the first 16 and a count


def as_json(warning) -> bytes:
    fields = dataclasses.asdict(warning) if dataclasses.is_dataclass(warning) else dict(warning)
    return json.dumps(fields, default=float, separators=(",", ":")).encode()


def as_metadata(warnings: Sequence) -> tuple[tuple[str, str], ...]:
    """Trailing metadata: `warnings-count`, and `warnings`, a JSON list of the first 16."""
    first = b",".join(as_json(w) for w in warnings[:MAX_IN_METADATA])
    return (("warnings-count", str(len(warnings))), ("warnings", f"[{first.decode()}]"))


def as_bytes_tensor(warnings: Sequence) -> tuple[list[bytes], bytes]:
    """The elements of a BYTES tensor, and its raw form (each one 4-byte length-prefixed)."""
    items = [as_json(w) for w in warnings]
    return items, b"".join(struct.pack("<I", len(item)) + item for item in items)
