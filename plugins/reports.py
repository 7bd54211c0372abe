"""Static HTML reports: an observer plugin that writes, after every finished run,

* ``runs/<run_id>/report.html`` next to the run record: trigger, stage timings, data
  profile, checks with observed values and thresholds, metrics, deployments, drift and
  the error with the failing plugin and hook;
* ``registry/<model>/index.html``: the model's versions with metrics side by side, its
  aliases and their history, and its latest runs linking to their reports.

Both pages are self-contained (inline CSS and SVG, no script, relative links), so a team
without a running dashboard opens them straight from the bucket. Configure it with::

    [plugins.reports]
    model_index = true     # also rewrite registry/<model>/index.html after each run
    recent_runs = 30       # runs listed on the model index

A failure here is logged by the runner and never fails the run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hookline import RunContext, hookimpl, layout
from hookline.config import Option

if TYPE_CHECKING:
    from hookline.plugins._report_html import SECTION_CSS, STATIC, Links, run_sections

__all__ = [
    "CONFIG",
    "SECTION_CSS",
    "STATIC",
    "Links",
    "after_pipeline_run",
    "on_pipeline_error",
    "run_sections",
    "write_reports",
]
_RENDERER = ("SECTION_CSS", "STATIC", "Links", "run_sections")
"""The one renderer of a run record (:mod:`._report_html`), public here for the dashboard:
imported when first used, not when the plugin loads."""


def __getattr__(name: str) -> Any:
    if name in _RENDERER:
        from hookline.plugins import _report_html

        return getattr(_report_html, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


CONFIG = {
    "model_index": Option(bool, True, "rewrite registry/<model>/index.html after each run"),
    "recent_runs": Option(int, 30, "how many of the model's latest runs the index lists"),
}
_MAX_INDEX_READS = 500


@hookimpl
def after_pipeline_run(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """Write the run's report and refresh its model's index (succeeded or rejected runs)."""
    write_reports(ctx, record)


@hookimpl
def on_pipeline_error(ctx: RunContext, record: Mapping[str, Any]) -> None:
    """Write the report of a failed run; a transient failure (no final record) is skipped,
    since the platform retries it."""
    from hookline.runs import FINAL

    if record.get("status") in FINAL:
        write_reports(ctx, record)


def write_reports(ctx: RunContext, record: Mapping[str, Any]) -> list[str]:
    """Write ``report.html`` for ``record`` and, when configured, the model index.

    :returns: the URIs written.
    """
    from hookline.plugins._report_html import model_index_html, run_report_html
    from hookline.runs import RunStore

    settings = {name: opt.default for name, opt in CONFIG.items()}
    settings.update(ctx.plugin_config("reports"))
    written = [ctx.write_output("report.html", run_report_html(record).encode())]
    model = record.get("model") or ctx.model_name
    if settings["model_index"] and model:
        registry = ctx.registry
        versions = [v.manifest for v in reversed(registry.versions(model))]
        aliases = {name: state.to_dict() for name, state in registry.aliases(model).items()}
        recent = (
            RunStore(ctx.storage)
            .page(int(settings["recent_runs"]), model=model, max_reads=_MAX_INDEX_READS)
            .runs
        )
        key = layout.model_index_key(model)
        ctx.storage.write(key, model_index_html(model, versions, aliases, recent).encode())
        written.append(ctx.storage.url(key))
    return written
