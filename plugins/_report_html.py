"""Self-contained HTML for the static reports: plain string templates and ``html.escape``.

No template engine, no JavaScript, no external asset: the CSS is inline and the charts are
inline SVG, so a report opens straight from a bucket, a file browser or an e-mail.
Links between reports are relative (``runs/<id>/report.html`` and
``registry/<model>/index.html`` are both two folders below the storage root).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any
from urllib.parse import quote

from hookline.hookspecs import STAGES

__all__ = ["model_index_html", "run_report_html"]

CSS = """
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:#1f2933;background:#f5f7fa}main{max-width:1080px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:21px;margin:4px 0 6px}h2{font-size:15px;margin:0 0 10px}
.sub{color:#616e7c;font-size:12px;margin:0 0 16px}
section{background:#fff;border:1px solid #e4e7eb;border-radius:8px;padding:14px 18px;
margin:0 0 14px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:5px 9px;
border-bottom:1px solid #e4e7eb;vertical-align:top}
th{font-size:12px;color:#616e7c;background:#fafbfc}
td.n{text-align:right;font-variant-numeric:tabular-nums}code,.m{font-family:ui-monospace,
"DejaVu Sans Mono",Menlo,monospace;font-size:12px;word-break:break-all}
.b{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.ok{background:#def7ec;color:#03543f}.bad{background:#fde8e8;color:#9b1c1c}
.warn{background:#fdf6b2;color:#723b13}.al{background:#e1effe;color:#1e429f}
.gray{background:#eef0f3;color:#3e4c59}.err{border-left:4px solid #c81e1e;background:#fff5f5}
.err .msg{font-weight:600;color:#771d1d;white-space:pre-wrap}dl{display:grid;
grid-template-columns:max-content 1fr;gap:3px 14px;margin:0}dt{color:#616e7c}dd{margin:0}
pre{background:#f8fafc;border:1px solid #e4e7eb;padding:8px;overflow:auto;font-size:12px}
a{color:#2563eb}
"""

_BADGE = {
    "succeeded": "ok",
    "pass": "ok",
    "promoted": "ok",
    "ok": "ok",
    "failed": "bad",
    "fail": "bad",
    "drift": "bad",
    "open": "bad",
    "rejected": "warn",
    "warn": "warn",
    "staged": "warn",
    "skipped": "warn",
}


def _e(value: Any) -> str:
    return escape("" if value is None else str(value))


def _href(value: Any) -> str:
    """One path segment of a relative link, percent-encoded and escaped."""
    return escape(quote(str(value), safe=""))


def _num(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return " · ".join(f"{_e(k)} {_num(v)}" for k, v in value.items()) or "none"
    if isinstance(value, list):
        return ", ".join(_num(v) for v in value) or "none"
    return _e(value)


def _badge(text: str) -> str:
    return f'<span class="b {_BADGE.get(text, "gray")}">{_e(text)}</span>'


def _page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>{body}"
        f"</main></body></html>\n"
    )


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()
) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _bars(
    rows: Sequence[tuple[str, float, bool]], *, unit: str = "", threshold: float | None = None
) -> str:
    """Horizontal bars as inline SVG, with a dashed red threshold line."""
    if not rows:
        return ""
    width, left, bar, gap = 620, 140, 16, 6
    height = 8 + len(rows) * (bar + gap) + (16 if threshold is not None else 0)
    top = max([v for _, v, _ in rows] + [threshold or 0.0]) * 1.15 or 1.0
    scale = (width - left - 70) / top
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" font-family="sans-serif" font-size="11">'
    ]
    for i, (label, value, bad) in enumerate(rows):
        y = 6 + i * (bar + gap)
        w = max(1.0, value * scale)
        out.append(
            f'<text x="{left - 6}" y="{y + 12}" text-anchor="end">{_e(label[:22])}</text>'
            f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar}" rx="2" '
            f'fill="{"#c81e1e" if bad else "#2563eb"}"><title>{_e(label)}: '
            f"{value:.4g}{_e(unit)}</title></rect>"
            f'<text x="{left + w + 5:.1f}" y="{y + 12}" fill="#616e7c">'
            f"{value:.3g}{_e(unit)}</text>"
        )
    if threshold is not None:
        x = left + threshold * scale
        out.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{height - 14}" stroke="#c81e1e" '
            f'stroke-dasharray="6 4" stroke-width="1.5"/><text x="{x:.1f}" '
            f'y="{height - 3}" text-anchor="middle" fill="#c81e1e">threshold '
            f"{threshold:.3g}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _error(err: Mapping[str, Any]) -> str:
    keys = ("plugin", "hook", "stage", "type", "distribution", "hint")
    rows = "".join(
        f"<dt>{k}</dt><dd>"
        + (f"<code>{_e(err[k])}</code>" if k == "hook" else _e(err[k]))
        + "</dd>"
        for k in keys
        if err.get(k)
    )
    trace = (
        f"<details><summary>traceback</summary><pre>{_e(err['traceback'])}</pre></details>"
        if err.get("traceback")
        else ""
    )
    return (
        f'<section class="err"><h2>Error</h2><div class="msg">{_e(err.get("message"))}'
        f"</div><dl>{rows}</dl>{trace}</section>"
    )


def _reports(reports: Sequence[Mapping[str, Any]]) -> str:
    out = []
    for rep in reports:
        features = rep.get("features") or {}
        rows, bars, threshold = [], [], None
        for name, f in features.items():
            f = f if isinstance(f, Mapping) else {}
            threshold = f.get("threshold", threshold)
            psi = f.get("psi")
            if isinstance(psi, int | float):
                bars.append((str(name), float(psi), bool(f.get("drifted"))))
            rows.append(
                [
                    _e(name),
                    _num(psi),
                    _num(f.get("ks_pvalue")),
                    _num(f.get("threshold")),
                    _badge("drift" if f.get("drifted") else "ok"),
                ]
            )
        status = _badge("drift" if rep.get("drifted") else "ok")
        retrain = (
            " " + _badge("open") + " retrain requested" if rep.get("retrain_requested") else ""
        )
        metrics = "".join(
            f"<tr><td>{_e(k)}</td><td class='n'>{_num(v)}</td></tr>"
            for k, v in (rep.get("metrics") or {}).items()
        )
        out.append(
            f"<section><h2>Monitoring: {_e(rep.get('name'))} {status}{retrain}</h2>"
            f"{_bars(bars, threshold=threshold if isinstance(threshold, int | float) else None)}"
            f"{_table(['feature', 'PSI', 'KS p-value', 'threshold', 'drift'], rows, (1, 2, 3))}"
            + (f"<h2>Performance on this batch</h2><table>{metrics}</table>" if metrics else "")
            + "</section>"
        )
    return "".join(out)


def run_report_html(record: Mapping[str, Any]) -> str:
    """The report of one run: trigger, stage timings, profile, checks, metrics, deployments,
    monitoring and the error, as one self-contained HTML page."""
    run_id, status = record.get("run_id"), str(record.get("status"))
    model = record.get("model")
    trigger = record.get("trigger") or {}
    parts = [
        f"<h1>Run <code>{_e(run_id)}</code> {_badge(status)}</h1>"
        f'<p class="sub">pipeline <b>{_e(record.get("pipeline"))}</b> · model '
        f'<a href="../../registry/{_href(model)}/index.html">{_e(model)}</a> · started '
        f"{_e(record.get('started_at'))} · {_num(record.get('seconds'))} s · attempt "
        f"{_e(record.get('attempt'))}</p>"
    ]
    if record.get("error"):
        parts.append(_error(record["error"]))
    trig = [
        ("uri", trigger.get("uri") or trigger.get("pipeline")),
        ("version", trigger.get("read_version") or trigger.get("version")),
        ("sha256", trigger.get("sha256")),
        ("size", trigger.get("size")),
        ("event time", trigger.get("event_time")),
    ]
    parts.append(
        "<section><h2>Triggering object</h2><dl>"
        + "".join(
            f"<dt>{k}</dt><dd class='m'>{_num(v) if k == 'size' else _e(v)}</dd>"
            for k, v in trig
            if v is not None
        )
        + "</dl></section>"
    )
    rank = {name: i for i, name in enumerate(STAGES)}
    stages = dict(
        sorted((record.get("stages") or {}).items(), key=lambda item: rank.get(item[0], len(rank)))
    )
    parts.append(
        "<section><h2>Stage timings</h2>"
        + _bars(
            [
                (s, float(i.get("seconds") or 0.0), i.get("status") == "failed")
                for s, i in stages.items()
            ],
            unit=" s",
        )
        + _table(
            ["stage", "status", "seconds"],
            [
                [_e(s), _badge(str(i.get("status"))), _num(i.get("seconds"))]
                for s, i in stages.items()
            ],
            (2,),
        )
        + "</section>"
    )
    checks = record.get("checks") or []
    if checks:
        rows = [
            [
                _badge("pass" if c.get("passed") else "fail" if c.get("blocking") else "warn"),
                f"<code>{_e(c.get('name'))}</code>",
                _e(c.get("kind")),
                _num(c.get("observed")),
                _num(c.get("threshold")),
                _e(c.get("message")),
            ]
            for c in checks
        ]
        parts.append(
            "<section><h2>Checks</h2>"
            + _table(["result", "check", "kind", "observed", "threshold", "message"], rows, (3, 4))
            + "</section>"
        )
    if record.get("metrics"):
        parts.append(
            "<section><h2>Metrics</h2>"
            + _table(
                ["metric", "value"], [[_e(k), _num(v)] for k, v in record["metrics"].items()], (1,)
            )
            + "</section>"
        )
    deployments = record.get("deployments") or []
    if deployments:
        parts.append(
            "<section><h2>Deployments</h2>"
            + _table(
                ["model", "version", "status", "alias"],
                [
                    [
                        _e(d.get("model")),
                        f"v{_e(d.get('version'))}" if d.get("version") is not None else "",
                        _badge(str(d.get("status"))),
                        f'<span class="b al">{_e(d["alias"])}</span>' if d.get("alias") else "",
                    ]
                    for d in deployments
                ],
            )
            + "</section>"
        )
    profile = dict((record.get("data") or {}).get("profile") or {})
    columns = profile.pop("columns", None)
    if profile or columns:
        body = "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_num(v)}</dd>" for k, v in profile.items())
        body += "</dl>"
        if isinstance(columns, Mapping) and columns:
            stats: list[str] = []
            for values in columns.values():
                if isinstance(values, Mapping):
                    stats.extend(k for k in values if k not in stats)
            body += _table(
                ["column", *stats],
                [
                    [f"<code>{_e(c)}</code>"]
                    + [_num(v.get(s)) if isinstance(v, Mapping) else "" for s in stats]
                    for c, v in columns.items()
                ],
                range(1, len(stats) + 1),
            )
        parts.append(f"<section><h2>Data profile</h2>{body}</section>")
    parts.append(_reports(record.get("reports") or []))
    return _page(f"hookline run {run_id} ({status})", "".join(parts))


def model_index_html(
    model: str,
    versions: Sequence[Mapping[str, Any]],
    aliases: Mapping[str, Mapping[str, Any]],
    runs: Sequence[Mapping[str, Any]],
) -> str:
    """The static index of one model: versions with metrics side by side, aliases with
    their history, and the latest runs linking to their reports.

    :param versions: manifests, newest first.
    :param aliases: alias name to ``AliasState.to_dict()``.
    :param runs: run summaries, newest first.
    """
    names: list[str] = []
    for v in versions:
        names.extend(k for k in (v.get("metrics") or {}) if k not in names)
    pointing = {a: s.get("version") for a, s in aliases.items()}
    rows = []
    for v in versions:
        badges = " ".join(
            f'<span class="b al">{_e(a)}</span>'
            for a, n in pointing.items()
            if n == v.get("version")
        )
        run = v.get("run_id")
        rows.append(
            [
                f"<b>v{_e(v.get('version'))}</b>",
                _e(v.get("created_at")),
                badges,
                *[_num((v.get("metrics") or {}).get(n)) for n in names],
                f'<a class="m" href="../../runs/{_href(run)}/report.html">{_e(run)}</a>'
                if run
                else "",
            ]
        )
    parts = [
        f"<h1>Model {_e(model)}</h1><p class='sub'>{len(versions)} versions · "
        + " ".join(f'<span class="b al">{_e(a)} → v{_e(n)}</span>' for a, n in pointing.items())
        + "</p>",
        "<section><h2>Versions</h2>"
        + _table(["version", "created", "aliases", *names, "run"], rows, range(3, 3 + len(names)))
        + "</section>",
    ]
    history = sorted(
        ((a, h) for a, s in aliases.items() for h in s.get("history") or []),
        key=lambda p: str(p[1].get("at")),
        reverse=True,
    )
    if history:
        parts.append(
            "<section><h2>Alias history</h2>"
            + _table(
                ["when", "alias", "action", "move", "by", "reason"],
                [
                    [
                        _e(h.get("at")),
                        f'<span class="b al">{_e(a)}</span>',
                        _e(h.get("action")),
                        f"v{_e(h.get('previous'))} → v{_e(h.get('version'))}",
                        _e(h.get("by")),
                        _e(h.get("reason")),
                    ]
                    for a, h in history
                ],
            )
            + "</section>"
        )
    if runs:
        parts.append(
            "<section><h2>Latest runs</h2>"
            + _table(
                ["status", "run", "pipeline", "started", "version", "error"],
                [
                    [
                        _badge(str(r.get("status"))),
                        f'<a class="m" href="../../runs/{_href(r.get("run_id"))}/report.html">'
                        f"{_e(r.get('run_id'))}</a>",
                        _e(r.get("pipeline")),
                        _e(r.get("started_at")),
                        f"v{_e(r.get('version'))}" if r.get("version") is not None else "",
                        _e(r.get("error")),
                    ]
                    for r in runs
                ],
            )
            + "</section>"
        )
    return _page(f"hookline model {model}", "".join(parts))
