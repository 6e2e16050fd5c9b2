"""The wheel from `make wheel`, installed with pip into a fresh virtualenv
(ctest `wheel`, labels python;deploy).

What a Databricks python_wheel_task or a plain `pip install` gets: the
console script `txflow` runs the binary the wheel carries, which gives the
same chunks and detections as build/txflow; the binary and the extension need
nothing newer than Ubuntu 22.04 (glibc 2.35) and no shared libstdc++.
"""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BINARY = os.environ.get("TXFLOW_BINARY") or os.path.join(REPO, "build", "txflow")
DIST = os.environ.get("TXFLOW_DIST_DIR") or os.path.join(REPO, "build", "dist")
# Ubuntu 22.04 (Databricks Runtime 13.3-16.x LTS): glibc 2.35; libcurl4 and
# libssl3 are in the image. Anything else would have to ship in the wheel.
GLIBC_FLOOR = (2, 35)
ALLOWED_NEEDED = {"libc.so.6", "libm.so.6", "ld-linux-x86-64.so.2", "libcurl.so.4",
                  "libcrypto.so.3", "libssl.so.3"}


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stderr[-4000:]}")
    return r


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    base = os.environ.get("TXFLOW_TEST_WORK")
    if not base:
        return str(tmp_path_factory.mktemp("wheel"))
    path = os.path.join(base, "wheel")
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


@pytest.fixture(scope="module")
def venv(work):
    """A virtualenv that has seen nothing but the wheel (no index, no deps)."""
    wheels = glob.glob(os.path.join(DIST, "txflow-*.whl"))
    assert len(wheels) == 1, f"expected one wheel in {DIST} (make wheel): {wheels}"
    path = os.path.join(work, "venv")
    run([sys.executable, "-m", "venv", path])
    run([os.path.join(path, "bin", "python"), "-m", "pip", "install", "-q",
         "--disable-pip-version-check", "--no-index", "--no-deps", wheels[0]])
    return path


def installed(venv, *parts):
    py = os.path.join(venv, "bin", "python")
    out = run([py, "-c", "import txflow, os; print(os.path.dirname(txflow.__file__))"])
    return os.path.join(out.stdout.strip(), *parts)


def tree(root):
    """Every file under root: relative path -> bytes."""
    files = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = f.read()
    return files


def without_times(detection_file):
    """A detection file's rows without YStartTime and detectionTime, the two
    columns that depend on when the run happened."""
    return [line.split(b",", 2)[2] for line in detection_file.splitlines()]


def test_run_drain_from_the_wheel_equals_the_build_binary(work, venv):
    data = os.path.join(work, "data")
    txflow = os.path.join(venv, "bin", "txflow")
    run([txflow, "gen", "--out", data, "--rows", "60000", "--seed", "5"])
    source = os.path.join(data, "transactions.csv")
    flags = ["--drain", "--chunk-rows", "2000", "--importance",
             os.path.join(data, "CustomerImportance.csv"), "--upgrade-min-txns", "300",
             "--dei-min-female", "5", "--child-min-txns", "3", "--child-max-avg", "60"]
    run([txflow, "run", "--source", source, "--root", os.path.join(work, "a")] + flags)
    run([BINARY, "run", "--source", source, "--root", os.path.join(work, "b")] + flags)
    a, b = tree(os.path.join(work, "a")), tree(os.path.join(work, "b"))
    chunks = {k: v for k, v in a.items() if k.startswith("landing_zone/")}
    assert len(chunks) == 30
    assert chunks == {k: v for k, v in b.items() if k.startswith("landing_zone/")}
    # Files are named detections_<epoch>_<seq>.csv, the epoch the run's own.
    wheel_files, build_files = detection_files(a), detection_files(b)
    assert wheel_files, "the thresholds are low enough for detections"
    assert [seq for seq, _ in wheel_files] == [seq for seq, _ in build_files]
    for (seq, x), (_, y) in zip(wheel_files, build_files):
        assert without_times(x) == without_times(y), seq


def detection_files(files):
    """[(seq, bytes)] of a root's detection files, in seq order."""
    out = []
    for k, v in files.items():
        m = re.fullmatch(r"detections/detections_\d+_(\d+)\.csv", k)
        if m:
            out.append((int(m.group(1)), v))
    return sorted(out)


def symbol_versions(path):
    out = run(["objdump", "-T", path]).stdout
    return set(re.findall(r"\b((?:GLIBC|GLIBCXX|CXXABI|GCC)_[0-9.]+)\b", out))


def needed(path):
    out = run(["readelf", "-d", path]).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out))


