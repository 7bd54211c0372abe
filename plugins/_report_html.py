"""The HTML of a run record and of a model index: the one renderer of both.

Two faces show a run record as HTML, and both call :func:`run_sections`:

* the ``reports`` plugin's static ``runs/<run_id>/report.html`` (:func:`run_report_html`),
  a self-contained page that opens straight from a bucket, a file browser or an e-mail;
* the dashboard's run page, which puts the same sections inside its own chrome and links
  them to its own pages (a :class:`Links`).

The dashboard (an adapter) imports these names from the plugin's public module,
:mod:`hookline.plugins.reports`, since plugins may not import adapters; the renderer lives
with the plugin that writes reports, not in the core, because only presentation code needs
it (the core stays what every cold start pays for). Plain
string building and ``html.escape``: no template engine, no JavaScript, no external asset
(inline CSS and SVG). Static links are relative (``runs/<id>/report.html`` and
``registry/<model>/index.html`` are both two folders below the storage root).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any
from urllib.parse import quote

from hookline.hookspecs import STAGES

__all__ = [
    "CSS",
    "SECTION_CSS",
    "STATIC",
    "Links",
    "model_index_html",
    "run_report_html",
    "run_sections",
]

PAGE_CSS = """
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
color:#1f2933;background:#f5f7fa}main{max-width:1080px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:21px;margin:4px 0 6px}h2{font-size:15px;margin:0 0 10px}
"""
SECTION_CSS = """
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
a{color:#2563eb}.warnbox{border-left:4px solid #b45309;background:#fffbeb;padding:10px 14px;
border-radius:6px;margin:0 0 14px}h3{font-size:14px;margin:12px 0 6px}.muted{color:#616e7c}
"""
CSS = PAGE_CSS + SECTION_CSS
"""The stylesheet of a whole static page; :data:`SECTION_CSS` is the part the sections need."""


@dataclass(frozen=True, slots=True)
class Links:
    """Where the sections of a run link to; ``None`` from a function: no link, plain text.

    :param model: a model's page.
    :param version: a version of a model.
    :param monitoring: a model's monitoring page.
    :param extras: more ``(label, href)`` links shown under the run's title.
    """

    model: Callable[[str], str | None]
    version: Callable[[str, Any], str | None] = lambda model, version: None
    monitoring: Callable[[str], str | None] = lambda model: None
    extras: Sequence[tuple[str, str]] = ()


STATIC = Links(model=lambda m: f"../../registry/{quote(str(m), safe='')}/index.html")
"""The links of a static report (relative, inside the same storage root)."""

_BADGE = {
    "no drift": "ok",
    "closed": "ok",
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
            f'<line class="threshold" x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="{height - 14}" '
            f'stroke="#c81e1e" '
            f'stroke-dasharray="6 4" stroke-width="1.5"/><text x="{x:.1f}" '
            f'y="{height - 3}" text-anchor="middle" fill="#c81e1e">threshold '
            f"{threshold:.3g}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def _link(text: str, href: str | None) -> str:
    return f'<a href="{escape(href)}">{text}</a>' if href else text


def _dl(rows: Iterable[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>" for k, v in rows) + "</dl>"


def _error(err: Mapping[str, Any]) -> str:
    keys = ("plugin", "distribution", "hook", "stage", "type", "hint")
    rows = [
        (k, f"<code>{_e(err[k])}</code>" if k == "hook" else _e(err[k])) for k in keys if err.get(k)
    ]
    trace = (
        f"<details><summary>traceback</summary><pre>{_e(err['traceback'])}</pre></details>"
        if err.get("traceback")
        else ""
    )
    return (
        f'<section class="err" id="error"><h2>Error</h2><div class="msg">'
        f"{_e(err.get('message'))}</div>{_dl(rows)}{trace}</section>"
    )


def _header(record: Mapping[str, Any], links: Links) -> str:
    run_id, status, model = record.get("run_id"), str(record.get("status")), record.get("model")
    model_html = _link(_e(model), links.model(str(model))) if model else ""
    extras = "".join(f' · <a href="{escape(href)}">{_e(label)}</a>' for label, href in links.extras)
    return (
        f"<h1>Run <code>{_e(run_id)}</code> {_badge(status)}</h1>"
        f'<p class="sub">pipeline <b>{_e(record.get("pipeline"))}</b> · model {model_html} · '
        f"attempt {_e(record.get('attempt'))} · started {_e(record.get('started_at'))} · "
        f"finished {_e(record.get('finished_at'))} · {_num(record.get('seconds'))} s{extras}</p>"
    )


def _trigger(trigger: Mapping[str, Any]) -> str:
    source = trigger.get("source")
    if trigger.get("event_id"):
        source = f"{source} · event {trigger.get('event_id')}"
    rows = [
        (
            "schedule" if trigger.get("type") == "schedule" else "uri",
            trigger.get("uri") or trigger.get("pipeline"),
        ),
        ("version", trigger.get("read_version") or trigger.get("version")),
        ("sha256", trigger.get("sha256")),
        ("size", trigger.get("size")),
        ("event time", trigger.get("event_time")),
        ("source", source),
    ]
    shown = [
        (k, f"{_num(v)} bytes" if k == "size" else f'<span class="m">{_e(v)}</span>')
        for k, v in rows
        if v is not None
    ]
    return f'<section id="trigger"><h2>Triggering object</h2>{_dl(shown)}</section>'


def _stages(record: Mapping[str, Any]) -> str:
    rank = {name: i for i, name in enumerate(STAGES)}
    stages = sorted((record.get("stages") or {}).items(), key=lambda i: rank.get(i[0], len(rank)))
    rows = [
        [
            _e(name),
            _badge(str(info.get("status")))
            + (f' <span class="muted">{_e(info["reason"])}</span>' if info.get("reason") else ""),
            _num(info.get("seconds")),
        ]
        for name, info in stages
    ]
    bars = [(n, float(i.get("seconds") or 0.0), i.get("status") == "failed") for n, i in stages]
    return (
        '<section id="stages"><h2>Stage timings</h2>'
        + _bars(bars, unit=" s")
        + (_table(["stage", "status", "seconds"], rows, (2,)) if rows else "<p>no stage ran</p>")
        + "</section>"
    )


def _checks(checks: Sequence[Mapping[str, Any]]) -> str:
    if not checks:
        return '<section id="checks"><h2>Checks</h2><p class="muted">No checks ran.</p></section>'
    rows = [
        [
            _badge("pass" if c.get("passed") else "fail" if c.get("blocking") else "warn"),
            f"<code>{_e(c.get('name'))}</code>",
            _e(c.get("kind")),
            _num(c.get("observed")),
            _num(c.get("threshold")),
            "yes" if c.get("blocking") else "no",
            _e(c.get("message")),
        ]
        for c in checks
    ]
    headers = ["result", "check", "kind", "observed", "threshold", "blocking", "message"]
    return f'<section id="checks"><h2>Checks</h2>{_table(headers, rows, (3, 4))}</section>'


def _metrics(record: Mapping[str, Any]) -> str:
    metrics, params = record.get("metrics") or {}, record.get("params") or {}
    if not metrics and not params:
        return ""
    body = _table(["metric", "value"], [[_e(k), _num(v)] for k, v in metrics.items()], (1,))
    if params:
        body += (
            f'<details id="params"><summary>Parameters ({len(params)})</summary>'
            + _table(
                ["parameter", "value"],
                [[_e(k), f'<span class="m">{_e(v)}</span>'] for k, v in params.items()],
            )
            + "</details>"
        )
    return f'<section id="metrics"><h2>Metrics</h2>{body}</section>'


def _card(card: Mapping[str, Any]) -> str:
    """The model card: its text, metrics with their cross-validated spread, per-class
    metrics and confusion matrix (or residuals), permutation importance as bars, and the
    training window. Empty for a trainer that writes no card."""
    if not isinstance(card, Mapping) or not card:
        return ""
    body = ""
    text = [(k.replace("_", " "), _num(card[k])) for k in _CARD_TEXT if card.get(k)]
    if text:
        body += _dl(text)
    metrics = card.get("metrics") or {}
    if isinstance(metrics, Mapping) and metrics:
        rows = []
        for name, m in metrics.items():
            m = m if isinstance(m, Mapping) else {"holdout": m}
            spread = (
                f"{_num(m.get('cv_mean'))} ± {_num(m.get('cv_std'))}"
                if m.get("cv_mean") is not None
                else ""
            )
            rows.append([_e(name), _num(m.get("holdout")), spread])
        cv = card.get("cv") or {}
        folds = f" ({_e(cv.get('folds'))} folds)" if isinstance(cv, Mapping) and cv else ""
        body += "<h3>Metrics</h3>" + _table(
            ["metric", "hold-out", f"cross-validated{folds}"], rows, (1, 2)
        )
    per_class = card.get("per_class")
    if isinstance(per_class, Mapping) and per_class:
        body += "<h3>Per class</h3>" + _table(
            ["class", "precision", "recall", "f1", "support"],
            [
                [f"<code>{_e(c)}</code>"]
                + [_num((v or {}).get(k)) for k in ("precision", "recall", "f1", "support")]
                for c, v in per_class.items()
            ],
            (1, 2, 3, 4),
        )
    matrix = card.get("confusion_matrix") or {}
    if isinstance(matrix, Mapping) and matrix.get("labels"):
        labels = [str(x) for x in matrix["labels"]]
        body += '<h3 id="confusion">Confusion matrix (rows: true, columns: predicted)</h3>'
        body += _table(
            ["", *labels],
            [
                [f"<code>{_e(label)}</code>", *(_num(n) for n in row)]
                for label, row in zip(labels, matrix.get("matrix") or [], strict=False)
            ],
            range(1, len(labels) + 1),
        )
    residuals = card.get("residuals")
    if isinstance(residuals, Mapping) and residuals:
        flat = [(k, _num(v)) for k, v in residuals.items() if k != "histogram" and _flat(v)]
        quantiles = residuals.get("quantiles")
        if isinstance(quantiles, Mapping):
            flat.append(("quantiles", _num(dict(quantiles))))
        body += "<h3>Residuals (label minus prediction)</h3>" + _dl(flat)
    importance = card.get("importance") or {}
    features = importance.get("features") if isinstance(importance, Mapping) else None
    if features:
        shown = [
            (str(f.get("feature")), max(0.0, float(f.get("mean") or 0.0)), False)
            for f in features[:15]
        ]
        body += (
            f'<h3 id="importance">Permutation importance ({_e(importance.get("metric"))}, '
            f"{_num(importance.get('rows'))} hold-out rows)</h3>" + _bars(shown)
        )
    window = card.get("window") or []
    if window:
        body += "<h3>Trained on</h3>" + _table(
            ["upload", "version", "sha256", "rows"],
            [
                [
                    f"<code>{_e(w.get('uri'))}</code>",
                    _e(w.get("version")),
                    f'<span class="m">{_e(str(w.get("sha256") or "")[:16])}</span>',
                    _num(w.get("rows")),
                ]
                for w in window
                if isinstance(w, Mapping)
            ],
            (3,),
        )
    for note in card.get("warnings") or []:
        body += f'<div class="warnbox">{_e(note)}</div>'
    return f'<section id="card"><h2>Model card</h2>{body}</section>'


_CARD_TEXT = ("description", "intended_use", "limitations", "owners")


def _deployments(deployments: Sequence[Mapping[str, Any]], links: Links) -> str:
    if not deployments:
        return ""
    rows = []
    for d in deployments:
        model, version = str(d.get("model")), d.get("version")
        rows.append(
            [
                _link(_e(model), links.model(model)),
                _link(f"v{_e(version)}", links.version(model, version))
                if version is not None
                else "",
                _badge(str(d.get("status"))),
                f'<span class="b al">{_e(d["alias"])}</span>' if d.get("alias") else "",
                _e(d.get("target")),
            ]
        )
    table = _table(["model", "version", "status", "alias", "target"], rows)
    return f'<section id="deployments"><h2>Deployments</h2>{table}</section>'


def _flat(value: Any) -> bool:
    items = value.values() if isinstance(value, Mapping) else value
    if isinstance(value, Mapping | list):
        return all(not isinstance(v, Mapping | list) for v in items)
    return True


def _profile(record: Mapping[str, Any]) -> str:
    data = record.get("data") or {}
    profile = dict(data.get("profile") or {})
    columns = profile.pop("columns", None)
    if not profile and not columns:
        return ""
    flat = [(k, _num(v)) for k, v in profile.items() if _flat(v)]
    if data.get("target") and "target" not in profile:
        flat.append(("target", _e(data["target"])))
    body = _dl(flat)
    if isinstance(columns, Mapping) and columns:
        stats: list[str] = []
        for values in columns.values():
            if isinstance(values, Mapping):
                stats.extend(k for k in values if k not in stats)
        body += "<h3>Columns</h3>" + _table(
            ["column", *stats],
            [
                [f"<code>{_e(c)}</code>"]
                + [_num(v.get(s)) if isinstance(v, Mapping) else "" for s in stats]
                for c, v in columns.items()
            ],
            range(1, len(stats) + 1),
        )
    for k, v in profile.items():
        if not _flat(v):
            body += f"<h3>{_e(k)}</h3><pre>{_e(json.dumps(v, indent=2, default=str))}</pre>"
    return f'<section id="profile"><h2>Data profile</h2>{body}</section>'


def _reports(reports: Sequence[Mapping[str, Any]], links: Links) -> str:
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
        status = _badge("drift" if rep.get("drifted") else "no drift")
        retrain = (
            " " + _badge("open") + " retrain requested" if rep.get("retrain_requested") else ""
        )
        model = str(rep.get("model"))
        version = f" v{_e(rep['version'])}" if rep.get("version") is not None else ""
        decay = (
            (rep.get("details") or {}).get("decay")
            if isinstance(rep.get("details"), Mapping)
            else None
        )
        decay_html = ""
        if isinstance(decay, Mapping) and decay:
            decay_html = (
                f'<p id="decay-{_e(rep.get("name"))}">Performance decay: '
                f"<b>{_e(decay.get('metric'))}</b> "
                f"{_num(decay.get('batch'))} on this batch vs {_num(decay.get('baseline'))} at "
                f"training (alert below {_num(decay.get('threshold'))}) "
                + _badge("drift" if decay.get("decayed") else "ok")
                + "</p>"
            )
        metrics = "".join(
            f"<tr><td>{_e(k)}</td><td class='n'>{_num(v)}</td></tr>"
            for k, v in (rep.get("metrics") or {}).items()
        )
        limit = threshold if isinstance(threshold, int | float) else None
        out.append(
            f'<section id="report-{_e(rep.get("name"))}"><h2>Monitoring: {_e(rep.get("name"))} '
            f"{status}{retrain}</h2>"
            f'<p class="sub">model {_link(_e(model), links.monitoring(model))}{version}</p>'
            f"{_bars(bars, threshold=limit)}"
            f"{_table(['feature', 'PSI', 'KS p-value', 'threshold', 'drift'], rows, (1, 2, 3))}"
            + decay_html
            + (f"<h2>Performance on this batch</h2><table>{metrics}</table>" if metrics else "")
            + "</section>"
        )
    return "".join(out)


def _provenance(record: Mapping[str, Any]) -> str:
    libraries = ", ".join(f"{k} {v}" for k, v in (record.get("libraries") or {}).items())
    body = _dl(
        [
            ("project", _e(record.get("project"))),
            ("config sha256", f'<span class="m">{_e(record.get("config_hash"))}</span>'),
            ("libraries", f'<span class="m">{_e(libraries)}</span>'),
        ]
    )
    plugins = record.get("plugins") or []
    if plugins:
        body += "<h3>Plugins</h3>" + _table(
            ["name", "distribution", "hooks"],
            [
                [
                    _e(p.get("name")),
                    _e(" ".join(str(x) for x in (p.get("distribution"), p.get("version")) if x)),
                    f'<span class="m">{_e(", ".join(map(str, p.get("hooks") or [])))}</span>',
                ]
                for p in plugins
                if isinstance(p, Mapping)
            ],
        )
    if record.get("notes"):
        body += f"<h3>Notes</h3><pre>{_e(json.dumps(record['notes'], indent=2, default=str))}</pre>"
    return f'<section id="provenance"><h2>Provenance</h2>{body}</section>'


def run_sections(record: Mapping[str, Any], links: Links = STATIC) -> str:
    """The HTML of one run record, without page chrome: its title, the error (with the
    failing plugin and hook), the gates that rejected it, the triggering object, stage
    timings, checks with observed values and thresholds, metrics and parameters,
    deployments, the data profile, monitoring reports (drift, decay) and provenance.

    :param links: where model, version and monitoring names link to (:data:`STATIC` for
        a static report).
    """
    parts = [_header(record, links)]
    if record.get("error"):
        parts.append(_error(record["error"]))
    if record.get("rejected_by"):
        parts.append(
            '<div class="warnbox">Rejected by blocking check(s): <b>'
            + _e(", ".join(map(str, record["rejected_by"])))
            + "</b>. Nothing was promoted.</div>"
        )
    parts += [
        _trigger(record.get("trigger") or {}),
        _stages(record),
        _checks(record.get("checks") or []),
        _metrics(record),
        _card(record.get("card") or {}),
        _deployments(record.get("deployments") or [], links),
        _profile(record),
        _reports(record.get("reports") or [], links),
        _provenance(record),
    ]
    return "".join(parts)


def run_report_html(record: Mapping[str, Any]) -> str:
    """The static report of one run: :func:`run_sections` as one self-contained page."""
    title = f"hookline run {record.get('run_id')} ({record.get('status')})"
    return _page(title, run_sections(record, STATIC))


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
