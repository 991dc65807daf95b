"""TF Serving's gRPC API: PredictionService (Predict, GetModelMetadata), ModelService.

Only framing: the model spec and the input TensorProto are read into plain values, the
protocol's codec (service.protocols.tfserving) answers, and its answer is written back as
TF Serving's messages. Tensors are read with `tf.make_ndarray` and written with
`tf.make_tensor_proto`; status and metadata are parsed from the codec's JSON form. Warnings
travel in the trailing metadata (`warnings`, JSON).
"""

import math

import tensorflow as tf
from google.protobuf import json_format
from tensorflow.core.framework import tensor_pb2, types_pb2
from tensorflow_serving.apis import (
    get_model_metadata_pb2,
    get_model_status_pb2,
    model_pb2,
    model_service_pb2_grpc,
    predict_pb2,
    prediction_service_pb2_grpc,
)

from service.core import dataplane
from service.protocols import tfserving
from service.protocols.errors import BadRequest, Unimplemented

VALUES = {types_pb2.DT_FLOAT: "float_val", types_pb2.DT_DOUBLE: "double_val"}
ITEM_BYTES = {types_pb2.DT_FLOAT: 4, types_pb2.DT_DOUBLE: 8}


def model_of(registry, spec: model_pb2.ModelSpec):
    """The model a ModelSpec names: latest, `version` or `version_label`."""
    choice = spec.WhichOneof("version_choice")
    version = spec.version.value if choice == "version" else None
    label = spec.version_label if choice == "version_label" else None
    return tfserving.model_of(registry, spec.name, version, label)


def spec_of(model) -> model_pb2.ModelSpec:
    answer = model_pb2.ModelSpec(name=model.name, signature_name=model.spec.signature_name)
    answer.version.value = model.version
    return answer


def to_array(proto: tensor_pb2.TensorProto, limit: int, where: str):
    """The values of a TensorProto, refusing what TF would pad, broadcast or reinterpret."""
    known = proto.dtype in types_pb2.DataType.values()
    tfserving.check_dtype(
        where, types_pb2.DataType.Name(proto.dtype) if known else str(proto.dtype)
    )
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
    return tf.make_ndarray(proto)


class PredictionService(prediction_service_pb2_grpc.PredictionServiceServicer):
    def __init__(self, registry) -> None:
        self.registry = registry

    async def Predict(
        self, request: predict_pb2.PredictRequest, context
    ) -> predict_pb2.PredictResponse:
        model = model_of(self.registry, request.model_spec)
        tfserving.check_signature(model, request.model_spec.signature_name)
        name = tfserving.check_inputs(model, list(request.inputs))
        values = to_array(request.inputs[name], tfserving.limit(model), name)
        answer = await dataplane.predict(model, tfserving.windows(model, values, name))
        found = tfserving.outputs(answer, list(request.output_filter))
        response = predict_pb2.PredictResponse(model_spec=spec_of(model))
        for key, array in found.items():
            response.outputs[key].CopyFrom(tf.make_tensor_proto(array))
        if answer.warnings:
            context.set_trailing_metadata(tfserving.warnings_metadata(answer))
        return response

    async def GetModelMetadata(
        self, request: get_model_metadata_pb2.GetModelMetadataRequest, context
    ) -> get_model_metadata_pb2.GetModelMetadataResponse:
        model = model_of(self.registry, request.model_spec)
        found = tfserving.metadata(model, list(request.metadata_field))
        signatures = json_format.ParseDict(
            found["metadata"]["signature_def"], get_model_metadata_pb2.SignatureDefMap()
        )
        response = get_model_metadata_pb2.GetModelMetadataResponse(model_spec=spec_of(model))
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


class ModelService(model_service_pb2_grpc.ModelServiceServicer):
    def __init__(self, registry) -> None:
        self.registry = registry

    async def GetModelStatus(
        self, request: get_model_status_pb2.GetModelStatusRequest, context
    ) -> get_model_status_pb2.GetModelStatusResponse:
        spec = request.model_spec
        choice = spec.WhichOneof("version_choice")
        version = spec.version.value if choice == "version" else None
        label = spec.version_label if choice == "version_label" else None
        found = tfserving.status(self.registry, spec.name, version, label)
        return json_format.ParseDict(found, get_model_status_pb2.GetModelStatusResponse())

    async def HandleReloadConfigRequest(self, request, context):
        raise Unimplemented("models are reloaded from MODELS_DIR, not by RPC")
