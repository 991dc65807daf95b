"""Service settings, read from environment variables when the app starts."""

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every knob of the service; each field is read from the env var of the same name."""

    model_config = SettingsConfigDict(env_prefix="", case_sensitive=False, extra="ignore")

    models_dir: Path = Path("models")  # MODELS_DIR: holds <name>/<int version>/ artifacts
    log_level: str = "INFO"  # LOG_LEVEL: level of the `service` loggers


@lru_cache
def get_settings() -> Settings:
    """Build the settings once, on first use (never at import)."""
    return Settings()
