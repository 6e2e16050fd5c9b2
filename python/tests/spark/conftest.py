"""Shared pieces of the Spark suite (ctest label `spark`).

Every test compares the Spark engine with the standalone `txflow detect` run
on a copy of the same landing zone: the detection files (every column but
the two times, the same <seq> and rows per file) and the quarantine files.
Expected aggregates are computed here from the source CSV, sharing no code
with the engine.
"""

import csv
import io
import os
import shutil
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
BINARY = os.environ.get("TXFLOW_BINARY") or os.path.join(REPO, "build", "txflow")
SPARK_CLI = os.path.join(os.path.dirname(sys.executable), "txflow-spark")
MAKE_CASE = os.path.join(REPO, "tests", "reference", "make_case.py")
# Thresholds low enough that every pattern fires on a few thousand rows.
SMALL_THRESHOLDS = ["--upgrade-min-txns", "300", "--dei-min-female", "5",
                    "--child-min-txns", "3", "--child-max-avg", "60"]
SPARK_ENV = dict(os.environ, SPARK_LOCAL_IP="127.0.0.1",
                 PYSPARK_PYTHON=sys.executable)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError(f"{cmd} exited {r.returncode}:\n{r.stderr[-4000:]}")
    return r


@pytest.fixture(scope="session")
def work(tmp_path_factory):
    base = os.environ.get("TXFLOW_TEST_WORK")
    if base:
        path = os.path.join(base, "spark")
        shutil.rmtree(path, ignore_errors=True)
        os.makedirs(path)
        return path
    return str(tmp_path_factory.mktemp("spark"))


class Case:
    """A landing zone cut from one source, and the standalone run on it."""

    def __init__(self, work, name, source, importance, chunk_rows, thresholds):
        self.dir = os.path.join(work, name)
        self.source = source
        self.importance = importance
        self.thresholds = thresholds
        self.landing = os.path.join(self.dir, "landing")
        run([BINARY, "chunk", "--drain", "--root", self.landing, "--source", source,
             "--chunk-rows", str(chunk_rows)])
        self.standalone = self.copy("standalone")
        run([BINARY, "detect", "--drain", "--root", self.standalone]
            + self.detector_flags())

    def detector_flags(self):
        flags = list(self.thresholds)
        if self.importance:
            flags += ["--importance", self.importance]
        return flags

    def copy(self, name):
        """A fresh root holding the landing zone and offset.csv only."""
        root = os.path.join(self.dir, name)
        shutil.rmtree(root, ignore_errors=True)
        shutil.copytree(self.landing, root)
        return root

    def spark_cmd(self, root, *extra, drain=True):
        return ([SPARK_CLI, "detect"] + (["--drain"] if drain else [])
                + ["--root", root, "--master", "local[2]", "--partitions", "2"]
                + self.detector_flags() + list(extra))


def detection_files(root):
    """[(seq, header, rows without the two time columns)] in seq order."""
    d = os.path.join(root, "detections")
    out = []
    for name in sorted(os.listdir(d)):
        if not name.startswith("detections_"):
            continue
        with open(os.path.join(d, name), "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
        rows = list(csv.reader(io.StringIO(text, newline="")))
        out.append((name.rsplit("_", 1)[1], rows[0], [r[2:] for r in rows[1:]]))
    return out


def quarantine_files(root):
    d = os.path.join(root, "quarantine")
    if not os.path.isdir(d):
        return {}
    out = {}
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            out[name] = f.read()
    return out


def assert_same_output(case, root):
    want, got = detection_files(case.standalone), detection_files(root)
    assert want, "the standalone run found nothing: the case tests nothing"
    assert [(s, len(r)) for s, _, r in got] == [(s, len(r)) for s, _, r in want]
    assert got == want
    assert quarantine_files(root) == quarantine_files(case.standalone)
