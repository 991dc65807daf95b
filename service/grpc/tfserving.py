"""TF Serving's gRPC API: PredictionService (Predict, GetModelMetadata), ModelService.

Only framing: the model spec and the input TensorProto are read into plain values, the
protocol's codec (service.protocols.tfserving) answers, and its answer is written back as
TF Serving's messages (service/grpc/protos, the service's own copy of their definitions).
Tensors are read and written by tensors.py (numpy, no TensorFlow); status and metadata are
parsed from the codec's JSON form. Warnings travel in the trailing metadata (`warnings`,
JSON).
"""

import math

from google.protobuf import json_format

from service.core import dataplane, inputs
from service.grpc import tensors
from service.grpc.protos import tensorflow_pb2 as tf_pb
from service.grpc.protos import tensorflow_serving_pb2 as serving
from service.grpc.protos import tensorflow_serving_pb2_grpc as serving_grpc
from service.protocols import tfserving
from service.protocols.errors import BadRequest, Unimplemented

VALUES = {tf_pb.DT_FLOAT: "float_val", tf_pb.DT_DOUBLE: "double_val"}
ITEM_BYTES = {tf_pb.DT_FLOAT: 4, tf_pb.DT_DOUBLE: 8}


def model_of(registry, spec: serving.ModelSpec):
    """The model a ModelSpec names: latest, `version` or `version_label`."""
    choice = spec.WhichOneof("version_choice")
    version = spec.version.value if choice == "version" else None
    label = spec.version_label if choice == "version_label" else None
    return tfserving.model_of(registry, spec.name, version, label)


def spec_of(model) -> serving.ModelSpec:
    answer = serving.ModelSpec(name=model.name, signature_name=model.spec.signature_name)
    answer.version.value = model.version
    return answer


def to_array(proto: tf_pb.TensorProto, window: int, n_features: int, where: str):
    """The values of a TensorProto, refusing what TF would pad, broadcast or reinterpret."""
    known = proto.dtype in tf_pb.DataType.values()
    tfserving.check_dtype(where, tf_pb.DataType.Name(proto.dtype) if known else str(proto.dtype))
    dims = [d.size for d in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank:
        raise BadRequest(f"{where}: needs a known shape")
    problem = inputs.declared_shape(dims, window, n_features)
    if problem is not None:
        raise BadRequest(f"{where}: shape {problem}")
    count = math.prod(dims)
    if proto.tensor_content:
        given = len(proto.tensor_content) / ITEM_BYTES[proto.dtype]
    else:
        given = len(getattr(proto, VALUES[proto.dtype]))
    if given != count:
        raise BadRequest(f"{where}: holds {given:g} values; shape {dims} needs {count}")
    return tensors.to_array(proto)


class PredictionService(serving_grpc.PredictionServiceServicer):
    def __init__(self, registry) -> None:
        self.registry = registry

    async def Predict(self, request: serving.PredictRequest, context) -> serving.PredictResponse:
        model = model_of(self.registry, request.model_spec)
        tfserving.check_signature(model, request.model_spec.signature_name)
        name = tfserving.check_inputs(model, list(request.inputs))
        values = to_array(request.inputs[name], *model.spec.input_shape, name)
        answer = await dataplane.predict(model, tfserving.windows(model, values, name))
        found = tfserving.outputs(answer, list(request.output_filter))
        response = serving.PredictResponse(model_spec=spec_of(model))
        for key, array in found.items():
            response.outputs[key].CopyFrom(tensors.to_proto(array))
        if answer.warnings:
            context.set_trailing_metadata(tfserving.warnings_metadata(answer))
        return response

    async def GetModelMetadata(
        self, request: serving.GetModelMetadataRequest, context
    ) -> serving.GetModelMetadataResponse:
        model = model_of(self.registry, request.model_spec)
        found = tfserving.metadata(model, list(request.metadata_field))
        signatures = json_format.ParseDict(
            found["metadata"]["signature_def"], serving.SignatureDefMap()
        )
        spec = json_format.ParseDict(found["model_spec"], serving.ModelSpec())
        response = serving.GetModelMetadataResponse(model_spec=spec)
        response.metadata["signature_def"].Pack(signatures)
        return response

    async def Classify(self, request, context):
        model_of(self.registry, request.model_spec)
        raise tfserving.unsupported("classify")

    async def Regress(self, request, context):
        model_of(self.registry, request.model_spec)
        raise tfserving.unsupported("regress")

    async def MultiInference(self, request, context):
        raise Unimplemented("MultiInference needs classify/regress signatures: use Predict")


class ModelService(serving_grpc.ModelServiceServicer):
    def __init__(self, registry) -> None:
        self.registry = registry

    async def GetModelStatus(
        self, request: serving.GetModelStatusRequest, context
    ) -> serving.GetModelStatusResponse:
        spec = request.model_spec
        choice = spec.WhichOneof("version_choice")
        version = spec.version.value if choice == "version" else None
        label = spec.version_label if choice == "version_label" else None
        found = tfserving.status(self.registry, spec.name, version, label)
        return json_format.ParseDict(found, serving.GetModelStatusResponse())

    async def HandleReloadConfigRequest(self, request, context):
        raise Unimplemented("models are reloaded from MODELS_DIR, not by RPC")
