"""TensorFlow Serving's API, once for REST and gRPC: model spec, signature, status, metadata.

A transport reads the model spec (name, version or label, signature name) and the input
tensor into plain values; this module finds the model, checks the input by the core's rules
and answers in TF Serving's terms and wording. Status and metadata are dicts in the JSON
form of TF Serving's messages (`GetModelStatusResponse`, the `SignatureDef`), which REST
sends as they are and gRPC parses into the messages, so both carry the same fields.
Version labels come from `<name>/labels.json` in the models directory (service.core.repository).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from service.core import inputs
from service.core.errors import InputError, ModelNotFound, ServiceError, short
from service.protocols import warnings
from service.protocols.errors import BadRequest

if TYPE_CHECKING:
    from service.core.dataplane import Answer
    from service.core.registry import Model, Registry

PREDICT = "tensorflow/serving/predict"
DTYPES = ("DT_FLOAT", "DT_DOUBLE")  # the input's types; DT_DOUBLE goes through the same rules
MAX_IN_METADATA = 16  # gRPC metadata is small (8 KiB by default): the first 16 and a count


class ServableNotFound(ServiceError):
    """TF Serving's NOT_FOUND, in its words."""

    code = "not_found"


def model_of(
    registry: Registry, name: str, version: int | None = None, label: str | None = None
) -> Model:
    """The model a spec names: the latest, a version, or a label's version."""
    if label is not None:
        version = registry.labels.get(name, {}).get(label)
        if version is None:
            raise BadRequest(f"Unrecognized servable version label: {label}")
    try:
        return registry.model(name, version)
    except ModelNotFound:  # VersionNotFound among them
        which = f"Latest({name})" if version is None else f"Specific({name}, {version})"
        raise ServableNotFound(f"Servable not found for request: {which}") from None


def check_signature(model: Model, name: str | None) -> None:
    if name not in (None, "", model.spec.signature_name):
        raise BadRequest(f'Serving signature name: "{name}" not found in signature def')


def malformed(method: str, path: str) -> BadRequest:
    """TF Serving's answer to a path under /v1/ that none of its URL patterns match, or a
    method they do not take, in its words (`path` below the root path)."""
    return BadRequest(f"Malformed request: {method} {short(path)}")


def unsupported(method: str) -> BadRequest:
    """`:classify` and `:regress` on a model whose one signature is a predict signature."""
    what = "classification" if method == "classify" else "regression"
    return BadRequest(
        f"Expected {what} signature method_name to be tensorflow/serving/{method}. Was: {PREDICT}"
    )


def check_inputs(model: Model, names: list[str], where: str = "inputs") -> str:
    """The one input's name; TF Serving's clients name it or (REST rows) leave it implicit."""
    name = model.spec.input_name
    if names != [name]:
        raise BadRequest(f"{where}: expected the one input '{name}' (got {sorted(names)})")
    return name


def check_dtype(where: str, dtype: str) -> None:
    if dtype not in DTYPES:
        raise BadRequest(f"{where}: must be DT_FLOAT or DT_DOUBLE (got {dtype})")


def windows(model: Model, values: Any, key: str) -> np.ndarray:
    """The checked batch `(n, window, F)`; errors name `key[i][step].feature`."""
    try:
        return inputs.windows(model.spec, values)
    except InputError as exc:
        raise InputError((key, *exc.loc), exc.msg) from None


def outputs(answer: Answer, wanted: list[str]) -> dict[str, np.ndarray]:
    """The outputs asked for (`output_filter`; all by default), in the signature's order."""
    for name in wanted:
        if name not in answer.outputs:
            known = ", ".join(answer.outputs)
            raise BadRequest(f"output_filter: '{name}' is not an output of the signature ({known})")
    return {n: answer.outputs[n] for n in wanted} if wanted else answer.outputs


def rows(answer: Answer) -> dict[str, Any]:
    """The row form's answer: per instance `{output: value}`, and the warnings."""
    names = list(answer.outputs)
    columns = [answer.outputs[n].tolist() for n in names]
    found = [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
    return {"predictions": found, "warnings": warnings.as_list(answer)}


def columns(answer: Answer) -> dict[str, Any]:
    """The column form's answer: `{output: batch}`, and the warnings."""
    found = {n: values.tolist() for n, values in answer.outputs.items()}
    return {"outputs": found, "warnings": warnings.as_list(answer)}


def warnings_metadata(answer: Answer) -> tuple[tuple[str, str], ...]:
    """gRPC's trailing metadata: `warnings-count`, and `warnings`, a JSON list of the first 16."""
    items = warnings.as_json(answer)
    first = b",".join(items[:MAX_IN_METADATA]).decode()
    return (("warnings-count", str(len(items))), ("warnings", f"[{first}]"))


def status(
    registry: Registry, name: str, version: int | None = None, label: str | None = None
) -> dict[str, Any]:
    """`GetModelStatusResponse`: every version on disk (or the one asked for) and its state."""
    if label is not None:
        version = model_of(registry, name, label=label).version
    try:
        found = [s for s in registry.versions(name) if version in (None, s.version)]
    except ModelNotFound:
        found = []
    if not found:
        which = f"version {version} of model {name}"
        if version is None:
            which = f"any versions of model {name}"
        raise ServableNotFound(f"Could not find {which}")
    return {"model_version_status": [
        {"version": str(s.version), "state": s.state,
         "status": {"error_code": "UNKNOWN" if s.error else "OK", "error_message": s.error}}
        for s in found
    ]}  # fmt: skip


def model_spec(model: Model) -> dict[str, str]:
    return {"name": model.name, "signature_name": "", "version": str(model.version)}


def signature_def(model: Model) -> dict[str, Any]:
    """The serving signature as TF Serving describes it (tensor names as in a Keras export)."""
    spec = model.spec

    def tensor(shape: Any, name: str) -> dict[str, Any]:
        dims = [{"size": str(-1 if d is None else d), "name": ""} for d in shape]
        return {"dtype": "DT_FLOAT", "tensor_shape": {"dim": dims, "unknown_rank": False},
                "name": name}  # fmt: skip

    window = [None, *spec.input_shape]
    found = {n: tensor(t.shape, f"StatefulPartitionedCall:{i}")
             for i, (n, t) in enumerate(spec.outputs.items())}  # fmt: skip
    signature = {
        "inputs": {spec.input_name: tensor(window, f"{spec.signature_name}_{spec.input_name}:0")},
        "outputs": found,
        "method_name": PREDICT,
    }
    return {"signature_def": {spec.signature_name: signature}}


def metadata(model: Model, fields: list[str] | None = None) -> dict[str, Any]:
    """`GetModelMetadataResponse`: the signature map of the model (the only field there is)."""
    if fields is not None and set(fields) != {"signature_def"}:
        raise BadRequest(f"metadata_field: only 'signature_def' is available (got {fields})")
    return {"model_spec": model_spec(model), "metadata": {"signature_def": signature_def(model)}}
