"""End to end in a real headless browser: the quickstart pipeline run through `hookline run`,
`hookline ui` started as a server process, Debian's chromium driven by Selenium.

Screenshots of the runs page, a run page, the model page and the drift page are saved in
``test-artifacts/screenshots/`` (not committed).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPO = Path(__file__).resolve().parents[2]
QUICKSTART = REPO / "examples" / "quickstart"
SHOTS = REPO / "test-artifacts" / "screenshots"
HOOKLINE = [str(Path(sys.executable).parent / "hookline")]
KEY = "browser-test-key-5f0c2a"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (make test-deps)"),
]


def hookline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*HOOKLINE, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HOOKLINE_LOG_LEVEL": "ERROR"},
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The quickstart's data through the real pipeline: v1 promoted, then (with approval
    required) v2 staged, three monitored batches of which the last drifted, a broken file."""
    folder = tmp_path_factory.mktemp("quickstart")
    for name in ("hookline.toml", "batch1.csv", "batch2.csv", "drifted.csv", "broken.csv"):
        shutil.copy(QUICKSTART / name, folder / name)
    steps = [
        ("train", "batch1.csv"),
        ("approval", None),
        ("train", "batch2.csv"),
        ("score", "batch1.csv"),
        ("score", "batch2.csv"),
        ("score", "drifted.csv"),
        ("train", "broken.csv"),
    ]
    for pipeline, data in steps:
        if data is None:
            with open(folder / "hookline.toml", "a") as fh:
                fh.write("\n[plugins.registry]\nrequire_approval = true\n")
            continue
        result = hookline("run", "--pipeline", pipeline, data, cwd=folder)
        expected = 1 if data == "broken.csv" else 0  # the broken file fails its run
        assert result.returncode == expected, result.stdout + result.stderr
    return folder


@pytest.fixture(scope="module")
def server(project: Path) -> Iterator[str]:
    env = {
        **os.environ,
        "HOOKLINE_API_KEYS": "prediction-key",
        "HOOKLINE_ADMIN_KEYS": f"other-key,{KEY}",
    }
    proc = subprocess.Popen(
        [*HOOKLINE, "ui", "--port", "0"],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(
        target=lambda: [lines.put(line) for line in proc.stdout or ()], daemon=True
    ).start()
    try:
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            assert proc.poll() is None, f"hookline ui exited with {proc.returncode}"
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            found = re.search(r"at (http://127\.0\.0\.1:\d+)/", line)
            url = found.group(1) if found else None
        assert url, "hookline ui did not print its address"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,900",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def text(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def click(driver, element) -> None:
    """Click a link or a submit button and wait for the next page to be loaded."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    old = driver.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(driver, 30)
    wait.until(ec.staleness_of(old))
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def screenshot(driver, name: str) -> Path:
    """The whole page, not just the window."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1280, "height": min(int(height), 6000), "deviceScaleFactor": 1, "mobile": False},
    )
    path = SHOTS / f"{name}.png"
    driver.save_screenshot(str(path))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert path.stat().st_size > 10_000
    return path


def alias(project: Path) -> dict:
    raw = (project / ".hookline/registry/penguins/aliases/production.json").read_bytes()
    return json.loads(raw)


