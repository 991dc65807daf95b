"""The answer's warnings as every protocol carries them: the native answer's `warnings` list,
v2's BYTES output `warnings` and TF Serving's `warnings` (in the body over REST, in the
trailing metadata over gRPC) hold the same objects, built here once."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json

from service.core.dataplane import Answer


def as_list(answer: Answer) -> list[dict[str, Any]]:
    """Every warning as the native answer lists it."""
    return [
        {"window": w.window, "feature": w.feature, "step": w.step, "value": w.value,
         "measure": w.measure, "distance": w.distance, "threshold": w.threshold,
         "message": w.message}
        for w in answer.warnings
    ]  # fmt: skip


def as_json(answer: Answer) -> list[bytes]:
    """One JSON object per warning, the native answer's fields: what v2's BYTES output and TF
    Serving's trailing metadata carry."""
    return [to_json(w) for w in as_list(answer)]
