"""Renders a report page in headless Chromium and saves a full-page PNG.
Usage: python tests/report/screenshot.py report.html out.png [width]
(the docs' docs/images/report.png was made with it)."""
import os
import sys
import tempfile

from browser import open_chromium


def main():
    page, out = os.path.abspath(sys.argv[1]), sys.argv[2]
    width = int(sys.argv[3]) if len(sys.argv) > 3 else 1200
    with tempfile.TemporaryDirectory() as profile:
        driver = open_chromium(profile, width, 1000)
        try:
            driver.get("file://" + page)
            height = driver.execute_script(
                "return document.documentElement.scrollHeight")
            # Tall pages are cut: a window beyond a few thousand pixels stalls
            # headless Chromium.
            driver.set_window_size(width, min(height, 2600))
            errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert not errors, errors
            driver.save_screenshot(out)
        finally:
            driver.quit()


if __name__ == "__main__":
    main()
