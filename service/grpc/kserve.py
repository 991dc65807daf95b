"""The Open Inference Protocol (KServe v2) over gRPC: `inference.GRPCInferenceService`.

Only framing: each method reads the message into the codec's plain request
(service.protocols.v2), awaits the codec and writes its answer back as the message. Values
come in `raw_input_contents` (what tritonclient sends) or `contents.fp32_contents` /
`fp64_contents`; the answer is raw when the request was. Parameters travel as their proto
type (a float as `double_param`). What each field means is the codec's, the same over REST.
"""

import numpy as np
from google.protobuf import json_format

from service.core.errors import InputError
from service.grpc.protos import inference_pb2 as pb
from service.grpc.protos import inference_pb2_grpc as service_pb2_grpc
from service.protocols import v2
from service.protocols.errors import Unimplemented

CONTENTS = {"FP32": "fp32_contents", "FP64": "fp64_contents"}  # the field of each datatype


def parameters_of(given) -> dict:
    """A parameters map as plain values (a double as a float, an int64 as an int)."""
    found = {}
    for key, value in given.items():
        kind = value.WhichOneof("parameter_choice")
        if kind is not None:
            found[key] = getattr(value, kind)
    return found


def set_parameter(target, key: str, value) -> None:
    if isinstance(value, bool):
        target[key].bool_param = value
    elif isinstance(value, int):
        target[key].int64_param = value
    elif isinstance(value, float):
        target[key].double_param = value
    else:
        target[key].string_param = str(value)


def inputs_of(model, request: pb.ModelInferRequest) -> list[v2.Input]:
    """Each input with its values decoded by the codec's datatype rules."""
    raw = request.raw_input_contents
    if raw and len(raw) != len(request.inputs):
        message = f"holds {len(raw)} entries for {len(request.inputs)} inputs"
        raise InputError(("raw_input_contents",), message)
    found = []
    for i, tensor in enumerate(request.inputs):
        loc, shape = ("inputs", i), tuple(tensor.shape)
        v2.dtype_of(loc, tensor.datatype)
        v2.check_shape(loc, shape, model)
        filled = [f.name for f, _ in tensor.contents.ListFields()]
        if raw:
            if filled:
                raise InputError((*loc, "contents"), "must be empty with raw_input_contents")
            values = v2.from_raw(loc, raw[i], shape, tensor.datatype)
        else:
            field = CONTENTS[tensor.datatype]
            if filled not in ([], [field]):
                raise InputError((*loc, "contents"), f"{tensor.datatype} data goes in {field}")
            values = v2.from_values(loc, getattr(tensor.contents, field), shape)
        found.append(v2.Input(tensor.name, tensor.datatype, shape, values))
    return found


def response_of(answer: v2.Response, raw: bool) -> pb.ModelInferResponse:
    """The message of an answer: raw contents if the request was raw, else typed contents."""
    response = pb.ModelInferResponse(
        model_name=answer.model_name, model_version=answer.model_version, id=answer.id
    )
    for key, value in answer.parameters.items():
        set_parameter(response.parameters, key, value)
    for output in answer.outputs:
        out = response.outputs.add(name=output.name, datatype=output.datatype, shape=output.shape)
        values = output.values
        if isinstance(values, list):  # BYTES
            if raw:
                response.raw_output_contents.append(v2.bytes_raw(values))
            else:
                out.contents.bytes_contents.extend(values)
        elif raw:
            response.raw_output_contents.append(np.asarray(values, dtype="<f4").tobytes())
        else:
            out.contents.fp32_contents.extend(values.ravel().tolist())
    return response


def _tensors(described: list[dict]) -> list:
    tensor = pb.ModelMetadataResponse.TensorMetadata
    return [tensor(**t) for t in described]


class InferenceService(service_pb2_grpc.GRPCInferenceServiceServicer):
    def __init__(self, registry, lifecycle=None) -> None:
        self.registry, self.lifecycle = registry, lifecycle

    async def ServerLive(self, request, context) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request, context) -> pb.ServerReadyResponse:
        draining = self.lifecycle is not None and self.lifecycle.draining
        return pb.ServerReadyResponse(ready=self.registry.readiness(draining).ready)

    async def ServerMetadata(self, request, context) -> pb.ServerMetadataResponse:
        return pb.ServerMetadataResponse(**v2.server_metadata())

    async def ModelReady(self, request: pb.ModelReadyRequest, context) -> pb.ModelReadyResponse:
        ready = v2.model_ready(self.registry, request.name, request.version)
        return pb.ModelReadyResponse(ready=ready == v2.READY)

    async def ModelMetadata(self, request, context) -> pb.ModelMetadataResponse:
        meta = v2.model_metadata(self.registry, request.name, request.version)
        inputs_, outputs = _tensors(meta.pop("inputs")), _tensors(meta.pop("outputs"))
        return pb.ModelMetadataResponse(**meta, inputs=inputs_, outputs=outputs)

    async def ModelConfig(self, request, context) -> pb.ModelConfigResponse:
        config = v2.model_config(self.registry, request.name, request.version)
        message = json_format.ParseDict(config, pb.ModelConfig())
        return pb.ModelConfigResponse(config=message)

    async def ModelInfer(self, request: pb.ModelInferRequest, context) -> pb.ModelInferResponse:
        model = v2.model_of(self.registry, request.model_name, request.model_version)
        asked = [(o.name, parameters_of(o.parameters)) for o in request.outputs]
        decoded = v2.Request(request.model_name, request.model_version, request.id,
                             inputs_of(model, request), asked,
                             parameters_of(request.parameters))  # fmt: skip
        answer = await v2.infer(model, decoded)
        return response_of(answer, bool(request.raw_input_contents))


def _unimplemented(rpc: str):
    async def method(self, request, context):
        raise Unimplemented(f"{rpc} is not offered by this server")

    method.__name__ = rpc
    return method


for _rpc in (
    "ModelStatistics", "RepositoryIndex",
    "RepositoryModelLoad", "RepositoryModelUnload", "SystemSharedMemoryStatus",
    "SystemSharedMemoryRegister", "SystemSharedMemoryUnregister", "CudaSharedMemoryStatus",
    "CudaSharedMemoryRegister", "CudaSharedMemoryUnregister", "TraceSetting", "LogSettings",
):  # fmt: skip
    setattr(InferenceService, _rpc, _unimplemented(_rpc))
