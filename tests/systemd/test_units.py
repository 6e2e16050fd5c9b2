"""deploy/systemd/ checked by systemd itself (issue 14, "Standalone production").

`systemd-analyze verify` loads each unit as systemd would: an unknown key or
section, a bad value or a missing executable is reported. It only warns (exit
0) about unknown keys, so any output also fails the test. The tool must be
installed (Debian: apt-get install systemd); a missing tool fails, never
skips. ExecStart names /usr/local/bin/txflow, where an install puts it; the
test points it at this build's binary, changing nothing else.
"""
import os
import pathlib
import re
import shutil
import subprocess

import pytest

UNITS_DIR = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "systemd"
UNITS = ["txflow-chunk.service", "txflow-detect.service"]
INSTALLED_BINARY = "/usr/local/bin/txflow"


def systemd_analyze():
    tool = shutil.which("systemd-analyze")
    assert tool, ("systemd-analyze not found: install it "
                  "(Debian: apt-get install systemd); this check never skips")
    return tool


def staged(tmp_path, name, text=None):
    text = text if text is not None else (UNITS_DIR / name).read_text()
    binary = os.environ["TXFLOW_BINARY"]
    assert INSTALLED_BINARY in text
    path = tmp_path / name
    path.write_text(text.replace(INSTALLED_BINARY, binary))
    return path


def verify(path):
    r = subprocess.run([systemd_analyze(), "verify", str(path)],
                       capture_output=True, text=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


def directives(name):
    """Key -> list of values of [Service]/[Unit], as systemd reads them."""
    out = {}
    for line in (UNITS_DIR / name).read_text().splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            out.setdefault(key.strip(), []).append(value.strip())
    return out


@pytest.mark.parametrize("name", UNITS)
def test_unit_passes_systemd_analyze_verify_without_a_warning(tmp_path, name):
    rc, output = verify(staged(tmp_path, name))
    assert rc == 0 and output == "", output


def test_verify_check_catches_a_misspelled_key(tmp_path):
    text = (UNITS_DIR / UNITS[0]).read_text().replace("MemoryMax=", "MemoryMx=")
    rc, output = verify(staged(tmp_path, UNITS[0], text))
    assert "Unknown key" in output


@pytest.mark.parametrize("name", UNITS)
def test_unit_restarts_limits_and_sandboxes_as_the_issue_asks(name):
    d = directives(name)
    one = {k: v[-1] for k, v in d.items()}
    assert one["Restart"] == "on-failure"
    assert re.fullmatch(r"\d+s?", one["RestartSec"])
    assert int(one["StartLimitBurst"]) > 0 and int(one["StartLimitIntervalSec"]) > 0
    for key in ["MemoryMax", "TasksMax", "LimitNOFILE"]:
        assert one.get(key), key
    assert one["ProtectSystem"] == "strict"
    assert "/var/lib/txflow" in one["ReadWritePaths"].split()
    for key in ["NoNewPrivileges", "PrivateTmp", "ProtectHome",
                "ProtectKernelTunables", "ProtectKernelModules",
                "ProtectKernelLogs", "ProtectControlGroups"]:
        assert one[key] == "yes", key
    assert one["CapabilityBoundingSet"] == ""
    assert "@system-service" in d["SystemCallFilter"]
    assert set(one["RestrictAddressFamilies"].split()) <= {"AF_UNIX", "AF_INET", "AF_INET6"}
    assert one.get("User") == "txflow" or one.get("DynamicUser") == "yes"
    assert one["KillSignal"] == "SIGTERM"
    # A clean stop may wait out storage retries (~40 s of backoff).
    assert int(one["TimeoutStopSec"].rstrip("s")) >= 60
    # Settings from the env file, never secrets in the unit.
    assert "/etc/txflow/txflow.env" in d["EnvironmentFile"]
    text = (UNITS_DIR / name).read_text()
    assert not re.search(r"AWS_SECRET_ACCESS_KEY=|AWS_SESSION_TOKEN=|https?://", text)


def test_env_example_names_the_settings_and_holds_no_secret():
    text = (UNITS_DIR / "txflow.env").read_text()
    keys = {l.split("=", 1)[0] for l in text.splitlines() if l and not l.startswith("#")}
    assert {"SOURCE", "ROOT", "IMPORTANCE", "AWS_REGION"} <= keys
    assert not {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} & keys


@pytest.mark.parametrize("name", UNITS)
def test_security_exposure_stays_low(tmp_path, name):
    r = subprocess.run([systemd_analyze(), "security", "--offline=yes",
                        str(staged(tmp_path, name))],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", r.stdout + r.stderr)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, r.stdout
