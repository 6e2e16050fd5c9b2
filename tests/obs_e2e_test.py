"""Metrics, health and alerts of the real binary (issue 14).

/metrics is parsed with prometheus_client's own parser (pinned in
pyproject's `test` extra) and compared with numbers known independently of
txflow: the rows this test wrote, ceil(rows / chunk rows), the lines of the
detection files. Alerts go to a webhook receiver on loopback that this test
runs; the webhook URL carries a fake secret that must never reach stderr.

Environment: TXFLOW_BINARY, TXFLOW_FAULT_INJECTION_BINARY, TXFLOW_TEST_WORK.
"""

import fcntl
import glob
import http.server
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

BINARY = os.environ["TXFLOW_BINARY"]
FAULT_BINARY = os.environ.get("TXFLOW_FAULT_INJECTION_BINARY", "")
WORK = os.environ.get("TXFLOW_TEST_WORK", "/tmp/txflow-obs-work")
SECRET = "T000/B000/fake-s3cr3t-token"
HEADER = "step,customer,age,gender,zipcodeOri,merchant,zipMerchant,category,amount,fraud\n"


STARTED = []  # every Txflow of the test, killed at teardown if still running


@pytest.fixture(autouse=True)
def kill_leftovers():
    yield
    while STARTED:
        p = STARTED.pop()
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.fixture
def work(request):
    d = os.path.join(WORK, request.node.name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


class Receiver:
    """A webhook receiver on 127.0.0.1: keeps every JSON body it is posted."""

    def __init__(self):
        self.bodies = []
        self.paths = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                # Strict UTF-8, as a receiver in another language would be.
                outer.bodies.append(json.loads(self.rfile.read(n).decode("utf-8")))
                outer.paths.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/{SECRET}?token={SECRET}"

    def events(self):
        return [(b["event"], b["mechanism"]) for b in self.bodies]

    def wait_for(self, n, timeout=30):
        end = time.time() + timeout
        while len(self.bodies) < n and time.time() < end:
            time.sleep(0.05)
        return self.events()

    def close(self):
        self.server.shutdown()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def write_source(path, rows, bad=()):
    """`rows` good BankSim rows (97 customers, 5 merchants) then the `bad` lines."""
    with open(path, "w") as f:
        f.write(HEADER)
        for i in range(rows):
            f.write(f"0,'C{i % 97}','4','{'MF'[i % 2]}','28007','M{i % 5}','28007',"
                    f"'es_food',{10 + i % 7}.50,0\n")
        for line in bad:
            f.write(line + "\n")


class Txflow:
    """A txflow process with stderr captured to a file."""

    def __init__(self, work, args, binary=BINARY, env=None):
        self.err_path = os.path.join(work, f"stderr-{time.time_ns()}.txt")
        self.err = open(self.err_path, "w")
        self.proc = subprocess.Popen([binary] + args, stdout=subprocess.DEVNULL,
                                     stderr=self.err, env=env)
        STARTED.append(self.proc)
        self.port = None

    def stderr(self):
        with open(self.err_path) as f:
            return f.read()

    def metrics_port(self, timeout=10):
        end = time.time() + timeout
        while time.time() < end:
            m = re.search(r"serving /metrics and /healthz on port (\d+)", self.stderr())
            if m:
                self.port = int(m.group(1))
                return self.port
            time.sleep(0.02)
        raise AssertionError("no metrics port logged:\n" + self.stderr())

    def get(self, path):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def metrics(self):
        status, text = self.get("/metrics")
        assert status == 200
        return parse(text)

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        self.err.close()
        return rc


def parse(text):
    """{(sample name, frozenset(labels)): value} through the real parser."""
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, frozenset(s.labels.items()))] = s.value
    return out


def value(m, name, **labels):
    return m[(name, frozenset(labels.items()))]


def wait_until(pred, timeout=30, what="condition"):
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def detection_lines(root):
    n = 0
    for path in glob.glob(os.path.join(root, "detections", "detections_*.csv")):
        with open(path) as f:
            n += sum(1 for _ in f) - 1  # the header
    return n


