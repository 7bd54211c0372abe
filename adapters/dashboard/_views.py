"""What each dashboard page shows, gathered from the storage root (no web framework here).

Each function reads the few objects its page needs -- one page of the run index, one run
record, a model's manifests and aliases, the latest monitoring reports -- and returns plain
dictionaries for the templates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from hookline.adapters.dashboard._charts import Point, line_chart
from hookline.errors import HooklineError, NotFound
from hookline.plugins.reports import SECTION_CSS, Links, run_sections
from hookline.registry import Registry
from hookline.runs import RunStore
from hookline.storage import Storage

__all__ = [
    "model_detail",
    "models_overview",
    "monitoring_detail",
    "monitoring_models",
    "run_detail",
    "runs_page",
]

MONITORING = "monitoring/"
MAX_REPORTS = 60
MAX_LINEAGE_READS = 20
MAX_VERIFIED = 20
"""Versions whose bytes (and signature) the model page checks, newest first: each check
reads every artifact, so older versions say "not checked" (`hookline models verify`)."""


def _when(iso: Any) -> str:
    """``2024-05-01 12:03:04`` from an ISO time (UTC), or ``""``."""
    if not iso:
        return ""
    return str(iso).replace("T", " ")[:19]


def _short_date(iso: str) -> str:
    return _when(iso)[5:16]


# --- runs --------------------------------------------------------------------------------


def runs_page(
    store: RunStore, *, limit: int, cursor: str | None, filters: Mapping[str, str]
) -> dict[str, Any]:
    """One page of the run index with its filters applied to the keys where possible."""
    page = store.page(
        limit,
        after=cursor or None,
        pipeline=filters.get("pipeline") or None,
        status=filters.get("status") or None,
        model=filters.get("model") or None,
        started_after=_day(filters.get("since")),
        started_before=_day(filters.get("until"), end=True),
    )
    return {
        "runs": [{**r, "started": _when(r.get("started_at"))} for r in page.runs],
        "next_cursor": page.next_cursor,
        "exhausted": page.exhausted,
        "scanned": page.scanned,
    }


def _day(value: str | None, *, end: bool = False) -> str | None:
    """``YYYY-MM-DD`` (a date input) to an ISO time at the start (or end) of that day."""
    if not value:
        return None
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    stamp = day.timestamp() + (86400 if end else 0)
    return datetime.fromtimestamp(stamp, UTC).isoformat().replace("+00:00", "Z")


def run_detail(store: RunStore, run_id: str) -> dict[str, Any]:
    """A run's page: the run record rendered by the one renderer of run records
    (:func:`hookline.plugins.reports.run_sections`), linked to the dashboard's pages."""
    record = store.get(run_id)
    assert record is not None
    has_report = store.storage.stat(f"runs/{run_id}/report.html") is not None
    extras = [("record.json", f"/runs/{run_id}/record.json")]
    if has_report:
        extras.append(("static report", f"/runs/{run_id}/report.html"))
    links = Links(
        model=lambda m: f"/models/{quote(m, safe='')}",
        version=lambda m, v: f"/models/{quote(m, safe='')}#v{v}",
        monitoring=lambda m: f"/monitoring/{quote(m, safe='')}",
        extras=extras,
    )
    return {"run_id": run_id, "sections": run_sections(record, links), "css": SECTION_CSS}


# --- models ------------------------------------------------------------------------------


def models_overview(registry: Registry) -> list[dict[str, Any]]:
    out = []
    for name in registry.models():
        versions = registry.versions(name)
        aliases = registry.aliases(name)
        latest = versions[-1] if versions else None
        out.append(
            {
                "name": name,
                "versions": len(versions),
                "latest": latest.version if latest else None,
                "latest_at": _when(latest.manifest.get("created_at")) if latest else "",
                "metrics": dict(latest.metrics) if latest else {},
                "aliases": {a: s.version for a, s in sorted(aliases.items())},
            }
        )
    return out


def _verified(registry: Registry, model: str, version: int) -> dict[str, Any]:
    """Whether a version's bytes match its manifest and, with a signing key, its signature
    is valid: ``{"ok", "signature", "problems"}`` for the page's Verified column."""
    try:
        check = registry.verify(model, version)
    except HooklineError as exc:
        return {"ok": False, "signature": "", "problems": [exc.message]}
    return {"ok": check.ok, "signature": check.signature, "problems": list(check.problems)}