def test_dashboard_in_a_browser(project: Path, server: str, browser) -> None:
    from selenium.webdriver.common.by import By

    d = browser
    records = sorted((project / ".hookline/runs").glob("*/record.json"))
    runs = {json.loads(p.read_bytes())["run_id"]: json.loads(p.read_bytes()) for p in records}
    assert len(runs) == 6

    # -- log in with an API key --------------------------------------------------------
    d.get(f"{server}/runs")
    assert "Log in" in text(d) and "API key" in text(d)
    d.find_element(By.ID, "operator").send_keys("alice")
    d.find_element(By.ID, "key").send_keys(KEY)
    click(d, d.find_element(By.CSS_SELECTOR, "form[action='/login'] button"))
    assert d.current_url == f"{server}/runs"
    page = text(d)
    assert "operator alice" in page

    # -- runs page ---------------------------------------------------------------------
    rows = d.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")
    assert len(rows) == 6
    assert page.count("succeeded") >= 5 and "failed" in page
    assert "plugin 'pandas' failed in hook 'ingest'" in page
    assert "drifted.csv" in page and "batch1.csv" in page
    screenshot(d, "runs")
    d.find_element(By.NAME, "status").send_keys("failed")
    click(d, d.find_element(By.CSS_SELECTOR, "form.filters button"))
    assert len(d.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")) == 1
    assert "status=failed" in d.current_url

    # -- a failed run: the failing plugin and hook ---------------------------------------
    click(d, d.find_element(By.CSS_SELECTOR, "table.runs tbody tr a.mono"))
    page = text(d)
    assert "Error" in page and "plugin\npandas" in page and "hook\ningest" in page
    assert "semicolons" in page and "hint" in page
    screenshot(d, "run-failed")

    # -- a training run: trigger, stage timings, checks, metrics -------------------------
    (v2,) = [r for r in runs.values() if r["trigger"]["uri"].endswith("train/batch2.csv")]
    d.get(f"{server}/runs/{v2['run_id']}")
    page = text(d)
    assert v2["trigger"]["sha256"] in page and v2["trigger"]["read_version"] in page
    assert "Stage timings" in page and "Checks" in page
    for check in v2["checks"]:
        assert check["name"] in page
    assert "beats_production" in page and "staged" in page and "staging" in page
    assert d.find_elements(By.CSS_SELECTOR, "#stages svg rect")
    screenshot(d, "run")

    # -- model page: approve the staged version, then roll back --------------------------
    d.get(f"{server}/models")
    assert "penguins" in text(d)
    screenshot(d, "models-list")
    click(d, d.find_element(By.LINK_TEXT, "penguins"))
    page = text(d)
    assert "v2 waits for approval" in page and "Lineage" in page and "Alias history" in page
    assert "batch2.csv" in page and v2["trigger"]["sha256"][:12] in page
    screenshot(d, "models")
    assert alias(project)["version"] == 1
    click(d, d.find_element(By.ID, "approve-2"))
    assert "production approved: now v2" in text(d)
    state = alias(project)
    assert state["version"] == 2 and state["history"][-1]["action"] == "approve"
    assert state["history"][-1]["by"].startswith("alice [dashboard, key ")
    click(d, d.find_element(By.ID, "rollback-production"))
    page = text(d)
    assert "production rolled back: now v1" in page
    state = alias(project)
    assert state["version"] == 1 and state["history"][-1]["action"] == "rollback"
    assert state["history"][-1]["by"].startswith("alice")
    assert page.count("alice [dashboard, key") >= 2  # both moves in the alias history
    screenshot(d, "models-after-rollback")

    # -- monitoring: drift per feature with the threshold, retrain requests ---------------
    click(d, d.find_element(By.LINK_TEXT, "Monitoring"))
    click(d, d.find_element(By.LINK_TEXT, "penguins"))
    page = text(d)
    assert "drift in latest batch" in page and "Retrain requests" in page and "open" in page
    charts = d.find_elements(By.CSS_SELECTOR, "#drift svg")
    assert len(charts) >= 5
    assert d.find_elements(By.CSS_SELECTOR, "#drift svg line.threshold")
    assert d.find_elements(By.CSS_SELECTOR, "#performance svg line.threshold")
    assert "PSI threshold 0.2" in page
    screenshot(d, "drift")

    # -- the static report, served from the storage root ----------------------------------
    d.get(f"{server}/runs/{v2['run_id']}")
    click(d, d.find_element(By.LINK_TEXT, "static report"))
    assert f"Run {v2['run_id']}" in text(d)
    click(d, d.find_element(By.LINK_TEXT, "penguins"))
    assert "Model penguins" in text(d) and "Latest runs" in text(d)

    # -- logging out ends the session -----------------------------------------------------
    d.get(f"{server}/runs")
    click(d, d.find_element(By.CSS_SELECTOR, "form[action='/logout'] button"))
    d.get(f"{server}/models/penguins")
    assert "Log in" in text(d)
