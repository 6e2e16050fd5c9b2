"""--log-format json (issue 14, "Progress and logs"): every line on stderr is
one JSON object with ts (ISO 8601, ms), level, msg and, where known,
mechanism; any bytes in a message, even a hostile path, give valid JSON."""
import datetime
import json
import os
import re
import subprocess

import pytest

# Quotes, a backslash, control bytes (SOH, ESC, DEL, TAB) and bytes that are
# not UTF-8 (a lone 0xFF, 0xC3 followed by ASCII), in one directory name.
HOSTILE = b'h"q\\b\x01\x1b\x7f\t\xff\xc3(e'


def parse_lines(stderr):
    objects = []
    for line in stderr.split(b"\n"):
        if not line:
            continue
        obj = json.loads(line)  # bytes: decoded as strict UTF-8
        assert set(obj) <= {"ts", "level", "msg", "mechanism"}, obj
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["ts"])
        datetime.datetime.fromisoformat(obj["ts"].replace("Z", "+00:00"))
        assert obj["level"] in ("info", "error")
        objects.append(obj)
    return objects


def test_every_line_of_a_run_is_a_json_object_with_its_mechanism(
        txflow, dataset, tmp_path):
    r = subprocess.run([txflow, "run", "--source", str(dataset / "transactions.csv"),
                        "--root", str(tmp_path / "root"), "--drain",
                        "--chunk-rows", "100000", "--log-format", "json"],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    objs = parse_lines(r.stderr)
    x = [o for o in objs if o.get("mechanism") == "x"]
    y = [o for o in objs if o.get("mechanism") == "y"]
    assert len(x) >= 6 and len(y) >= 6, objs
    # The prefix became the field: msg does not repeat it.
    assert x[0]["msg"].startswith("landing_zone/chunk-000000000000.csv")
    assert not any(o["msg"].startswith(("x: ", "y: ")) for o in objs)


def test_a_hostile_path_in_an_error_gives_valid_json(txflow, tmp_path):
    d = os.path.join(bytes(tmp_path), HOSTILE)
    os.mkdir(d)
    missing = os.path.join(d, b"nope.csv")
    r = subprocess.run([txflow.encode(), b"chunk", b"--source", missing,
                        b"--root", os.path.join(d, b"root"), b"--drain",
                        b"--log-format", b"json"], capture_output=True, timeout=60)
    assert r.returncode == 1
    (obj,) = parse_lines(r.stderr)
    assert obj["level"] == "error"
    # Python's own decoding of the path, with U+FFFD for the invalid bytes.
    assert missing.decode("utf-8", errors="replace") in obj["msg"], obj["msg"]
    raw_line = r.stderr.split(b"\n")[0]
    for control in (b"\x01", b"\x1b", b"\x7f", b"\t"):
        assert control not in raw_line  # escaped, never raw


def test_a_hostile_directory_in_info_lines_gives_valid_json(txflow, tmp_path):
    d = os.path.join(bytes(tmp_path), HOSTILE)
    r = subprocess.run([txflow.encode(), b"gen", b"--out", d, b"--append",
                        b"--rows", b"10", b"--rate", b"1000/s",
                        b"--log-format", b"json"], capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    objs = parse_lines(r.stderr)
    expected = os.path.join(d, b"transactions.csv").decode("utf-8", errors="replace")
    assert len(objs) == 2 and all(expected in o["msg"] for o in objs), objs
    assert all(o["level"] == "info" and "mechanism" not in o for o in objs)


REQUIRED = {"gen": ["--out", "d"], "chunk": ["--source", "s", "--root", "r"],
            "detect": ["--root", "r"], "run": ["--source", "s", "--root", "r"],
            "version": []}


@pytest.mark.parametrize("command", sorted(REQUIRED))
def test_every_command_takes_log_format(txflow, command, tmp_path):
    r = subprocess.run([txflow, command, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--log-format FORMAT" in r.stdout
    bad = subprocess.run([txflow, command, *REQUIRED[command], "--log-format", "xml"],
                         capture_output=True, text=True, cwd=tmp_path)
    assert bad.returncode == 2 and "--log-format" in bad.stderr


def test_human_format_stays_the_default(txflow, tmp_path):
    r = subprocess.run([txflow, "chunk", "--source", str(tmp_path / "nope.csv"),
                        "--root", str(tmp_path / "root"), "--drain"],
                       capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stderr.startswith("txflow chunk: ") and "{" not in r.stderr
