"""Shared helpers of the demo tests: the binary, a dataset, a pseudo-terminal."""
import os
import pathlib
import pty
import select
import subprocess
import time

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def txflow():
    binary = os.environ.get("TXFLOW_BINARY", str(REPO / "build" / "txflow"))
    assert os.access(binary, os.X_OK), binary
    return binary


@pytest.fixture(scope="session")
def dataset(txflow, tmp_path_factory):
    """A 600,000-record gen dataset (the default; its drains last long enough
    for the progress line to be drawn) (transactions.csv, CustomerImportance.csv)."""
    d = tmp_path_factory.mktemp("data")
    subprocess.run([txflow, "gen", "--out", str(d), "--rows", "600000"],
                   check=True, capture_output=True)
    return d


def run_on_pty(argv, timeout=120):
    """Runs argv with stdout and stderr on a pseudo-terminal (isatty true);
    returns (exit code, every byte written, seconds taken)."""
    master, slave = pty.openpty()
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=slave, close_fds=True)
    os.close(slave)
    out = bytearray()
    deadline = start + timeout
    while True:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if not chunk:
                break
            out += chunk
        elif proc.poll() is not None and not ready:
            # Drain what is left, then stop.
            try:
                while select.select([master], [], [], 0.05)[0]:
                    chunk = os.read(master, 65536)
                    if not chunk:
                        break
                    out += chunk
            except OSError:
                pass
            break
        assert time.monotonic() < deadline, "timeout: " + " ".join(argv)
    os.close(master)
    rc = proc.wait()
    return rc, bytes(out), time.monotonic() - start
