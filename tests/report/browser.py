"""Debian's headless Chromium under Selenium, set up for this machine's closed
network; shared by the report's tests and screenshot.py."""
import os

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def open_chromium(profile_dir, width=1200, height=1600):
    """A new headless Chromium with a fresh profile in `profile_dir`, its
    console log readable with get_log('browser'). Fails (never skips) when
    the browser is missing."""
    assert os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER), (
        "Chromium is missing: run tools/install-browser.sh")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    # Everything that phones home would flood refused connections into the
    # log on a closed network.
    for a in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
              "--no-first-run", "--disable-background-networking",
              "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", "--hide-scrollbars",
              "--window-size=%d,%d" % (width, height),
              "--user-data-dir=" + profile_dir]:
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
