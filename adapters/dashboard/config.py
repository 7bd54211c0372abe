"""The ``[ui]`` section of ``hookline.toml``, declared by the dashboard.

Only :class:`~hookline.config.Option` declarations live here: the core validates the section
when it loads the file (entry-point group ``hookline.config``) without importing FastAPI.
"""

from __future__ import annotations

from hookline.config import Option

__all__ = ["SECTION"]

SECTION = {
    "page_size": Option(int, 50, "runs per page"),
}
