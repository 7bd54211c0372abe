"""Real column types through the command line: dates (Parquet-native and ISO text),
identifiers, free text, columns a model does not use, and new columns. Each case here was
once a crash or a silent surprise."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _plugin_helpers import table, write_csv

SKLEARN = """
[plugins.sklearn]
estimator = "sklearn.linear_model.LogisticRegression"
params = {{ max_iter = 500 }}
{sklearn}
"""


def configure(project, sklearn: str = "", extra: str = "") -> None:
    """The test project with more ``[plugins.sklearn]`` keys and more tables."""
    text = project.config.read_text()
    head, _, rest = text.partition("[plugins.sklearn]")
    rest = rest.split("[plugins.gates]", 1)[1]
    project.config.write_text(
        head + SKLEARN.format(sklearn=sklearn).lstrip() + "\n[plugins.gates]" + rest + extra
    )


def dated(rows: int = 240, *, seed: int = 0, tz: str | None = None) -> pd.DataFrame:
    frame = table(rows, seed=seed)
    when = pd.date_range("2024-01-01 06:00", periods=rows, freq="7h", tz=tz)
    frame.insert(0, "when", when)
    return frame


def notes_warnings(record) -> list[str]:
    return (record.get("notes") or {}).get("sklearn", {}).get("warnings", [])


def test_a_parquet_datetime_column_becomes_calendar_features(project, tmp_path):
    """Once: AttributeError in the formula-cell check, whatever [plugins.sklearn] said."""
    path = tmp_path / "dated.parquet"
    dated().to_parquet(path)
    record = project.run(path)
    assert record["status"] == "succeeded", record.get("error")
    schema = record["data"]["schema"]
    assert schema["when"]["dtype"] == "datetime"
    calendar = ["when_year", "when_month", "when_day", "when_dayofweek", "when_hour"]
    assert schema["when"]["calendar"] == calendar
    assert all(schema[c]["derived_from"] == "when" for c in calendar)
    profile = record["data"]["profile"]["columns"]["when"]
    assert profile["kind"] == "datetime" and profile["min"].startswith("2024-01-01T06:00")
    features = project.registry.get("m", 1).manifest["features"]
    assert "when" not in features and set(calendar) <= set(features)
    card = project.registry.get("m", 1).manifest["card"]
    assert card["excluded"]["when"].startswith("a date: learnt through its calendar features")


def test_excluding_a_date_excludes_its_calendar_features(project, tmp_path):
    configure(project, 'exclude = ["when"]')
    path = tmp_path / "dated.parquet"
    dated().to_parquet(path)
    record = project.run(path)
    assert record["status"] == "succeeded", record.get("error")
    features = project.registry.get("m", 1).manifest["features"]
    assert set(features) == {"x1", "x2", "color"}


def test_iso_text_dates_are_parsed_and_other_spellings_stay_text(project, tmp_path):
    frame = dated(tz="UTC")
    frame["when"] = frame["when"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame["us_date"] = pd.date_range("2020-01-01", periods=len(frame)).strftime("%m/%d/%Y")
    record = project.run(write_csv(tmp_path / "dated.csv", frame))
    assert record["status"] == "succeeded", record.get("error")
    schema = record["data"]["schema"]
    assert schema["when"]["dtype"] == "datetime" and "when_hour" in schema["when"]["calendar"]
    # a month/day/year date is ambiguous: it stays text, and its distinct values keep it out
    assert schema["us_date"]["dtype"] == "string"
    card = project.registry.get("m", 1).manifest["card"]
    assert card["excluded"]["us_date"].startswith("identifier-like")


def test_a_date_without_calendar_features_is_left_out_with_a_warning(project, tmp_path):
    configure(project, extra='\n[pipelines.train.plugins.pandas]\ndatetimes = "keep"\n')
    path = tmp_path / "dated.parquet"
    dated().to_parquet(path)
    record = project.run(path)
    assert record["status"] == "succeeded", record.get("error")
    assert "when_year" not in record["data"]["schema"]
    [warning] = notes_warnings(record)
    assert "column 'when' left out: a date" in warning and 'datetimes = "calendar"' in warning


def test_scoring_derives_the_calendar_features_of_a_date(project, tmp_path):
    path = tmp_path / "dated.parquet"
    dated().to_parquet(path)
    assert project.run(path)["status"] == "succeeded"
    batch = dated(60, seed=5).drop(columns=["label"])
    score = tmp_path / "score.parquet"
    batch.to_parquet(score)
    record = project.run(score, pipeline="score")
    assert record["status"] == "succeeded", record.get("error")
    assert record["reports"][0]["features"]["when_month"]["rows"] == 60


@pytest.mark.parametrize(
    ("column", "values"),
    [
        ("customer_id", lambda n: np.arange(1000, 1000 + n)[::-1]),
        ("order", lambda n: np.arange(n)),  # a saved row index: unique and consecutive
        ("token", lambda n: [f"t{i:05x}" for i in range(n)]),
    ],
)
def test_identifier_like_columns_are_left_out_unless_listed(project, tmp_path, column, values):
    frame = table(200)
    frame.insert(0, column, values(200))
    record = project.run(write_csv(tmp_path / "ids.csv", frame))
    assert record["status"] == "succeeded", record.get("error")
    assert column not in project.registry.get("m", 1).manifest["features"]
    [warning] = notes_warnings(record)
    assert f"column {column!r} left out: identifier-like" in warning
    assert "list it in [plugins.sklearn] features" in warning

    configure(project, f'features = ["{column}", "x1", "x2", "color"]')
    record = project.run(write_csv(tmp_path / "ids2.csv", frame.sample(frac=1, random_state=1)))
    assert record["status"] in ("succeeded", "rejected"), record.get("error")
    assert not notes_warnings(record)
    assert column in record["data"]["schema"]


def test_free_text_with_very_many_values_is_left_out(project, tmp_path):
    frame = table(300)
    rng = np.random.default_rng(0)
    frame["comment"] = [f"note {rng.integers(0, 250)}" for _ in range(300)]
    record = project.run(write_csv(tmp_path / "text.csv", frame))
    assert record["status"] == "succeeded", record.get("error")
    card = project.registry.get("m", 1).manifest["card"]
    assert card["excluded"]["comment"].startswith("very high cardinality")
    assert "comment" not in project.registry.get("m", 1).manifest["features"]


def test_an_excluded_column_is_not_required_to_score(project, tmp_path):
    """Once: the quickstart's `year`, excluded from training, was required by scoring."""
    configure(project, 'exclude = ["year"]')
    frame = table(200)
    frame["year"] = 2007
    assert project.run(write_csv(tmp_path / "train.csv", frame))["status"] == "succeeded"
    batch = table(80, seed=3, label=False)  # no `year`
    record = project.run(write_csv(tmp_path / "score.csv", batch), pipeline="score")
    assert record["status"] == "succeeded", record.get("error")


def test_a_new_column_is_not_silently_required_for_scoring(project, tmp_path):
    """Once: a column that appeared in one training batch became a required input."""
    assert project.run(write_csv(tmp_path / "b1.csv", table(200, seed=1)))["status"] == (
        "succeeded"
    )
    grown = table(300, seed=2)
    grown["extra"] = np.random.default_rng(2).normal(size=300)
    record = project.run(write_csv(tmp_path / "b2.csv", grown))
    assert record["status"] in ("succeeded", "rejected"), record.get("error")
    [warning] = notes_warnings(record)
    assert "column 'extra' is new and left out" in warning
    for version in project.registry.versions("m"):
        assert "extra" not in version.manifest["features"]
    scored = project.run(write_csv(tmp_path / "s.csv", table(50, seed=4, label=False)), "score")
    assert scored["status"] == "succeeded", scored.get("error")

    configure(project, 'new_columns = "use"')
    record = project.run(write_csv(tmp_path / "b3.csv", grown.iloc[::-1]))
    [warning] = notes_warnings(record)
    assert "new column(s) extra are now model inputs" in warning
