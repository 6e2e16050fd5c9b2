"""`txflow report` end to end: the page it writes for hand-built roots, in
Debian's headless Chromium driven by Selenium (no console errors, charts with
data, the search box filters, hostile names stay text), and the report run
beside a live `txflow run` on the same root (it reads only).

Needs TXFLOW_BINARY, /usr/bin/chromium and /usr/bin/chromedriver
(tools/install-browser.sh) and selenium (pyproject's test extra). A missing
browser fails the test: it never skips."""
import os
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
from selenium.webdriver.common.by import By

import fixture_root
from browser import open_chromium

BINARY = os.environ["TXFLOW_BINARY"]
SCREENSHOT_DIR = os.environ.get("TXFLOW_REPORT_SCREENSHOTS")


@pytest.fixture
def work():
    d = tempfile.mkdtemp(prefix="txflow-report-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def browser(work):
    driver = open_chromium(os.path.join(work, "chromium-profile"))
    yield driver
    driver.quit()


def report(root, out, *extra):
    r = subprocess.run([BINARY, "report", "--root", root, "--out", out, *extra],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout


def open_page(browser, path):
    browser.get("file://" + path)
    return browser


def console_errors(browser):
    return [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def visible_rows(browser):
    return [r for r in browser.find_elements(By.CSS_SELECTOR, "#detections tbody tr")
            if r.is_displayed()]


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            st = os.stat(p)
            out[p] = (st.st_size, st.st_mtime_ns)
    return out


def test_page_renders_with_data_and_filters(work, browser):
    root = os.path.join(work, "root")
    expect = fixture_root.build_root(root, files=12, chunks=60)
    before = tree(root)
    out = os.path.join(work, "report.html")
    stdout = report(root, out, "--table-rows", "300")
    assert "600 detections in 12 files, 60 chunks with stats, 3 bad rows, 0 files skipped" in stdout
    assert tree(root) == before, "the report changed the root"

    open_page(browser, out)
    assert browser.title == "txflow report"
    assert console_errors(browser) == []
    # Every line chart has points: 3 patterns, throughput, latency mean and
    # max, backlog.
    lines = browser.find_elements(By.CSS_SELECTOR, "svg polyline.series")
    assert len(lines) == 7
    assert all(int(l.get_attribute("data-points")) > 1 for l in lines)
    bars = browser.find_elements(By.CSS_SELECTOR, "svg rect.bar")
    # 2 kinds of bad-row reason + 15 top merchants (20 in the fixture).
    assert len(bars) == 2 + 15
    # Hostile names stayed text: no element came from them, no alert fired.
    assert browser.find_elements(By.TAG_NAME, "img") == []
    assert browser.execute_script(
        "return document.querySelectorAll('svg[onload]').length") == 0
    assert fixture_root.HOSTILE in browser.find_element(By.ID, "detections").text

    rows = visible_rows(browser)
    assert len(rows) == 300
    # Search for one customer of the last file: exactly its rows remain.
    customer = next(c for c in expect["customers"] if c.startswith("C"))
    box = browser.find_element(By.ID, "search")
    box.send_keys(customer)
    rows = visible_rows(browser)
    assert len(rows) == expect["customers"].count(customer)
    assert all(customer in r.text for r in rows)
    assert browser.find_element(By.ID, "shown").text == str(len(rows))
    # The row carries its evidence from the sidecar.
    assert "merchant_total=" in rows[0].text
    assert "landing_zone/chunk-000000055000.csv" in rows[0].text
    box.clear()
    box.send_keys("PatId3")
    assert 0 < len(visible_rows(browser)) < 300
    assert console_errors(browser) == []

    shot = os.path.join(SCREENSHOT_DIR or work, "report.png")
    browser.find_element(By.ID, "search").clear()
    assert browser.save_screenshot(shot)
    with open(shot, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(shot) > 20000


def test_root_without_evidence_or_stats_says_no_data(work, browser):
    root = os.path.join(work, "root")
    fixture_root.build_root(root, files=2, evidence=False, stats=False,
                            hostile=False)
    out = os.path.join(work, "report.html")
    report(root, out)
    open_page(browser, out)
    assert console_errors(browser) == []
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "no data: no per-chunk stats" in text
    assert "(no evidence file)" in text
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg polyline.series")) == 3


def test_empty_root_is_no_data_and_exit_zero(work, browser):
    out = os.path.join(work, "report.html")
    stdout = report(os.path.join(work, "nothing-here"), out)
    assert "0 detections in 0 files" in stdout
    open_page(browser, out)
    assert console_errors(browser) == []
    assert len(browser.find_elements(By.CSS_SELECTOR, ".nodata")) == 5


def test_damaged_sidecar_is_listed_not_fatal(work, browser):
    root = os.path.join(work, "root")
    fixture_root.build_root(root, files=1, hostile=False)
    ev = os.path.join(root, "detections/evidence")
    name = os.listdir(ev)[0]
    with open(os.path.join(ev, name), "r+b") as f:
        f.seek(400)
        b = f.read(1)
        f.seek(400)
        f.write(bytes([b[0] ^ 1]))
    out = os.path.join(work, "report.html")
    assert "1 files skipped" in report(root, out)
    open_page(browser, out)
    text = browser.find_element(By.TAG_NAME, "body").text
    assert "Files skipped" in text and name in text and "checksum mismatch" in text


def detection_rows(root):
    d = os.path.join(root, "detections")
    files = sorted((f for f in os.listdir(d) if f.startswith("detections_")),
                   key=lambda f: f.rsplit("_", 1)[1])
    rows = []
    for f in files:
        with open(os.path.join(d, f)) as fh:
            # patternId, ActionType, customerName, MerchantId: not the times.
            rows += [(f.rsplit("_", 1)[1],) + tuple(l.rstrip("\n").split(",")[2:])
                     for l in fh.readlines()[1:]]
    return rows


def test_report_beside_running_pipeline_reads_only(work):
    """X and Y together on one root, reported on again and again while they
    run: every report succeeds, its counts never go down, and the detections
    equal those of a run nobody reported on."""
    data = os.path.join(work, "data")
    subprocess.run([BINARY, "gen", "--out", data, "--rows", "60000"], check=True,
                   capture_output=True)
    src = os.path.join(data, "transactions.csv")
    flags = ["--chunk-rows", "1000", "--upgrade-min-txns", "500",
             "--child-min-txns", "3", "--child-max-avg", "40",
             "--dei-min-female", "3", "--poll", "50ms"]
    quiet = os.path.join(work, "reference")
    subprocess.run([BINARY, "run", "--source", src, "--root", quiet, "--drain",
                    *flags], check=True, capture_output=True, timeout=300)

    live = os.path.join(work, "live")
    log = open(os.path.join(work, "run.log"), "w")
    run = subprocess.Popen([BINARY, "run", "--source", src, "--root", live,
                            "--every", "100ms", *flags], stdout=log, stderr=log)
    counts = []
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            out = report(live, os.path.join(work, "live.html"))
            counts.append(int(out.split("report: ")[1].split(" ")[0]))
            if len(counts) >= 5 and counts[-1] >= len(detection_rows(quiet)) - 50:
                break
            assert run.poll() is None, open(os.path.join(work, "run.log")).read()
    finally:
        run.send_signal(signal.SIGTERM)
        assert run.wait(timeout=60) == 0, open(os.path.join(work, "run.log")).read()
    print("report counts while running:", counts)
    assert counts == sorted(counts) and counts[-1] > counts[0], counts
    # Whatever the stop left (pending detections, unchunked tail) is finished
    # by a drain on the same root: the result must equal the quiet run's.
    subprocess.run([BINARY, "run", "--source", src, "--root", live, "--drain",
                    *flags], check=True, capture_output=True, timeout=300)
    assert detection_rows(live) == detection_rows(quiet)