def test_run_metrics_scraped_while_x_and_y_run_match_independent_counts(work):
    rows, chunk_rows = 5000, 300
    bad = ["0,'C1','4','M','28007','M1','28007','es_food',1e2,0",   # bad_amount
           "0,'C1','4','M','28007','M1','28007','es_food',,0",      # empty_amount
           "0,'C1','4','M'",                                          # field_count
           "0,,'4','M','28007','M1','28007','es_food',1.00,0"]       # empty_customer
    src = os.path.join(work, "source.csv")
    write_source(src, rows, bad)
    records = rows + len(bad)
    chunks = math.ceil(records / chunk_rows)
    root = os.path.join(work, "root")
    # PatId2 with low thresholds so detections happen in this small data set.
    t = Txflow(work, ["run", "--source", src, "--root", root, "--chunk-rows", str(chunk_rows),
                      "--every", "100ms", "--linger", "300ms", "--child-min-txns", "5",
                      "--child-max-avg", "100", "--metrics-addr", "127.0.0.1:0"])
    t.metrics_port()
    scrapes = []
    # Scraped while X and Y run: every scrape parses; counters never go down.
    def done():
        m = t.metrics()
        scrapes.append(m)
        return value(m, "txflow_chunks_total", mechanism="y") == chunks and m
    m = wait_until(done, 60, "y to process every chunk")
    assert len(scrapes) >= 2
    for a, b in zip(scrapes, scrapes[1:]):
        for mech in ("x", "y"):
            assert value(a, "txflow_records_total", mechanism=mech) <= \
                value(b, "txflow_records_total", mechanism=mech)
    # One more poll so the gauges reflect the final state.
    time.sleep(1.5)
    m = t.metrics()
    status, health = t.get("/healthz")
    assert status == 200, health
    assert t.stop() == 0

    assert value(m, "txflow_records_total", mechanism="x") == records
    assert value(m, "txflow_chunks_total", mechanism="x") == chunks
    assert value(m, "txflow_records_total", mechanism="y") == records
    assert value(m, "txflow_chunks_total", mechanism="y") == chunks
    assert value(m, "txflow_chunk_process_seconds_count") == chunks
    assert value(m, "txflow_chunk_process_seconds_bucket", le="+Inf") == chunks
    assert value(m, "txflow_bad_rows_total", reason="bad_amount") == 1
    assert value(m, "txflow_bad_rows_total", reason="empty_amount") == 1
    assert value(m, "txflow_bad_rows_total", reason="field_count") == 1
    assert value(m, "txflow_bad_rows_total", reason="empty_customer") == 1
    in_files = detection_lines(root)
    files = len(glob.glob(os.path.join(root, "detections", "detections_*.csv")))
    pending = value(m, "txflow_pending_detections")
    total = sum(value(m, "txflow_detections_total", pattern=p)
                for p in ("PatId1", "PatId2", "PatId3"))
    assert total > 50, "the thresholds should give at least one full file"
    assert total == in_files + pending
    assert value(m, "txflow_detection_files_total") == files == in_files // 50
    assert value(m, "txflow_backlog_chunks") == 0
    assert value(m, "txflow_lag_seconds") == 0
    assert value(m, "txflow_source_backlog_bytes") == 0
    assert value(m, "txflow_storage_requests_total", op="write", status="ok") > chunks
    assert value(m, "txflow_build_info", version=value_label(m, "txflow_build_info")) == 1
    assert value(m, "txflow_last_progress_timestamp_seconds", mechanism="y") > time.time() - 60


def value_label(m, name):
    for (n, labels) in m:
        if n == name:
            return dict(labels)["version"]
    raise KeyError(name)


def test_detect_alone_counts_what_it_processes_and_has_no_backlog_after(work):
    src = os.path.join(work, "source.csv")
    write_source(src, 3000)
    root = os.path.join(work, "root")
    subprocess.run([BINARY, "chunk", "--source", src, "--root", root, "--chunk-rows", "500",
                    "--drain"], check=True, capture_output=True)
    t = Txflow(work, ["detect", "--root", root, "--metrics-addr", "127.0.0.1:0"])
    t.metrics_port()
    wait_until(lambda: value(t.metrics(), "txflow_chunks_total", mechanism="y") == 6,
               30, "y to take 6 chunks")
    time.sleep(1.2)  # the next poll refreshes the backlog from offset.csv
    m = t.metrics()
    assert value(m, "txflow_records_total", mechanism="y") == 3000
    assert value(m, "txflow_records_total", mechanism="x") == 0  # no X here
    assert value(m, "txflow_backlog_chunks") == 0
    assert value(m, "txflow_lag_seconds") == 0
    assert t.get("/healthz") == (200, t.get("/healthz")[1])
    assert t.get("/healthz")[1].startswith("y: ok")
    assert t.stop() == 0


