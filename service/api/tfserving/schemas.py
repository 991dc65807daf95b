"""TF Serving's REST bodies, as its clients send and read them."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service import examples
from service.api.native.schemas import InputWarning
from service.core.inputs import MAX_WINDOWS


class TFError(BaseModel):
    error: str


class TFStatus(BaseModel):
    error_code: str = Field(description="OK, or UNKNOWN when the version failed to load")
    error_message: str


class TFVersionStatus(BaseModel):
    version: str
    state: Literal["START", "LOADING", "AVAILABLE", "UNLOADING", "END", "UNKNOWN"]
    status: TFStatus


class TFModelStatus(BaseModel):
    model_version_status: list[TFVersionStatus]


class TFModelMetadata(BaseModel):
    model_spec: dict[str, str] = Field(description="name, signature_name, version")
    metadata: dict[str, Any] = Field(description="signature_def: the serving_default signature")


class TFPredictRequest(BaseModel):
    """Row form `{"instances": [...]}` or column form `{"inputs": ...}`, one per request."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"instances": [examples.SINE_X]}]}
    )

    signature_name: str | None = Field(None, description="Only 'serving_default' exists")
    instances: list[Any] | None = Field(
        None, max_length=MAX_WINDOWS, description="One window per instance, or {'window': ...}"
    )
    inputs: list[Any] | dict[str, Any] | None = Field(
        None, description='The batch of windows, or {"window": batch}'
    )

    @model_validator(mode="after")
    def _one_form(self) -> "TFPredictRequest":
        if (self.instances is None) == (self.inputs is None):
            raise ValueError("give exactly one of 'instances' (row form) or 'inputs' (columns)")
        return self


class TFPredictResponse(BaseModel):
    predictions: list[Any] | None = Field(
        None, description="Row form: per instance, the output (one output) or {name: output}"
    )
    outputs: list[Any] | dict[str, Any] | None = Field(
        None, description="Column form: the output batch, or {name: batch}"
    )
    warnings: list[InputWarning] = Field(
        default_factory=list, description="Instances outside the training distribution"
    )
