"""TF Serving's gRPC API: PredictionService (Predict, GetModelMetadata), ModelService.

The messages and servicer bases are generated from service/grpc/protos/ (TF Serving's own
numbering); tensors travel as TensorProto, read and written by tensors.py. The one input is
the signature's `window`, shape (batch, window, n_features), DT_FLOAT (DT_DOUBLE is taken
too and goes through the same float32 rules); the answer holds every signature output, or
those `output_filter` names. Warnings travel in the trailing metadata (`warnings`, JSON).
"""

import math
from collections.abc import Mapping

import numpy as np

from service.core import dataplane, inputs
from service.core.errors import InputError, VersionNotFound
from service.grpc import tensors as numpy_tensors
from service.grpc.errors import BadRequest, Unimplemented, input_error
from service.grpc.extras import as_metadata
from service.grpc.protos import tensorflow_pb2 as meta_graph_pb2
from service.grpc.protos import tensorflow_pb2 as tensor_pb2
from service.grpc.protos import tensorflow_pb2 as tensor_shape_pb2
from service.grpc.protos import tensorflow_pb2 as types_pb2
from service.grpc.protos import tensorflow_serving_pb2 as get_model_metadata_pb2
from service.grpc.protos import tensorflow_serving_pb2 as get_model_status_pb2
from service.grpc.protos import tensorflow_serving_pb2 as model_pb2
from service.grpc.protos import tensorflow_serving_pb2 as predict_pb2
from service.grpc.protos import tensorflow_serving_pb2 as status_pb2
from service.grpc.protos import tensorflow_serving_pb2_grpc as model_service_pb2_grpc
from service.grpc.protos import tensorflow_serving_pb2_grpc as prediction_service_pb2_grpc

Status = get_model_status_pb2.ModelVersionStatus
State = Status.State
UNKNOWN = 2  # tensorflow.error.Code.UNKNOWN
VALUES = {types_pb2.DT_FLOAT: "float_val", types_pb2.DT_DOUBLE: "double_val"}
ITEM_BYTES = {types_pb2.DT_FLOAT: 4, types_pb2.DT_DOUBLE: 8}


def model_of(registry, spec: model_pb2.ModelSpec):
    """The model a ModelSpec names (latest when no version); NOT_FOUND / UNAVAILABLE else."""
    if spec.WhichOneof("version_choice") == "version_label":
        raise BadRequest(
            f"model_spec.version_label: labels are not used here ({spec.version_label!r})"
        )
    version = spec.version.value if spec.HasField("version") else None
    return registry.model(spec.name, version)


def spec_of(model) -> model_pb2.ModelSpec:
    answer = model_pb2.ModelSpec(name=model.name, signature_name=model.spec.signature_name)
    answer.version.value = model.version
    return answer


def check_signature(model, name: str) -> None:
    if name not in ("", model.spec.signature_name):
        raise BadRequest(f'Serving signature name: "{name}" not found in signature def')


def to_array(proto: tensor_pb2.TensorProto, limit: int, where: str) -> np.ndarray:
    """The values of a TensorProto, refusing what TF would pad, broadcast or reinterpret."""
    if proto.dtype not in VALUES:
        got = (
            types_pb2.DataType.Name(proto.dtype)
            if proto.dtype in types_pb2.DataType.values()
            else proto.dtype
        )
        raise BadRequest(f"{where}: must be DT_FLOAT (got {got})")
    dims = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank or any(d < 0 for d in dims):
        raise BadRequest(f"{where}: needs a known shape (got {dims})")
    count = math.prod(dims)
    if count > limit:
        raise BadRequest(f"{where}: shape {dims} holds {count} values, more than {limit}")
    if proto.tensor_content:
        given = len(proto.tensor_content) / ITEM_BYTES[proto.dtype]
    else:
        given = len(getattr(proto, VALUES[proto.dtype]))
    if given != count:
        raise BadRequest(f"{where}: holds {given:g} values; shape {dims} needs {count}")
    return numpy_tensors.to_array(proto)


def batch_of(model, tensors: Mapping[str, tensor_pb2.TensorProto]) -> np.ndarray:
    """(n, window, n_features) float32 from the request's one input, by the core's rules."""
    name = model.spec.input_name
    if set(tensors) != {name}:
        raise BadRequest(f"inputs: expected the one input '{name}' (got {sorted(tensors)})")
    window, n_features = model.spec.input_shape
    values = to_array(tensors[name], inputs.MAX_WINDOWS * window * n_features, name)
    try:
        return inputs.windows(model.spec, values)
    except InputError as exc:
        raise input_error(exc, name) from None