def test_healthz_is_200_while_progressing_and_503_with_the_reason_when_stalled(work, receiver):
    """The chunker stalls: the landing zone's directory lock (flock, which
    the local backend takes for every conditional write) is held by this
    test, so X blocks with source bytes waiting; released, X goes on."""
    src = os.path.join(work, "source.csv")
    write_source(src, 20000)
    root = os.path.join(work, "root")
    cmd_out = os.path.join(work, "command.jsonl")
    # The URL from a file (@FILE), so the secret is not in the process list.
    hooks = os.path.join(work, "webhooks.txt")
    with open(hooks, "w") as f:
        f.write(receiver.url + "\n")
    t = Txflow(work, ["chunk", "--source", src, "--root", root, "--chunk-rows", "100",
                      "--every", "200ms", "--linger", "100ms", "--stall-after", "1s",
                      "--metrics-addr", "127.0.0.1:0", "--notify-webhook", "@" + hooks,
                      "--notify-command", f"cat >> {cmd_out}; echo >> {cmd_out}"])
    t.metrics_port()
    with open(f"/proc/{t.proc.pid}/cmdline", "rb") as f:
        assert SECRET.encode() not in f.read()
    lz = os.path.join(root, "landing_zone")
    wait_until(lambda: os.path.isdir(lz) and len(os.listdir(lz)) >= 2, 20, "two chunks")
    status, body = t.get("/healthz")
    assert status == 200, body
    assert body.startswith("x: progressing"), body
    fd = os.open(lz, os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        status, body = wait_until(
            lambda: (lambda r: r[0] == 503 and r)(t.get("/healthz")), 10, "503")
        assert re.match(r"x: stalled: no progress for \d+\.\ds, backlog \d+ source bytes\n$", body), body
        assert receiver.wait_for(1) == [("stalled", "x")]
        time.sleep(1)  # still stalled: no second alert, no early recovery
        assert receiver.events() == [("stalled", "x")]
        assert t.get("/healthz")[0] == 503
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
    assert receiver.wait_for(2) == [("stalled", "x"), ("recovered", "x")]
    status, body = wait_until(lambda: (lambda r: r[0] == 200 and r)(t.get("/healthz")), 10, "200")
    assert t.stop() == 0
    assert receiver.events() == [("stalled", "x"), ("recovered", "x")]
    stalled, recovered = receiver.bodies
    assert stalled["root"] == root and stalled["pid"] == t.proc.pid
    assert "no progress for" in stalled["reason"] and stalled["text"].startswith("txflow x stalled")
    assert recovered["since"] == stalled["since"]
    # The command got the same documents.
    with open(cmd_out) as f:
        docs = [json.loads(line) for line in f if line.strip()]
    assert docs == receiver.bodies
    assert SECRET not in t.stderr()


def test_removing_the_source_mid_run_sends_one_stopped_alert_and_a_dead_webhook_delays_exit_at_most_5s(
        work, receiver):
    src = os.path.join(work, "source.csv")
    write_source(src, 20000)
    root = os.path.join(work, "root")
    dead = f"http://127.0.0.1:1/hooks/{SECRET}"  # nothing listens on port 1
    # The dead webhook first: it must not hold back the live one.
    t = Txflow(work, ["run", "--source", src, "--root", root, "--chunk-rows", "100",
                      "--every", "200ms", "--stall-after", "1s",
                      "--notify-webhook", dead, "--notify-webhook", receiver.url])
    lz = os.path.join(root, "landing_zone")
    wait_until(lambda: os.path.isdir(lz) and len(os.listdir(lz)) >= 2, 20, "two chunks")
    os.remove(src)
    start = time.time()
    rc = t.proc.wait(30)
    assert rc == 1
    # The process waited for the dead webhook's retries, 5 s at most.
    assert 4.5 < time.time() - start < 12
    assert receiver.events() == [("stopped", "x")]
    assert "source not found" in receiver.bodies[0]["reason"]
    err = t.stderr()
    assert SECRET not in err
    assert "webhook #1 (127.0.0.1:1): not reachable" in err


class StuckWebhook:
    """A webhook on 127.0.0.1 that reads the request and then never answers
    (`trickle` False) or streams a 200 answer a few bytes at a time forever."""

    def __init__(self, trickle):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/hooks/{SECRET}"
        self.trickle = trickle
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while not self.stop:
            c, _ = self.sock.accept()
            threading.Thread(target=self.handle, args=(c,), daemon=True).start()

    def handle(self, c):
        try:
            c.recv(65536)
            if self.trickle:
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n")
            while not self.stop:
                if self.trickle:
                    c.sendall(b"x")
                time.sleep(0.2)
        except OSError:
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.mark.parametrize("stuck", ["hanging-webhook", "trickling-webhook", "sleeping-command"])
def test_a_stuck_sink_listed_first_neither_delays_a_live_one_nor_exit_past_6s(
        work, receiver, stuck):
    src = os.path.join(work, "source.csv")
    write_source(src, 20000)
    root = os.path.join(work, "root")
    hook = None
    if stuck == "sleeping-command":
        first = ["--notify-command", "sleep 100"]
    else:
        hook = StuckWebhook(trickle=stuck == "trickling-webhook")
        first = ["--notify-webhook", hook.url]
    try:
        t = Txflow(work, ["run", "--source", src, "--root", root, "--chunk-rows", "100",
                          "--every", "200ms", "--notify-timeout", "60s"] + first +
                   ["--notify-webhook", receiver.url])
        lz = os.path.join(root, "landing_zone")
        wait_until(lambda: os.path.isdir(lz) and len(os.listdir(lz)) >= 2, 20, "two chunks")
        os.remove(src)
        start = time.time()
        assert receiver.wait_for(1, 10) == [("stopped", "x")]
        assert time.time() - start < 2.5
        rc = t.proc.wait(60)
        assert rc == 1
        # 5 s for the stuck sink, then it is abandoned.
        assert time.time() - start < 6.5
        assert SECRET not in t.stderr()
    finally:
        if hook:
            hook.close()


def test_notify_command_output_never_reaches_our_json_log(work, receiver):
    src = os.path.join(work, "source.csv")
    write_source(src, 20000)
    root = os.path.join(work, "root")
    t = Txflow(work, ["run", "--source", src, "--root", root, "--chunk-rows", "100",
                      "--every", "200ms", "--log-format", "json",
                      "--notify-command", "echo partial-out; printf 'no newline' >&2",
                      "--notify-webhook", receiver.url])
    lz = os.path.join(root, "landing_zone")
    wait_until(lambda: os.path.isdir(lz) and len(os.listdir(lz)) >= 2, 20, "two chunks")
    os.remove(src)
    assert t.proc.wait(30) == 1
    assert receiver.events() == [("stopped", "x")]
    err = t.stderr()
    assert "no newline" not in err and "partial-out" not in err
    for line in err.splitlines():
        json.loads(line)


def test_alert_json_is_utf8_for_a_root_with_invalid_bytes(work, receiver):
    src = os.path.join(work, "source.csv")
    write_source(src, 20000)
    root = os.path.join(work.encode(), b"root\xff\xc3")
    t = Txflow(work, ["run", "--source", src, "--root", root, "--chunk-rows", "100",
                      "--every", "200ms", "--notify-webhook", receiver.url])
    lz = os.path.join(root, b"landing_zone")
    wait_until(lambda: os.path.isdir(lz) and len(os.listdir(lz)) >= 2, 20, "two chunks")
    os.remove(src)
    assert t.proc.wait(30) == 1
    # The receiver decodes strictly: an invalid byte would lose the alert.
    assert receiver.wait_for(1, 5) == [("stopped", "x")]
    assert receiver.bodies[0]["root"].endswith("root\ufffd\ufffd")


def test_twenty_trickling_clients_never_delay_a_scrape(work):
    src = os.path.join(work, "source.csv")
    write_source(src, 1000)
    t = Txflow(work, ["run", "--source", src, "--root", os.path.join(work, "root"),
                      "--every", "200ms", "--metrics-addr", "127.0.0.1:0"])
    port = t.metrics_port()
    slow = [socket.create_connection(("127.0.0.1", port)) for _ in range(20)]
    try:
        # A byte each 0.1 s, never finishing: the server drops each after
        # its 2 s deadline, so stop just before.
        request = b"GET /metrics HTTP/1.1\r\nX: "
        start = time.time()
        for byte in request:
            for s in slow:
                s.send(bytes([byte]))
            t0 = time.time()
            assert t.get("/metrics")[0] == 200
            assert t.get("/healthz")[0] == 200
            assert time.time() - t0 < 1
            if time.time() - start > 1.7:
                break
            time.sleep(0.1)
    finally:
        for s in slow:
            s.close()


def test_storage_failing_retryably_stalls_with_the_last_error_then_recovers(work, receiver):
    """Out of file descriptors: every open fails with EMFILE, which the local
    backend reports as retryable, so X retries (and fails) with backlog
    waiting; with the limit restored within the retry budget X goes on."""
    import resource
    src = os.path.join(work, "source.csv")
    write_source(src, 20000)
    root = os.path.join(work, "root")
    t = Txflow(work, ["chunk", "--source", src, "--root", root, "--chunk-rows", "100",
                      "--every", "200ms", "--linger", "100ms", "--stall-after", "1s",
                      "--notify-webhook", receiver.url, "--metrics-addr", "127.0.0.1:0"])
    t.metrics_port()
    lz = os.path.join(root, "landing_zone")
    wait_until(lambda: os.path.isdir(lz) and len(os.listdir(lz)) >= 2, 20, "two chunks")
    limits = resource.prlimit(t.proc.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(t.proc.pid, resource.RLIMIT_NOFILE, (3, limits[1]))
    try:
        time.sleep(3)  # the stalled alert cannot go out either: no sockets
        cut = len(os.listdir(lz))
        time.sleep(0.5)
        assert len(os.listdir(lz)) == cut, "X must be stuck"
    finally:
        resource.prlimit(t.proc.pid, resource.RLIMIT_NOFILE, limits)
    assert receiver.wait_for(2, 30) == [("stalled", "x"), ("recovered", "x")]
    assert "Too many open files" in receiver.bodies[0]["reason"]
    m = t.metrics()
    ops = ("read", "read_range", "stat", "write", "list", "delete")
    errors = sum(value(m, "txflow_storage_errors_total", op=op) for op in ops)
    failed = sum(value(m, "txflow_storage_requests_total", op=op, status=st)
                 for op in ops for st in ("retryable", "error"))
    assert errors == failed >= 1
    assert value(m, "txflow_retries_total", mechanism="x") >= 1
    assert t.stop() == 0
    assert receiver.events() == [("stalled", "x"), ("recovered", "x")]
    assert SECRET not in t.stderr()


def test_a_full_disk_sends_one_stopped_alert(work, receiver):
    assert FAULT_BINARY, "TXFLOW_FAULT_INJECTION_BINARY (txflow_fault_injection) is not set"
    src = os.path.join(work, "source.csv")
    write_source(src, 20000)
    root = os.path.join(work, "root")
    env = dict(os.environ, TXFLOW_FAULT_INJECTION="budget=300000")
    t = Txflow(work, ["run", "--source", src, "--root", root, "--chunk-rows", "1000",
                      "--drain", "--notify-webhook", receiver.url], binary=FAULT_BINARY, env=env)
    assert t.proc.wait(60) == 1
    events = receiver.wait_for(1, 5)
    assert len(events) == 1 and events[0][0] == "stopped", events
    assert "No space left on device" in receiver.bodies[0]["reason"]
    assert SECRET not in t.stderr()


def test_metrics_addr_that_cannot_be_bound_is_one_clear_error(work):
    src = os.path.join(work, "source.csv")
    write_source(src, 10)
    r = subprocess.run([BINARY, "chunk", "--source", src, "--root", os.path.join(work, "r"),
                        "--metrics-addr", "nonsense"], capture_output=True, text=True)
    assert r.returncode == 1
    assert "--metrics-addr 'nonsense': expected HOST:PORT" in r.stderr


S3_DIR = os.environ.get("TXFLOW_S3_TEST_DIR", "")


def test_s3_root_metrics_count_storage_calls_and_records(work):
    assert S3_DIR, "needs the versitygw fixture (TXFLOW_S3_TEST_DIR): run it as ctest obs_e2e_s3"
    with open(os.path.join(S3_DIR, "endpoint")) as f:
        endpoint = f.read().strip()
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="txflow-test-key",
               AWS_SECRET_ACCESS_KEY="txflow-test-secret", AWS_REGION="us-east-1")
    env.pop("AWS_PROFILE", None)
    src = os.path.join(work, "source.csv")
    write_source(src, 2000)
    root = f"s3://txflow-test/obs-{time.time_ns()}"
    t = Txflow(work, ["run", "--source", src, "--root", root, "--chunk-rows", "300",
                      "--every", "100ms", "--linger", "300ms",
                      "--metrics-addr", "127.0.0.1:0"], env=env)
    t.metrics_port()
    chunks = math.ceil(2000 / 300)
    wait_until(lambda: value(t.metrics(), "txflow_chunks_total", mechanism="y") == chunks,
               60, "y to process every chunk")
    m = t.metrics()
    assert t.stop() == 0
    assert value(m, "txflow_records_total", mechanism="x") == 2000
    assert value(m, "txflow_records_total", mechanism="y") == 2000
    # X wrote each chunk with one create-only PUT (no conflicts on a fresh root).
    assert value(m, "txflow_storage_requests_total", op="write", status="ok") >= 2 * chunks
    assert value(m, "txflow_storage_requests_total", op="read", status="ok") >= chunks