def test_binary_and_extension_run_on_glibc_2_35_without_shared_libstdcxx(venv):
    ext = glob.glob(installed(venv, "_txflow*.so"))
    assert len(ext) == 1
    for path in [installed(venv, "bin", "txflow"), ext[0]]:
        versions = symbol_versions(path)
        glibc = [tuple(int(x) for x in v.split("_")[1].split(".")) for v in versions
                 if v.startswith("GLIBC_")]
        assert glibc, f"{path}: objdump found no GLIBC versions at all"
        assert max(glibc) <= GLIBC_FLOOR, f"{path} needs glibc {max(glibc)}"
        assert not [v for v in versions if not v.startswith("GLIBC_")], \
            f"{path} needs a shared libstdc++/libgcc: {sorted(versions)}"
        assert needed(path) <= ALLOWED_NEEDED, f"{path}: {sorted(needed(path))}"


def test_console_script_becomes_the_binary(venv, work):
    """Outside Databricks the script execs: the process is the binary."""
    root = os.path.join(work, "exec-root")
    proc = subprocess.Popen([os.path.join(venv, "bin", "txflow"), "detect", "--root", root,
                             "--poll", "50ms"], stderr=subprocess.PIPE, text=True)
    try:
        # Until the binary runs and has made its root (its signal handlers are
        # in place by then); generous, since CI machines are loaded.
        exe = ""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            exe = os.readlink(f"/proc/{proc.pid}/exe")
            if exe.endswith("/bin/txflow") and os.path.exists(os.path.join(root, "state")):
                break
            time.sleep(0.02)
        assert exe == installed(venv, "bin", "txflow")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert proc.returncode == 0


def test_console_script_passes_arguments_and_exit_codes(venv):
    txflow = os.path.join(venv, "bin", "txflow")
    for env in [{}, {"DATABRICKS_RUNTIME_VERSION": "15.4"}]:
        r = subprocess.run([txflow, "chunk", "--root", "/nonexistent", "--no-such-flag"],
                           capture_output=True, text=True, env=dict(os.environ, **env))
        b = subprocess.run([BINARY, "chunk", "--root", "/nonexistent", "--no-such-flag"],
                           capture_output=True, text=True)
        assert (r.returncode, r.stderr) == (b.returncode, b.stderr)
        assert r.returncode == 2
        v = run([txflow, "version"], env=dict(os.environ, **env))
        assert v.stdout == run([BINARY, "version"]).stdout


def test_databricks_task_forwards_sigterm_and_keeps_the_exit_code(venv, work):
    """In a python_wheel_task the binary is a child: SIGTERM to the Python
    process reaches it, it stops at a safe point, and the code comes back."""
    root = os.path.join(work, "child-root")
    proc = subprocess.Popen([os.path.join(venv, "bin", "txflow"), "detect", "--root", root,
                             "--poll", "50ms"], stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, DATABRICKS_RUNTIME_VERSION="15.4"))
    children = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
                children = f.read().split()
        except FileNotFoundError:
            break
        if children and os.path.exists(os.path.join(root, "state")):
            break
        time.sleep(0.02)
    assert len(children) == 1, "the binary runs as the script's child"
    assert os.readlink(f"/proc/{children[0]}/exe") == installed(venv, "bin", "txflow")
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert not os.path.exists(f"/proc/{children[0]}"), "the child has exited"


def test_kernel_extension_imports_from_the_wheel(venv):
    py = os.path.join(venv, "bin", "python")
    out = run([py, "-c", "import txflow; print(txflow.DETECTIONS_PER_FILE, "
                         "txflow.action_type('PatId1'))"])
    assert out.stdout.split() == ["50", "UPGRADE"]


def test_databricks_task_entry_point_works_off_the_main_thread(venv):
    """Python refuses signal handlers off the main thread; the entry point
    must still run the binary there and return its exit code."""
    py = os.path.join(venv, "bin", "python")
    script = ("import threading, txflow._cli as c\n"
              "out = {}\n"
              "def go():\n"
              "    try:\n"
              "        out['code'] = c.main(['version'])\n"
              "    except BaseException as e:\n"
              "        out['code'] = repr(e)\n"
              "t = threading.Thread(target=go); t.start(); t.join()\n"
              "print(out['code'])\n")
    r = run([py, "-c", script], env=dict(os.environ, DATABRICKS_RUNTIME_VERSION="15.4"))
    assert r.stdout.splitlines()[-1] == "0"
    assert r.stdout.splitlines()[0] == run([BINARY, "version"]).stdout.strip()


def test_binary_without_exec_bit_is_named_as_such(venv):
    binary = installed(venv, "bin", "txflow")
    mode = os.stat(binary).st_mode
    os.chmod(binary, mode & ~0o111)
    try:
        r = subprocess.run([os.path.join(venv, "bin", "txflow"), "version"],
                           capture_output=True, text=True)
    finally:
        os.chmod(binary, mode)
    assert r.returncode == 126
    assert r.stderr.count("\n") == 1 and "not executable" in r.stderr