def tensor_info(name: str, shape) -> meta_graph_pb2.TensorInfo:
    dims = [tensor_shape_pb2.TensorShapeProto.Dim(size=-1 if d is None else d) for d in shape]
    return meta_graph_pb2.TensorInfo(
        name=name,
        dtype=types_pb2.DT_FLOAT,
        tensor_shape=tensor_shape_pb2.TensorShapeProto(dim=dims),
    )


def signature_def(spec) -> meta_graph_pb2.SignatureDef:
    """The serving signature as TF Serving describes it (tensor names as in a Keras export)."""
    signature = meta_graph_pb2.SignatureDef(method_name="tensorflow/serving/predict")
    input_name = f"{spec.signature_name}_{spec.input_name}:0"
    signature.inputs[spec.input_name].CopyFrom(tensor_info(input_name, (None, *spec.input_shape)))
    for i, name in enumerate(spec.outputs):
        tensor = tensor_info(f"StatefulPartitionedCall:{i}", spec.output_shape(name))
        signature.outputs[name].CopyFrom(tensor)
    return signature


def version_status(state) -> get_model_status_pb2.ModelVersionStatus:
    """One VersionState (AVAILABLE, START, END and why) as TF Serving's message."""
    answer = Status(version=state.version, state=State.Value(state.state))
    if state.error:
        answer.status.CopyFrom(
            status_pb2.StatusProto(error_code=UNKNOWN, error_message=state.error)
        )
    return answer


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, registry) -> None:
        self.registry = registry

    async def Predict(
        self, request: predict_pb2.PredictRequest, context
    ) -> predict_pb2.PredictResponse:
        model = model_of(self.registry, request.model_spec)
        check_signature(model, request.model_spec.signature_name)
        answer = await dataplane.predict(model, batch_of(model, request.inputs))
        names = list(request.output_filter) or list(answer.outputs)
        for name in names:
            if name not in answer.outputs:
                known = ", ".join(answer.outputs)
                raise BadRequest(
                    f"output_filter: '{name}' is not an output of the signature ({known})"
                )
        response = predict_pb2.PredictResponse(model_spec=spec_of(model))
        for name in names:
            response.outputs[name].CopyFrom(numpy_tensors.to_proto(answer.outputs[name]))
        if answer.warnings:
            context.set_trailing_metadata(as_metadata(answer.warnings))
        return response

    async def GetModelMetadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest, context
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        fields = list(request.metadata_field)
        if set(fields) != {"signature_def"}:
            raise BadRequest(f"metadata_field: only 'signature_def' is available (got {fields})")
        model = model_of(self.registry, request.model_spec)
        signatures = get_model_metadata_pb2.SignatureDefMap()
        signatures.signature_def[model.spec.signature_name].CopyFrom(signature_def(model.spec))
        response = get_model_metadata_pb2.GetModelMetadataResponse(model_spec=spec_of(model))
        response.metadata["signature_def"].Pack(signatures)
        return response

    async def Classify(self, request, context):
        raise Unimplemented("Classify needs a classification signature: use Predict")

    async def Regress(self, request, context):
        raise Unimplemented("Regress needs a regression signature: use Predict")

    async def MultiInference(self, request, context):
        raise Unimplemented("MultiInference needs classify/regress signatures: use Predict")


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, registry) -> None:
        self.registry = registry

    async def GetModelStatus(
        self, request: get_model_status_pb2.GetModelStatusRequest, context
    ) -> get_model_status_pb2.GetModelStatusResponse:
        spec = request.model_spec
        if spec.WhichOneof("version_choice") == "version_label":
            raise BadRequest(
                f"model_spec.version_label: labels are not used here ({spec.version_label!r})"
            )
        states = self.registry.versions(spec.name)  # NOT_FOUND for a name never seen
        if spec.HasField("version"):
            states = [s for s in states if s.version == spec.version.value]
            if not states:
                raise VersionNotFound(spec.name, spec.version.value)
        return get_model_status_pb2.GetModelStatusResponse(
            model_version_status=[version_status(s) for s in states]
        )

    async def HandleReloadConfigRequest(self, request, context):
        raise Unimplemented("models are reloaded from MODELS_DIR, not by RPC")
