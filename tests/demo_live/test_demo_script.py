"""`make demo` (tools/run-demo-live.sh) run non-interactively for DURATION
seconds: the live source grows, X cuts chunks, Y writes detection files, and
on the stop both processes exit 0 and release their locks."""
import os
import pathlib
import socket
import subprocess

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "tools" / "run-demo-live.sh"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_runs_for_its_duration_and_stops_cleanly(txflow, tmp_path):
    root = tmp_path / "bucket-live"
    env = dict(os.environ, DIR=str(tmp_path / "live"), ROOT=str(root),
               RATE="20000/s", DURATION="20", STATUS_EVERY="5",
               METRICS_ADDR=f"127.0.0.1:{free_port()}",
               LOG=str(tmp_path / "demo.log"), REPORT=str(tmp_path / "report.html"))
    r = subprocess.run([str(SCRIPT), txflow], env=env, capture_output=True,
                       text=True, timeout=180, stdin=subprocess.DEVNULL)
    log = (tmp_path / "demo.log").read_text()
    assert r.returncode == 0, r.stdout + r.stderr + log[-3000:]
    assert "demo: stopped cleanly" in r.stdout
    # Status was shown while it ran (every 5 s of 20).
    assert r.stdout.count("demo: status after") >= 2, r.stdout
    # Not a terminal: no progress line, no escape sequences.
    assert "\x1b" not in r.stdout + r.stderr
    chunks = list((root / "landing_zone").glob("chunk-*.csv"))
    files = list((root / "detections").glob("detections_*.csv"))
    assert len(chunks) >= 10 and files, (len(chunks), files)
    # Both processes stopped cleanly: their locks are gone (released).
    assert not (root / "state" / "chunker.lock").exists()
    assert not (root / "state" / "detector.lock").exists()
    assert "gen: appended" in log
