"""txflow gen --append --rate (issue 14, "Seeing it stream"): a source that
grows at a steady rate, whole records only, continuing what is there; with X
beside it, and with X and Y together."""
import csv
import io
import pathlib
import shutil
import signal
import subprocess
import time

import pytest

HEADER = b"step,customer,age,gender,zipcodeOri,merchant,zipMerchant,category,amount,fraud\n"


def start(argv):
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc, sig=signal.SIGTERM, timeout=60):
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-2000:]
    return err


def records(path):
    with open(path, "rb") as f:
        return f.read().count(b"\n") - 1


def chunks_body(root):
    """The chunks, headers removed, concatenated in order (SPEC §3)."""
    body = b""
    for p in sorted((root / "landing_zone").glob("chunk-*.csv")):
        data = p.read_bytes()
        assert data.startswith(HEADER), p
        body += data[len(HEADER):]
    return body


def assert_whole_banksim_records(body):
    rows = list(csv.reader(io.StringIO(body.decode())))
    assert rows and all(len(r) == 10 for r in rows), [r for r in rows if len(r) != 10][:3]
    assert body.endswith(b"\n")


def test_rate_is_held_and_sigint_exits_zero(txflow, tmp_path):
    gen = start([txflow, "gen", "--out", str(tmp_path), "--append", "--rate", "4000/s"])
    src = tmp_path / "transactions.csv"
    wait_for_records(src)
    # The rate between two samples 5 s apart, away from start-up. The
    # appender catches up after a late wake-up, so only the ends of the
    # window (one 100 ms write each) blur it.
    time.sleep(0.5)
    t0, n0 = time.monotonic(), records(src)
    time.sleep(5)
    t1, n1 = time.monotonic(), records(src)
    stop(gen, signal.SIGINT)
    rate = (n1 - n0) / (t1 - t0)
    assert 3600 <= rate <= 4400, rate  # within 10 % of 4,000/s
    assert src.read_bytes().startswith(HEADER)


def wait_for_records(path):
    # X refuses a source without a header line, so it starts after one.
    deadline = time.monotonic() + 10
    while not (path.exists() and records(path) > 0):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_chunker_beside_the_appender_cuts_the_file_exactly(txflow, tmp_path):
    data, root = tmp_path / "data", tmp_path / "root"
    gen = start([txflow, "gen", "--out", str(data), "--append", "--rate", "20000/s"])
    wait_for_records(data / "transactions.csv")
    x = start([txflow, "chunk", "--source", str(data / "transactions.csv"),
               "--root", str(root), "--every", "200ms", "--chunk-rows", "3000",
               "--linger", "300ms"])
    time.sleep(4)
    stop(gen)
    time.sleep(1)  # the linger cuts the short tail
    stop(x)
    src = (data / "transactions.csv").read_bytes()
    body = chunks_body(root)
    # Live chunks are never torn: they are a prefix of the source made of
    # whole records; a drain then takes the rest and they equal the source.
    assert src[len(HEADER):].startswith(body)
    assert_whole_banksim_records(body)
    assert len(list((root / "landing_zone").glob("chunk-*.csv"))) >= 10
    subprocess.run([txflow, "chunk", "--source", str(data / "transactions.csv"),
                    "--root", str(root), "--drain", "--chunk-rows", "3000"],
                   check=True, capture_output=True)
    assert chunks_body(root) == src[len(HEADER):]


def detection_rows(root):
    """Detections in file order without their times (which depend on when)."""
    rows = []
    for p in sorted((root / "detections").glob("detections_*.csv"),
                    key=lambda p: p.name.rsplit("_", 1)[1]):
        for r in list(csv.reader(p.open()))[1:]:
            rows.append(tuple(r[2:]))
    return rows


@pytest.mark.parametrize("layout", ["run", "two_processes"])
def test_x_and_y_together_beside_the_appender_detect_as_a_drain_would(
        txflow, tmp_path, layout):
    data, root = tmp_path / "data", tmp_path / "root"
    importance = data / "CustomerImportance.csv"
    gen = start([txflow, "gen", "--out", str(data), "--append", "--rate", "30000/s"])
    wait_for_records(data / "transactions.csv")  # after the importance table
    x_flags = ["--source", str(data / "transactions.csv"), "--root", str(root),
               "--every", "300ms", "--chunk-rows", "5000", "--linger", "500ms"]
    y_flags = ["--root", str(root), "--importance", str(importance), "--poll", "100ms"]
    if layout == "run":
        procs = [start([txflow, "run", *x_flags, "--importance", str(importance)])]
    else:
        procs = [start([txflow, "chunk", *x_flags]), start([txflow, "detect", *y_flags])]
    time.sleep(6)
    stop(gen)
    time.sleep(1.5)
    for p in procs:
        stop(p)
    live_files = list((root / "detections").glob("detections_*.csv"))
    assert live_files, "the live run wrote no detection file in 6 s"
    assert_whole_banksim_records(chunks_body(root))
    # Finish the live root with a drain, and detect once more on a copy of
    # its chunks from scratch: the same detections in the same order, so the
    # live run lost and repeated nothing.
    subprocess.run([txflow, "run", "--source", str(data / "transactions.csv"),
                    "--root", str(root), "--drain", "--chunk-rows", "5000",
                    "--importance", str(importance)], check=True, capture_output=True)
    fresh = tmp_path / "fresh"
    shutil.copytree(root / "landing_zone", fresh / "landing_zone")
    subprocess.run([txflow, "detect", "--root", str(fresh), "--drain",
                    "--importance", str(importance)], check=True, capture_output=True)
    assert chunks_body(root) == (data / "transactions.csv").read_bytes()[len(HEADER):]
    live, again = detection_rows(root), detection_rows(fresh)
    assert len(live) > 50 and live == again
