"""Server-side SVG charts: the threshold is drawn, flagged points are red, text is escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hookline.adapters.dashboard._charts import BAD, BarRow, Point, bar_chart, line_chart

NS = "{http://www.w3.org/2000/svg}"


def test_line_chart_draws_the_threshold_at_its_value() -> None:
    svg = line_chart(
        [Point("d1", 0.05), Point("d2", 0.1), Point("d3", 0.4, flagged=True)],
        threshold=0.2,
        title="psi <x>",
    )
    root = ET.fromstring(svg)  # well-formed XML
    (threshold,) = [e for e in root.iter(f"{NS}line") if e.get("class") == "threshold"]
    ticks = {t.text: float(t.get("y")) for t in root.iter(f"{NS}text") if t.text}
    # the dashed line sits where the y axis puts 0.2
    assert abs(float(threshold.get("y1")) - (ticks["0.2"] - 4)) < 0.2
    assert threshold.get("stroke") == BAD and threshold.get("stroke-dasharray")
    flagged = [c for c in root.iter(f"{NS}circle") if c.get("class") == "flagged"]
    assert len(flagged) == 1 and flagged[0].get("fill") == BAD
    assert "psi &lt;x&gt;" in svg


def test_line_chart_gaps_flat_series_and_no_data() -> None:
    svg = line_chart(
        [Point("a", 1.0), Point("b", None), Point("c", 1.0), Point("d", 1.0)],
        zero_based=False,
        reference=1.0,
    )
    root = ET.fromstring(svg)
    assert len(list(root.iter(f"{NS}path"))) == 1  # a, then the gap, then c-d
    assert len(list(root.iter(f"{NS}circle"))) == 3
    assert "no data yet" in line_chart([])


def test_bar_chart_marks_flagged_rows_and_threshold() -> None:
    svg = bar_chart(
        [BarRow("tenure", 0.5, True), BarRow("charges", 0.01)],
        threshold=0.2,
        threshold_label="PSI threshold",
    )
    root = ET.fromstring(svg)
    fills = [r.get("fill") for r in root.iter(f"{NS}rect")]
    assert fills[0] == BAD and fills[1] != BAD
    assert re.search(r"PSI threshold 0\.2<", svg)
