"""What a version directory's `metadata.json` must hold (format 2), read and checked once.

The service knows a model only through this: features, window, the input rules of its raw
rows, the names and roles of the serving signature's outputs, the interval level and the drift
rule. docs/artifact.md is the human-readable contract; training/export.py writes it.

Every value the service reads (the answer path, the model card, the status routes) is typed
here, numbers strictly (`"6"` is not a threshold), so a version that parses but holds a wrong
value is refused at load rather than failing its requests. Sections only shown or not read at
all (`interval.kind`, `statistics`' contents, `config`) are checked only for being objects.
"""

import json
import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationError,
    field_validator,
    model_validator,
)

FORMAT = 2
# The files of a version directory <models_dir>/<name>/<version>/ (docs/artifact.md)
METADATA = "metadata.json"
SAVED_MODEL = "saved_model.pb"
TFLITE = "model.tflite"  # TF Serving's name for it (read with --prefer_tflite_model)
LABELS = "labels.json"  # beside the versions: {"stable": 4}, TF Serving's version labels
MAX_METADATA_BYTES = 1 << 20  # a larger metadata.json is refused unread
Role = Literal["prediction", "interval_lower", "interval_upper", "drift_value", "drift_score"]
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]  # a JSON number, finite
Dim = Annotated[int, Strict(), Field(gt=0)]
# What a model answers, which picks its request and answer shapes in every protocol:
# "regression", one value per window (the next close); "curve", one value per step of the
# window (cos(x)); "classification", class probabilities per step.
Task = Literal["regression", "curve", "classification"]
# a model's name: its directory in the models directory and its routes (/predict/<name>, ...)
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", re.ASCII)
TASKS: tuple[str, ...] = Task.__args__  # type: ignore[attr-defined]


Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """`("rows", 3, "close")` -> `rows[3].close`; `()` -> `body`."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "body"


class ArtifactError(ValueError):
    """A version directory that cannot be served; the message says which file and rule."""


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class LogRatio(_Open):
    features: list[str]
    denominator: str


class Rules(_Open):
    """Rules on raw input rows; feature names refer to `input.features`."""

    positive: list[str] = []
    non_negative: list[str] = []
    log_ratio: LogRatio | None = None
    ordered: list[tuple[str, str]] = []  # (a, b): a <= b on every row


class Input(_Open):
    features: list[str] = Field(min_length=1)
    window: int = Field(gt=0, le=10_000, strict=True)
    dtype: Literal["float32"] = "float32"
    rules: Rules = Rules()


class Tensor(_Open):
    shape: list[Dim | None] = Field(min_length=1)  # the first axis is the batch: null
    role: Role | None = None
    dtype: Literal["float32"] = "float32"


class Signature(_Open):
    name: str = "serving_default"
    inputs: dict[str, Tensor] = Field(min_length=1, max_length=1)
    outputs: dict[str, Tensor] = Field(min_length=1)


class Interval(_Open):
    """`level` is read (it goes into every interval of the answer); `kind` and the quantiles
    describe what the graph already applies, and are not read."""

    level: float = Field(gt=0, lt=1, strict=True)


class Drift(_Open):
    measure: Literal["z_score", "outside_range"]
    threshold: Number = Field(ge=0)


class Bound(_Open):
    """A feature's raw range in training; the out-of-range warning quotes it."""

    min: Number
    max: Number


class Metrics(_Open):
    test: dict[str, Any] = {}  # GET /models lists it


class Metadata(_Open):
    format: Literal[2]
    name: str = Field(pattern=f"^{NAME.pattern}$")
    task: Task
    input: Input
    signature: Signature
    interval: Interval | None = None
    drift: Drift
    bounds: dict[str, Bound] = {}
    # shown on the model card and GET /models, as they are: only their JSON type is checked
    description: str | None = None
    created_at: str | None = None
    output: dict[str, Any] = {}
    data: dict[str, Any] = {}
    statistics: dict[str, Any] = {}
    metrics: Metrics = Metrics()
    training: dict[str, Any] = {}
    libraries: dict[str, Any] = {}
    config: dict[str, Any] = {}
    litert: dict[str, Any] = {}  # training.lite's check of model.tflite against the SavedModel

    @field_validator("signature")
    @classmethod
    def _roles(cls, signature: Signature) -> Signature:
        roles = [t.role for t in signature.outputs.values()]
        for role in ("prediction", "drift_value", "drift_score"):
            if roles.count(role) != 1:
                raise ValueError(f"needs exactly one output with role {role!r}")
        if roles.count("interval_lower") != roles.count("interval_upper"):
            raise ValueError("interval_lower and interval_upper go together")
        for name, tensor in signature.outputs.items():
            if tensor.shape[0] is not None:
                raise ValueError(f"output {name!r}: the first axis is the batch, null")
        return signature

    @model_validator(mode="after")
    def _shapes(self) -> "Metadata":
        window = [None, self.input.window, len(self.input.features)]
        for name, tensor in self.signature.outputs.items():
            if tensor.role in ("drift_value", "drift_score") and tensor.shape != window:
                raise ValueError(f"output {name!r} ({tensor.role}) must have shape {window}")
            if tensor.role == "prediction" and (wanted := _prediction_shape(self, tensor.shape)):
                raise ValueError(f"task {self.task!r}: output {name!r} (prediction) {wanted}")
        roles = {t.role for t in self.signature.outputs.values()}
        if "interval_lower" in roles and self.interval is None:
            raise ValueError("interval outputs need interval.level")
        return self


