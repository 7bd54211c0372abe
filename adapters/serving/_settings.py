"""The ``[serving]`` section, resolved once when the app is created."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hookline.adapters.serving._predlog import LogSettings
from hookline.config import Config
from hookline.errors import ConfigError

__all__ = ["ServingSettings"]


@dataclass(frozen=True, slots=True)
class ServingSettings:
    """What the prediction service needs from ``hookline.toml``."""

    model: str
    alias: str
    reload_seconds: float
    max_batch: int
    max_body_bytes: int
    api_keys_env: str
    docs: bool
    docs_public: bool
    prediction_log: LogSettings | None

    @classmethod
    def from_config(cls, config: Config) -> ServingSettings:
        """:raises ConfigError: no model to serve, or a value out of range."""
        s: Mapping[str, Any] = config.section("serving")
        model = s.get("model")
        if not model:
            deploying = [p.model for p in config.pipelines.values() if "deploy" in p.stages]
            models = deploying or [p.model for p in config.pipelines.values()]
            if not models:
                raise ConfigError(
                    "no model to serve",
                    key="serving.model",
                    source=config.source,
                    hint='set [serving] model = "NAME"',
                )
            model = models[0]
        for key in ("max_batch", "max_body_bytes"):
            if int(s.get(key, 1)) < 1:
                raise ConfigError(
                    "expected a positive integer", key=f"serving.{key}", source=config.source
                )
        if int(s.get("reload_seconds", 0)) < 0:
            raise ConfigError(
                "expected 0 or more seconds", key="serving.reload_seconds", source=config.source
            )
        return cls(
            model=str(model),
            alias=str(s.get("alias") or "production"),
            reload_seconds=float(s.get("reload_seconds", 30)),
            max_batch=int(s.get("max_batch", 1000)),
            max_body_bytes=int(s.get("max_body_bytes", 1_000_000)),
            api_keys_env=str(s.get("api_keys_env") or "HOOKLINE_API_KEYS"),
            docs=bool(s.get("docs", True)),
            docs_public=bool(s.get("docs_public", False)),
            prediction_log=LogSettings.from_table(s.get("prediction_log") or {}, config.source),
        )
