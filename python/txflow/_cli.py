"""The console script ``txflow``: runs the C++ binary the wheel carries.

Nothing is decided here; the arguments go to ``txflow/bin/txflow`` unchanged
and its exit code comes back. Two ways to run it:

- Anywhere but Databricks, the process becomes the binary (``os.execv``):
  signals, exit code and process id are the binary's own, as if it had been
  started directly (systemd, a shell, ``pip install`` and run).
- In a Databricks ``python_wheel_task`` (``DATABRICKS_RUNTIME_VERSION`` is
  set) the entry point is called inside the driver's Python process, which must
  not be replaced. The binary runs as a child; SIGINT and SIGTERM are passed on
  so it stops at a safe point, and the task ends with its exit code (a signal
  as 128 + its number, the shell's convention).
"""

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

BINARY = Path(__file__).resolve().parent / "bin" / "txflow"


def _run_as_child(argv):
    # Handlers first, so no signal falls between the child's start and them;
    # Python allows them on the main thread only (elsewhere the caller's own
    # handling stands).
    child = None

    def forward(signum, _frame):
        if child is not None:
            child.send_signal(signum)

    previous = {}
    if threading.current_thread() is threading.main_thread():
        previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        child = subprocess.Popen([str(BINARY), *argv])
        code = child.wait()
    finally:
        if child is not None and child.poll() is None:
            # Leaving early (an exception in this thread): never orphan it.
            child.kill()
            child.wait()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - code if code < 0 else code


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not BINARY.is_file():
        sys.stderr.write(f"txflow: {BINARY}: the binary is missing from this install "
                         "(a kernel-only build has none; install the wheel from `make wheel`)\n")
        return 127
    if not os.access(BINARY, os.X_OK):
        sys.stderr.write(f"txflow: {BINARY}: not executable (restore it with chmod +x or "
                         "reinstall the wheel)\n")
        return 126
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        code = _run_as_child(argv)
        if code != 0:
            sys.exit(code)
        return 0
    os.execv(BINARY, [str(BINARY), *argv])


if __name__ == "__main__":
    sys.exit(main())
