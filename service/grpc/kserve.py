"""The Open Inference Protocol (KServe v2) over gRPC: `inference.GRPCInferenceService`.

Messages and the servicer base are generated from service/grpc/protos/inference.proto.
ModelInfer takes the one FP32 input `window`, shape [batch, window, n_features], in
`raw_input_contents` (what tritonclient sends) or `contents.fp32_contents`; it answers in
the same form. Beside the signature's outputs (intervals among them: `lower`, `upper`) the
answer has `warnings`, a BYTES tensor of JSON objects, and the parameter `interval_level`
when the model has intervals. `outputs` in the request picks some of them.
"""

import math
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

import numpy as np

from service.core import dataplane, inputs
from service.core.errors import InputError, ModelUnavailable
from service.grpc.errors import BadRequest, Unimplemented, input_error
from service.grpc.extras import as_bytes_tensor
from service.grpc.protos import inference_pb2 as pb
from service.grpc.protos import inference_pb2_grpc as service_pb2_grpc

PLATFORM = "tensorflow_savedmodel"
WARNINGS = "warnings"


def version_of(text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit():
        raise BadRequest(f"model_version: must be a positive integer (got {text!r})")
    return int(text)


def dims(shape) -> list[int]:
    return [-1 if d is None else int(d) for d in shape]


def values_of(request: pb.ModelInferRequest, limit: int, name: str) -> np.ndarray:
    """The input's values, from raw bytes or `fp32_contents`, in its declared shape."""
    if len(request.inputs) != 1 or request.inputs[0].name != name:
        got = [t.name for t in request.inputs]
        raise BadRequest(f"inputs: expected the one input '{name}' (got {got})")
    tensor = request.inputs[0]
    if tensor.datatype != "FP32":
        raise BadRequest(f"{name}: datatype must be FP32 (got {tensor.datatype!r})")
    shape = list(tensor.shape)
    if any(d < 0 for d in shape):
        raise BadRequest(f"{name}: shape {shape} has a negative dimension")
    count = math.prod(shape)
    if count > limit:
        raise BadRequest(f"{name}: shape {shape} holds {count} values, more than {limit}")
    filled = [f.name for f, _ in tensor.contents.ListFields()]
    if request.raw_input_contents:
        if filled or len(request.raw_input_contents) != 1:
            raise BadRequest(f"{name}: give its data once, in raw_input_contents or contents")
        raw = request.raw_input_contents[0]
        if len(raw) != 4 * count:
            raise BadRequest(
                f"{name}: {len(raw)} raw bytes; shape {shape} of FP32 needs {4 * count}"
            )
        return np.frombuffer(raw, dtype="<f4").reshape(shape)
    if filled not in ([], ["fp32_contents"]):
        raise BadRequest(f"{name}: FP32 data goes in contents.fp32_contents (got {filled})")
    data = tensor.contents.fp32_contents
    if len(data) != count:
        raise BadRequest(
            f"{name}: {len(data)} values in fp32_contents; shape {shape} needs {count}"
        )
    return np.asarray(data, dtype=np.float32).reshape(shape)


def batch_of(model, request: pb.ModelInferRequest) -> np.ndarray:
    name = model.spec.input_name
    window, n_features = model.spec.input_shape
    values = values_of(request, inputs.MAX_WINDOWS * window * n_features, name)
    try:
        return inputs.windows(model.spec, values)
    except InputError as exc:
        raise input_error(exc, name) from None


def answer_of(model, answer, request: pb.ModelInferRequest) -> pb.ModelInferResponse:
    """The response: the requested outputs (all by default), raw if the request was raw."""
    available = [*model.spec.outputs, WARNINGS]  # the metadata's order
    names = [o.name for o in request.outputs] or available
    for name in names:
        if name not in available:
            raise BadRequest(f"outputs: '{name}' is not an output ({', '.join(available)})")
    raw = bool(request.raw_input_contents)
    response = pb.ModelInferResponse(
        model_name=model.name, model_version=str(model.version), id=request.id
    )
    if answer.level is not None:
        response.parameters["interval_level"].double_param = answer.level
    for name in names:
        out = response.outputs.add(name=name)
        if name == WARNINGS:
            items, packed = as_bytes_tensor(answer.warnings)
            out.datatype, out.shape[:] = "BYTES", [len(items)]
            if raw:
                response.raw_output_contents.append(packed)
            else:
                out.contents.bytes_contents.extend(items)
            continue
        array = np.asarray(answer.outputs[name], dtype=np.float32)
        out.datatype, out.shape[:] = "FP32", list(array.shape)
        if raw:
            response.raw_output_contents.append(array.astype("<f4").tobytes())
        else:
            out.contents.fp32_contents.extend(array.ravel().tolist())
    return response


class InferenceService(service_pb2_grpc.GRPCInferenceServiceServicer):
    def __init__(self, registry, lifecycle=None) -> None:
        self.registry, self.lifecycle = registry, lifecycle

    async def ServerLive(self, request, context) -> pb.ServerLiveResponse:
        return pb.ServerLiveResponse(live=True)

    async def ServerReady(self, request, context) -> pb.ServerReadyResponse:
        draining = self.lifecycle is not None and self.lifecycle.draining
        return pb.ServerReadyResponse(ready=self.registry.readiness(draining).ready)

    async def ServerMetadata(self, request, context) -> pb.ServerMetadataResponse:
        return pb.ServerMetadataResponse(name="lstm-service", version=_version(), extensions=[])

    async def ModelReady(self, request: pb.ModelReadyRequest, context) -> pb.ModelReadyResponse:
        try:
            self.registry.model(request.name, version_of(request.version))
        except ModelUnavailable:  # known, nothing loaded: not ready rather than an error
            return pb.ModelReadyResponse(ready=False)
        return pb.ModelReadyResponse(ready=True)

    async def ModelMetadata(self, request, context) -> pb.ModelMetadataResponse:
        model = self.registry.model(request.name, version_of(request.version))
        spec, tensor = model.spec, pb.ModelMetadataResponse.TensorMetadata
        outputs = [
            tensor(name=n, datatype="FP32", shape=dims(spec.output_shape(n))) for n in spec.outputs
        ]
        return pb.ModelMetadataResponse(
            name=model.name,
            versions=[str(model.version)],
            platform=PLATFORM,
            inputs=[
                tensor(name=spec.input_name, datatype="FP32", shape=dims((None, *spec.input_shape)))
            ],
            outputs=[*outputs, tensor(name=WARNINGS, datatype="BYTES", shape=[-1])],
        )

    async def ModelInfer(self, request: pb.ModelInferRequest, context) -> pb.ModelInferResponse:
        model = self.registry.model(request.model_name, version_of(request.model_version))
        answer = await dataplane.predict(model, batch_of(model, request))
        return answer_of(model, answer, request)


def _version() -> str:
    try:
        return package_version("lstm-service")
    except PackageNotFoundError:  # a source checkout on PYTHONPATH, not installed
        return "0.1.0"


def _unimplemented(rpc: str):
    async def method(self, request, context):
        raise Unimplemented(f"{rpc} is not offered by this server")

    method.__name__ = rpc
    return method


for _rpc in (
    "ModelConfig", "ModelStatistics", "RepositoryIndex",
    "RepositoryModelLoad", "RepositoryModelUnload", "SystemSharedMemoryStatus",
    "SystemSharedMemoryRegister", "SystemSharedMemoryUnregister", "CudaSharedMemoryStatus",
    "CudaSharedMemoryRegister", "CudaSharedMemoryUnregister", "TraceSetting", "LogSettings",
):  # fmt: skip
    setattr(InferenceService, _rpc, _unimplemented(_rpc))
