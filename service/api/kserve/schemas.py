"""Bodies of the Open Inference Protocol's REST routes."""

from pydantic import BaseModel, Field


class V2Live(BaseModel):
    live: bool


class V2Ready(BaseModel):
    ready: bool


class V2ModelReady(BaseModel):
    name: str
    ready: bool


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


class V2Error(BaseModel):
    error: str
