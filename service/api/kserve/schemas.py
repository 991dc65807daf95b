"""Bodies of the Open Inference Protocol's REST routes."""

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
)

from service import examples


class V2Live(BaseModel):
    live: bool


class V2Ready(BaseModel):
    ready: bool


class V2ModelReady(BaseModel):
    name: str
    ready: bool


class V2ServerMetadata(BaseModel):
    name: str
    version: str
    extensions: list[str] = Field(description="Protocol extensions this server speaks")


class V2Tensor(BaseModel):
    name: str
    datatype: str = "FP32"
    shape: list[int] = Field(description="-1: any size")


class V2ModelMetadata(BaseModel):
    name: str
    versions: list[str]
    platform: str = "tensorflow_savedmodel"
    inputs: list[V2Tensor]
    outputs: list[V2Tensor]


class V2ConfigTensor(BaseModel):
    name: str
    data_type: str = Field(description="TYPE_FP32; TYPE_STRING for `warnings`")
    dims: list[int] = Field(description="The whole shape, batch first (max_batch_size 0)")


class V2ModelConfig(BaseModel):
    """Triton's model configuration, the fields this server fills."""

    name: str
    platform: str
    backend: str
    version_policy: dict[str, Any]
    max_batch_size: int
    input: list[V2ConfigTensor]
    output: list[V2ConfigTensor]


class V2Error(BaseModel):
    error: str


Parameters = dict[str, StrictBool | StrictInt | StrictFloat | StrictStr]
Dim = Annotated[int, Strict()]  # its bounds are the codec's (v2.check_shape), as over gRPC


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class V2InputTensor(_Closed):
    name: str = Field(description="The signature's input: `window`")
    shape: list[Dim] = Field(description="[n, window, n_features]")
    datatype: str = Field(description="FP32 or FP64")
    parameters: Parameters | None = Field(None, description="binary_data_size: raw bytes")
    data: list[Any] | None = Field(None, description="Row-major, flat or nested as `shape`")


class V2RequestedOutput(_Closed):
    name: str
    parameters: Parameters | None = Field(None, description="binary_data: true for raw bytes")


_EXAMPLE = {
    "id": "sine-1",
    "inputs": [
        {"name": "window", "shape": [1, 20, 1], "datatype": "FP32", "data": examples.SINE_X}
    ],
}


class V2InferRequest(_Closed):
    """One input tensor; outputs optional (all by default)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    id: str | None = Field(None, description="Echoed in the answer (at most 128 characters)")
    model_name: str | None = Field(None, description="If given, the name in the path")
    model_version: str | None = Field(
        None, description="The version to use when the path names none (as gRPC's field)"
    )
    parameters: Parameters | None = Field(None, description="binary_data_output: all raw")
    inputs: list[V2InputTensor] = Field(min_length=1)
    outputs: list[V2RequestedOutput] | None = None


class V2OutputTensor(BaseModel):
    name: str
    shape: list[int]
    datatype: str = Field(description="FP32; BYTES for `warnings`")
    parameters: Parameters | None = Field(None, description="binary_data_size when raw")
    data: list[Any] | None = Field(None, description="Row-major, flat")


class V2InferResponse(BaseModel):
    model_name: str
    model_version: str
    id: str = Field(description="The request's `id`, else its X-Request-ID")
    parameters: Parameters | None = Field(None, description="interval_level, if the model has one")
    outputs: list[V2OutputTensor]
