"""Service settings, read from environment variables when the app starts."""

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from artifact.metadata import LABELS
from service.core.batching import DEFAULTS as BATCHING

# a proxy's path prefix: empty, or "/" then a segment that neither starts nor ends with "/"
ROOT_PATH = re.compile(r"(/[^/](.*[^/])?)?")


class Settings(BaseSettings):
    """Every knob of the service; each field is read from the env var of the same name."""

    # Environment variables win over a `.env` file in the working directory.
    model_config = SettingsConfigDict(
        env_prefix="", case_sensitive=False, extra="ignore", env_file=".env"
    )

    models_dir: Path = Path("models")  # MODELS_DIR: holds <name>/<int version>/ artifacts
    # VERSION_LABELS_FILE: the file in each model's directory, beside its versions, naming
    # TF Serving's version labels ({"stable": 4}); read again at each reload poll
    version_labels_file: str = LABELS
    log_level: str = "INFO"  # LOG_LEVEL: level of the `service` loggers
    log_format: Literal["json", "text"] = "json"  # LOG_FORMAT: JSON lines, or text for people
    max_body_bytes: int = Field(1 << 20, gt=0)  # MAX_BODY_BYTES: larger bodies get 413
    reload_interval_s: float = Field(5.0, ge=0)  # RELOAD_INTERVAL_S: poll for new versions; 0 off
    api_key: SecretStr | None = None  # API_KEY: if set, all but /health/* need Bearer <key>
    api_key_file: Path | None = None  # API_KEY_FILE: a file holding the key (e.g. a k8s secret)
    cors_origins: str = ""  # CORS_ORIGINS: comma-separated allowed origins; empty = CORS closed
    grpc_port: int = Field(0, ge=0, le=65535)  # GRPC_PORT: gRPC (TF Serving, v2, health); 0 = off
    grpc_host: str = "127.0.0.1"  # GRPC_HOST: the address gRPC listens on (the image: 0.0.0.0)
    # ROOT_PATH: the path prefix a proxy strips before it forwards, e.g. /lstm (uvicorn's name;
    # `python -m service --root-path` overrides it)
    root_path: str = Field("", pattern=f"^{ROOT_PATH.pattern}$")

    # Inference and micro-batching (the README's "Performance" section has the measurements)
    # INFERENCE_RUNTIME: "litert" runs each version's model.tflite (TensorFlow serves a version
    # without one); "tensorflow" runs every SavedModel with TensorFlow
    inference_runtime: Literal["litert", "tensorflow"] = "litert"
    tf_intra_op_threads: int = Field(1, ge=0)  # TF_INTRA_OP_THREADS: per-op threads; 0 = TF's
    tf_inter_op_threads: int = Field(1, ge=0)  # TF_INTER_OP_THREADS: concurrent ops; 0 = TF's
    inference_xla: bool = False  # INFERENCE_XLA: jit_compile the models, padded to the buckets
    inference_buckets: tuple[int, ...] = (1, 4, 16, 64, 256)  # INFERENCE_BUCKETS: XLA batch sizes
    batch_max_windows: int = Field(
        BATCHING.max_windows, gt=0
    )  # BATCH_MAX_WINDOWS: windows merged into one call
    batch_max_wait_ms: float = Field(BATCHING.max_wait_s * 1000, ge=0)
    # BATCH_WORKER: where model calls run: "loop", the event loop's thread, once a turn for all
    # the requests of that turn (no thread hand-off; fastest on 2 cores); "thread", a worker
    # thread per model that also waits BATCH_MAX_WAIT_MS for company (docs/performance.md)
    batch_worker: Literal["loop", "thread"] = BATCHING.worker
    batch_queue_size: int = Field(BATCHING.queue_size, gt=0)

    # The HTTP server of `python -m service` (docs/limits.md)
    max_url_bytes: int = Field(8 << 10, gt=0)  # MAX_URL_BYTES: longer request targets get 414
    max_header_bytes: int = Field(16 << 10, gt=0)  # MAX_HEADER_BYTES: all header lines; 431
    header_timeout_s: float = Field(10.0, gt=0)  # HEADER_TIMEOUT_S: to send the headers; 408
    body_timeout_s: float = Field(60.0, gt=0)  # BODY_TIMEOUT_S: longest pause inside a body; 408
    max_connections: int = Field(1024, gt=0)  # MAX_CONNECTIONS: open at once; beyond, 503
    shutdown_delay_s: float = Field(0.0, ge=0)  # SHUTDOWN_DELAY_S: serve on after SIGTERM

    @field_validator("version_labels_file")
    @classmethod
    def _a_file_name(cls, name: str) -> str:
        """A file beside the versions: no path, not hidden (listing skips those), not digits."""
        if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
            raise ValueError("must be a file name in the model's directory, without a path")
        if name.startswith(".") or name.isdigit():
            raise ValueError("must not start with '.' or be all digits (a version's name)")
        return name


@lru_cache
def get_settings() -> Settings:
    """Build the settings once, on first use (never at import)."""
    return Settings()


def api_key(settings: Settings) -> bytes | None:
    """The key from API_KEY, else from the file API_KEY_FILE names; None when neither is set."""
    if settings.api_key is not None:
        key = settings.api_key.get_secret_value().strip()
    elif settings.api_key_file is not None:
        key = settings.api_key_file.read_text().strip()  # a missing file stops the startup
    else:
        return None
    if not key:
        raise ValueError("API_KEY / API_KEY_FILE is set but empty")
    return key.encode()
