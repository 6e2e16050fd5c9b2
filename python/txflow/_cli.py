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
from pathlib import Path

BINARY = Path(__file__).resolve().parent / "bin" / "txflow"


def _run_as_child(argv):
    child = subprocess.Popen([str(BINARY), *argv])

    def forward(signum, _frame):
        child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        code = child.wait()
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    return 128 - code if code < 0 else code


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not os.access(BINARY, os.X_OK):
        sys.stderr.write(f"txflow: {BINARY}: the binary is missing from this install "
                         "(a kernel-only build has none; install the wheel from `make wheel`)\n")
        return 127
    if os.environ.get("DATABRICKS_RUNTIME_VERSION"):
        code = _run_as_child(argv)
        if code != 0:
            sys.exit(code)
        return 0
    os.execv(BINARY, [str(BINARY), *argv])


if __name__ == "__main__":
    sys.exit(main())
