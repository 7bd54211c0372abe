"""The ``[serving]`` section of ``hookline.toml``, declared by the prediction service.

Only :class:`~hookline.config.Option` declarations live here: the core validates the section
when it loads the file (entry-point group ``hookline.config``) without importing FastAPI.
"""

from __future__ import annotations

from hookline.config import Option

__all__ = ["SECTION"]

SECTION = {
    "model": Option(str, None, "model to serve (default: the first pipeline's model)"),
    "alias": Option(str, "production", "alias to serve"),
    "reload_seconds": Option(int, 30, "how often to check whether the alias moved"),
    "max_batch": Option(int, 1000, "most records in one /predict request"),
    "max_body_bytes": Option(int, 1_000_000, "largest /predict body accepted"),
    "api_keys_env": Option(str, "HOOKLINE_API_KEYS", "environment variable with API keys"),
    "prediction_log": Option(dict, {}, "sample requests to storage for monitoring"),
    "docs": Option(bool, True, "serve /docs and /openapi.json (they show the feature names)"),
    "docs_public": Option(
        bool, False, "serve /docs and /openapi.json without a key even when keys are set"
    ),
}