def model_detail(registry: Registry, store: RunStore, model: str) -> dict[str, Any]:
    """Versions newest first with metrics side by side, aliases with their history, and
    the lineage chain upload -> run -> version -> alias of each version."""
    versions = list(reversed(registry.versions(model)))
    aliases = registry.aliases(model)
    if not versions and not aliases:
        raise NotFound(
            f"no model {model!r} in this storage root",
            uri=registry.storage.url(f"registry/{model}/"),
        )
    metric_names: list[str] = []
    for v in versions:
        metric_names.extend(k for k in v.metrics if k not in metric_names)
    rows = []
    for i, v in enumerate(versions):
        pointing = sorted(a for a, s in aliases.items() if s.version == v.version)
        lineage = _lineage(v.manifest, store, read_run=i < MAX_LINEAGE_READS)
        verified = _verified(registry, model, v.version) if i < MAX_VERIFIED else None
        rows.append(
            {
                "version": v.version,
                "created_at": _when(v.manifest.get("created_at")),
                "created_by": v.manifest.get("created_by"),
                "metrics": dict(v.metrics),
                "run_id": v.manifest.get("run_id"),
                "aliases": pointing,
                "lineage": lineage,
                "verified": verified,
            }
        )
    history = sorted(
        (
            {**h, "alias": a, "at_text": _when(h.get("at"))}
            for a, s in aliases.items()
            for h in s.history
        ),
        key=lambda h: str(h.get("at") or ""),
        reverse=True,
    )
    alias_rows = []
    for name, state in sorted(aliases.items()):
        alias_rows.append(
            {
                "name": name,
                "version": state.version,
                "seq": state.seq,
                "can_rollback": state.can_roll_back,
                "rollback_to": state.rollback_target,
                "updated": _when(state.history[-1].get("at")) if state.history else "",
            }
        )
    staging = aliases.get("staging")
    production = aliases.get("production")
    waiting = (
        staging.version
        if staging
        and staging.version is not None
        and (production is None or production.version != staging.version)
        else None
    )
    return {
        "model": model,
        "versions": rows,
        "metric_names": metric_names,
        "aliases": alias_rows,
        "history": history,
        "waiting": waiting,
        "best": _best(rows, metric_names),
    }


_LOWER_IS_BETTER = ("rmse", "mae", "mse", "loss", "error", "latency")


def _lower_is_better(metric: str) -> bool:
    """The plugins' table of metric directions; for a name it lacks, the name's look."""
    from hookline.plugins.metrics import DIRECTIONS

    if metric in DIRECTIONS:
        return DIRECTIONS[metric] == "lower"
    return any(tag in metric.lower() for tag in _LOWER_IS_BETTER)


def _best(rows: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, Any]:
    best = {}
    for name in names:
        values = [
            r["metrics"][name] for r in rows if isinstance(r["metrics"].get(name), int | float)
        ]
        if values:
            lower = _lower_is_better(name)
            best[name] = min(values) if lower else max(values)
    return best


def _lineage(manifest: Mapping[str, Any], store: RunStore, *, read_run: bool) -> dict[str, Any]:
    """Where a version came from: the uploaded object (URI, version, sha256) and its run."""
    lineage = manifest.get("lineage")
    found: dict[str, Any] = dict(lineage) if isinstance(lineage, Mapping) else {}
    uri = (
        found.get("trigger_uri")
        or found.get("uri")
        or found.get("source_uri")
        or found.get("source")
    )
    sha = found.get("sha256") or found.get("data_sha256")
    obj_version = found.get("trigger_version") or found.get("read_version") or found.get("version")
    run_id = manifest.get("run_id") or found.get("run_id")
    if (not uri or not sha) and run_id and read_run:
        found_record = store.get(str(run_id), missing_ok=True)
        trigger = (found_record.get("trigger") if found_record else None) or {}
        uri = uri or trigger.get("uri")
        sha = sha or trigger.get("sha256")
        obj_version = obj_version or trigger.get("read_version") or trigger.get("version")
    return {
        "uri": uri if isinstance(uri, str) else None,
        "sha256": sha,
        "object_version": obj_version,
        "run_id": run_id,
    }


# --- monitoring --------------------------------------------------------------------------


def monitoring_models(storage: Storage, registry: Registry) -> list[dict[str, Any]]:
    """Models with monitoring reports or retrain requests, with counts."""
    counts: dict[str, dict[str, int]] = {}
    for info in storage.list(MONITORING):
        parts = info.key.split("/")
        if len(parts) == 4 and parts[2] in ("reports", "retrain"):
            counts.setdefault(parts[1], {"reports": 0, "retrain": 0})[parts[2]] += 1
    return [{"name": name, **c} for name, c in sorted(counts.items())]