class Spec:
    """The parts of the metadata the request path reads, resolved once at load."""

    def __init__(self, meta: Metadata, raw: dict[str, Any]) -> None:
        self.meta, self.raw = meta, raw
        self.name = meta.name
        self.window, self.features = meta.input.window, tuple(meta.input.features)
        self.rules = meta.input.rules
        self.signature_name = meta.signature.name
        self.input_name = next(iter(meta.signature.inputs))
        self.outputs = dict(meta.signature.outputs)
        by_role = {t.role: name for name, t in self.outputs.items() if t.role}
        self.prediction: str = by_role["prediction"]
        self.lower: str | None = by_role.get("interval_lower")
        self.upper: str | None = by_role.get("interval_upper")
        self.drift_value: str = by_role["drift_value"]
        self.drift_score: str = by_role["drift_score"]
        self.level = meta.interval.level if meta.interval and self.lower else None
        self.drift = meta.drift
        self.task: Task = _task(meta.task, self.outputs[self.prediction].shape)

    @property
    def input_shape(self) -> tuple[int, int]:
        return self.window, len(self.features)

    @property
    def trained_on(self) -> str:
        return trained_on(self.raw)

    def output_shape(self, name: str) -> tuple[int | None, ...]:
        return tuple(self.outputs[name].shape)


def trained_on(raw: dict[str, Any]) -> str:
    """The training task whose data and truth a scorecard uses (`config.task`: stock, sine or
    classify), whatever name the model was exported under; its name for an export without."""
    config = raw.get("config")
    task = config.get("task") if isinstance(config, dict) else None
    return task if isinstance(task, str) else str(raw.get("name"))


def _prediction_shape(meta: "Metadata", shape: list) -> str | None:
    """What the task needs of its prediction's shape, if `shape` is not that (docs/artifact.md):
    a regression one value or a few per window, a curve one per step, a classification two or
    more class probabilities per step. A per-step "regression" is an early curve (`_task`)."""
    per_step = len(shape) == 3 and shape[1] == meta.input.window
    if meta.task == "regression" and not (len(shape) == 2 or (per_step and shape[2] == 1)):
        return f"must have shape [null, k] (got {shape})"
    if meta.task == "curve" and not (per_step and shape[2] == 1):
        return f"must have shape [null, {meta.input.window}, 1] (got {shape})"
    if meta.task == "classification" and not (per_step and (shape[2] or 0) >= 2):
        return f"must have shape [null, {meta.input.window}, classes >= 2] (got {shape})"
    return None


def _task(task: str, prediction: list) -> Task:
    """The task; an export from before "curve" existed says "regression" for a per-step
    prediction `(batch, window, 1)`, which is a curve."""
    if task == "regression" and len(prediction) == 3:
        return "curve"
    return task  # type: ignore[return-value]


def read(path: Path) -> Spec:
    """The checked metadata of the version directory `path` (ArtifactError if unusable)."""
    file = path / METADATA
    with file.open("rb") as stream:
        size = os.fstat(stream.fileno()).st_size
        text = b"" if size > MAX_METADATA_BYTES else stream.read(MAX_METADATA_BYTES + 1)
    size = max(size, len(text))  # it may have grown since the stat
    if size > MAX_METADATA_BYTES:
        raise ArtifactError(f"{file}: {size} bytes, over the limit of {MAX_METADATA_BYTES}")
    try:
        meta = Metadata.model_validate_json(text)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = format_loc(tuple(err["loc"]))
        raise ArtifactError(f"{file}: {where}: {err['msg']}") from None
    spec = Spec(meta, json.loads(text))
    _check_names(spec, file)
    return spec


def _check_names(spec: Spec, file: Path) -> None:
    features = set(spec.features)
    rules = spec.rules
    named = [*rules.positive, *rules.non_negative, *(n for pair in rules.ordered for n in pair)]
    if rules.log_ratio:
        named += [*rules.log_ratio.features, rules.log_ratio.denominator]
    unknown = sorted(set(named) - features)
    if unknown:
        raise ArtifactError(f"{file}: input.rules name unknown features {unknown}")