def _read_json(storage: Storage, key: str) -> dict[str, Any] | None:
    try:
        doc = json.loads(storage.read(key))
    except (NotFound, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def monitoring_detail(
    storage: Storage, registry: Registry, model: str, limit: int = MAX_REPORTS
) -> dict[str, Any]:
    """Drift per feature and performance over the latest ``limit`` reports, with the
    thresholds, and the retrain requests."""
    prefix = f"{MONITORING}{model}/"
    listed = [i for i in storage.list(f"{prefix}reports/") if i.key.endswith(".json")]
    listed.sort(key=lambda i: i.modified)
    reports = []
    for info in listed[-limit:]:
        doc = _read_json(storage, info.key)
        if doc is None:
            continue
        at = (
            doc.get("created_at")
            or doc.get("at")
            or doc.get("finished_at")
            or datetime.fromtimestamp(info.modified, UTC).isoformat()
        )
        run_id = doc.get("run_id") or info.key.rsplit("/", 1)[-1].removesuffix(".json")
        reports.append({**doc, "at": str(at), "run_id": run_id})
    reports.sort(key=lambda r: r["at"])
    feature_names: list[str] = []
    metric_names: list[str] = []
    for r in reports:
        feature_names.extend(f for f in (r.get("features") or {}) if f not in feature_names)
        metric_names.extend(m for m in (r.get("metrics") or {}) if m not in metric_names)
    features = []
    for name in feature_names:
        points, threshold, drifted = [], None, 0
        for r in reports:
            f = (r.get("features") or {}).get(name) or {}
            psi = f.get("psi")
            threshold = f.get("threshold", threshold)
            drifted += bool(f.get("drifted"))
            points.append(
                Point(
                    _short_date(r["at"]),
                    float(psi) if isinstance(psi, int | float) else None,
                    bool(f.get("drifted")),
                    f"run {r['run_id']}",
                )
            )
        latest = (reports[-1].get("features") or {}).get(name) or {} if reports else {}
        features.append(
            {
                "name": name,
                "drifted_runs": drifted,
                "latest": latest,
                "chart": line_chart(
                    points,
                    threshold=threshold,
                    threshold_label="PSI threshold",
                    title=f"{name}: PSI per monitoring run",
                ),
            }
        )
    performance = [_performance(name, reports, registry, model) for name in metric_names]
    requests = []
    for info in storage.list(f"{prefix}retrain/"):
        doc = _read_json(storage, info.key)
        if doc is not None:
            requests.append(
                {
                    **doc,
                    "id": info.key.rsplit("/", 1)[-1].removesuffix(".json"),
                    "requested": _when(doc.get("requested_at")),
                }
            )
    requests.sort(key=lambda d: str(d.get("requested_at") or ""), reverse=True)
    latest = reports[-1] if reports else None
    return {
        "model": model,
        "reports": list(reversed(reports)),
        "features": features,
        "performance": performance,
        "retrain": requests,
        "latest": latest,
        "drifted_now": bool(latest and latest.get("drifted")),
    }


def _performance(
    metric: str, reports: Sequence[Mapping[str, Any]], registry: Registry, model: str
) -> dict[str, Any]:
    """One metric over time, against the value measured at training time (the reference)
    and the alert threshold when the report states one."""
    lower = _lower_is_better(metric)
    reference = threshold = None
    trained: dict[int, Any] = {}
    points = []
    for r in reports:
        value = (r.get("metrics") or {}).get(metric)
        details = r.get("details") or {}
        perf = details.get("performance") if isinstance(details, Mapping) else None
        if isinstance(perf, Mapping) and perf.get("metric", metric) == metric:
            # the monitor's own decay rule for this metric: its baseline and alert line
            threshold = perf.get("threshold", threshold)
            reference = perf.get("baseline", reference)
        version = r.get("version")
        if reference is None and isinstance(version, int):
            if version not in trained:
                try:
                    trained[version] = registry.get(model, version).metrics.get(metric)
                except NotFound:
                    trained[version] = None
            reference = trained[version]
        flagged = (
            threshold is not None
            and isinstance(value, int | float)
            and (value > threshold if lower else value < threshold)
        )
        points.append(
            Point(
                _short_date(r["at"]),
                float(value) if isinstance(value, int | float) else None,
                bool(flagged),
                f"run {r.get('run_id')}",
            )
        )
    ref = float(reference) if isinstance(reference, int | float) else None
    thr = float(threshold) if isinstance(threshold, int | float) else None
    return {
        "name": metric,
        "chart": line_chart(
            points,
            threshold=thr,
            threshold_label="alert",
            reference=ref,
            reference_label="at training",
            title=f"{metric} on monitored batches",
            higher_is_bad=lower,
            zero_based=False,
        ),
    }
