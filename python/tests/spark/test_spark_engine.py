"""txflow-spark against txflow detect: conformance, Delta tables, crashes."""

import csv
import decimal
import os
import random
import shutil
import signal
import subprocess
import time
import uuid

import pytest

from conftest import (BINARY, MAKE_CASE, REPO, SMALL_THRESHOLDS, SPARK_CLI, SPARK_ENV,
                      Case, assert_same_output, detection_files, run)


@pytest.fixture(scope="module")
def banksim(work):
    data = os.path.join(work, "banksim")
    run([BINARY, "gen", "--out", data, "--rows", "6000", "--seed", "11"])
    return data


@pytest.fixture(scope="module")
def plain(work, banksim):
    return Case(work, "plain", os.path.join(banksim, "transactions.csv"), None,
                1000, SMALL_THRESHOLDS)


@pytest.fixture(scope="module")
def weighted(work, banksim):
    return Case(work, "weighted", os.path.join(banksim, "transactions.csv"),
                os.path.join(banksim, "CustomerImportance.csv"), 500,
                SMALL_THRESHOLDS)


@pytest.fixture(scope="module")
def quirky(work):
    # Hostile rows (quotes, CRLF, odd decimals, bad rows of every kind, names
    # that are not UTF-8) from the reference suite's generator.
    out = os.path.join(work, "quirky-data")
    run(["python3", MAKE_CASE, "--seed", "5", "--records", "4000",
         "--big-customers", "600", "--out", out])
    return Case(work, "quirky", os.path.join(out, "source.csv"),
                os.path.join(out, "importance.csv"), 300,
                ["--upgrade-min-txns", "400", "--dei-min-female", "10",
                 "--child-min-txns", "10", "--child-max-avg", "23.5"])


def spark_run(case, name, *extra):
    root = case.copy(name)
    r = run(case.spark_cmd(root, *extra), env=SPARK_ENV)
    return root, r


@pytest.fixture(scope="module")
def plain_spark(plain):
    """The plain case through txflow-spark, one chunk per micro-batch."""
    root, _ = spark_run(plain, "spark", "--max-chunks-per-batch", "1")
    return root


def test_plain_one_chunk_per_batch_equals_standalone(plain, plain_spark):
    assert_same_output(plain, plain_spark)


def test_importance_several_chunks_per_batch_equals_standalone(weighted):
    root, r = spark_run(weighted, "spark", "--max-chunks-per-batch", "4")
    assert_same_output(weighted, root)
    assert "12 chunks" in r.stderr  # 6000 records in chunks of 500


def test_quirky_and_bad_rows_equal_standalone(quirky):
    root, _ = spark_run(quirky, "spark", "--max-chunks-per-batch", "5")
    assert_same_output(quirky, root)
    assert os.listdir(os.path.join(root, "quarantine"))  # bad rows were there


def _source_aggregates(source):
    """Per merchant: transactions; per (customer, merchant): count and amount
    sum in paise. From the CSV with the csv module (every row is good)."""
    merchants, pairs = {}, {}
    with open(source, newline="") as f:
        for row in csv.DictReader(f):
            c, m = row["customer"].strip("'"), row["merchant"].strip("'")
            paise = int(decimal.Decimal(row["amount"]) * 100)
            merchants[m] = merchants.get(m, 0) + 1
            n, s = pairs.get((c, m), (0, 0))
            pairs[(c, m)] = (n + 1, s + paise)
    return merchants, pairs


@pytest.fixture(scope="module")
def spark_session():
    from txflow.spark.session import spark_session as make
    os.environ.update(SPARK_LOCAL_IP="127.0.0.1")
    spark = make("local[2]", 2, [])
    yield spark
    spark.stop()


def check_tables(spark, root, source, records, chunk_rows):
    """The Delta tables against the files and the source."""
    read = lambda t: spark.read.format("delta").load(os.path.join(root, "tables", t))
    # detections: one row per file row, numbered 1..n in file order.
    rows = read("detections").orderBy("seq").collect()
    flat = [(s, r) for s, _, rs in detection_files(root) for r in rs]
    assert [r.seq for r in rows] == list(range(1, len(flat) + 1))
    assert [[r.patternId, r.ActionType, r.customerName, r.MerchantId]
            for r in rows] == [r for _, r in flat]
    assert [f"{r.file_seq:06d}.csv" for r in rows] == [s for s, _ in flat]
    # bronze: every record once, in chunks named by their first record.
    bronze = read("bronze")
    assert bronze.count() == records
    assert bronze.select("record").distinct().count() == records
    assert sorted(r[0] for r in bronze.select("chunk_start").distinct().collect()) \
        == list(range(0, records, chunk_rows))
    # merchant_stats and pair_stats: the source's aggregates.
    merchants, pairs = _source_aggregates(source)
    got = {r.merchant: r.transactions for r in read("merchant_stats").collect()}
    assert got == merchants
    got = {(r.customer, r.merchant): (r.transactions, r.amount_sum_paise)
           for r in read("pair_stats").collect()}
    assert got == pairs


def test_delta_tables_hold_what_the_files_and_the_source_say(plain, plain_spark,
                                                             spark_session):
    check_tables(spark_session, plain_spark, plain.source, 6000, 1000)


def test_second_drain_under_spark_submit_changes_nothing(plain, plain_spark):
    # The same job run by spark-submit (this file's module as the script, the
    # jars given on the command line) on the finished root.
    import txflow.spark.cli as cli
    from txflow.spark.session import installed_jars
    before = detection_files(plain_spark)
    submit = os.path.join(os.path.dirname(SPARK_CLI), "spark-submit")
    cmd = plain.spark_cmd(plain_spark, "--max-chunks-per-batch", "8")
    r = run([submit, "--master", "local[2]", "--jars", ",".join(installed_jars()),
             cli.__file__] + cmd[1:], env=SPARK_ENV)
    assert detection_files(plain_spark) == before
    out = r.stdout + r.stderr  # spark-submit sends the driver's stderr to stdout
    assert "0 chunks" in out and "0 detections" in out


def test_a_removed_checkpoint_is_refused_not_taken_for_done_work(plain, plain_spark):
    # Without its checkpoint Spark would number micro-batches from 0 again,
    # and the sink would drop their detections as already committed.
    root = plain.copy("spark-lost-checkpoint")
    shutil.rmtree(root)
    shutil.copytree(plain_spark, root)
    shutil.rmtree(os.path.join(root, "state", "spark", "checkpoint"))
    before = detection_files(root)
    r = subprocess.run(plain.spark_cmd(root), capture_output=True, text=True,
                       env=SPARK_ENV)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("txflow-spark: ") and "this checkpoint did not write " \
        "file://" in last and "it was removed, or belongs to another root" in last, last
    assert detection_files(root) == before


def test_a_root_the_standalone_detector_owns_is_refused(plain):
    root = plain.copy("spark-on-standalone")
    shutil.rmtree(root)
    shutil.copytree(plain.standalone, root)
    before = detection_files(root)
    r = subprocess.run(plain.spark_cmd(root), capture_output=True, text=True,
                       env=SPARK_ENV)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("txflow-spark: ") and last.endswith(
        "/detections: written by another detector engine (txflow detect's "
        "state/detector/, or detection files without tables/detections); run one "
        "detector engine per root"), last
    assert detection_files(root) == before
    assert not os.path.exists(os.path.join(root, "tables"))


def test_usage_and_input_errors_are_one_line(plain, tmp_path):
    r = subprocess.run(plain.spark_cmd(str(tmp_path / "r"), "--child-max-avg", "x"),
                       capture_output=True, text=True, env=SPARK_ENV)
    assert r.returncode == 1
    assert r.stderr.strip() == \
        "txflow-spark: --child-max-avg: 'x' is not a decimal number"
    r = subprocess.run(plain.spark_cmd(str(tmp_path / "r"), "--bogus"),
                       capture_output=True, text=True, env=SPARK_ENV)
    assert r.returncode == 2


def test_gap_in_the_landing_zone_is_one_line_and_writes_nothing(plain):
    root = plain.copy("spark-gap")
    os.remove(os.path.join(root, "landing_zone", "chunk-000000002000.csv"))
    r = subprocess.run(plain.spark_cmd(root), capture_output=True, text=True,
                       env=SPARK_ENV)
    assert r.returncode == 1
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("txflow-spark: ") and "chunk-000000002000.csv: the next " \
        "chunk is missing, but state/offset.csv says the chunker is at record 6000" in last
    assert not os.path.exists(os.path.join(root, "detections"))


def test_beside_a_running_chunker_then_sigterm_flush_equals_standalone(work, banksim):
    # X and Y side by side on one root: txflow chunk cutting a chunk a second
    # while txflow-spark runs continuously; then SIGTERM with --flush-on-exit.
    case = Case(work, "together", os.path.join(banksim, "transactions.csv"), None, 500,
                SMALL_THRESHOLDS)
    root = os.path.join(case.dir, "live")
    y = subprocess.Popen(case.spark_cmd(root, "--trigger", "1s", "--poll", "200ms",
                                        "--flush-on-exit", drain=False),
                         env=SPARK_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         text=True, start_new_session=True)
    x = subprocess.Popen([BINARY, "chunk", "--root", root, "--source", case.source,
                          "--chunk-rows", "500", "--every", "1s"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    lz = os.path.join(root, "landing_zone")
    log = os.path.join(root, "tables", "bronze", "_delta_log")
    deadline = time.time() + 300
    # X done (12 chunks), and Y has taken them all (the table's creation and
    # one commit per chunk).
    while _entries(lz) < 12 or _entries(log, ".json") < 13:
        assert y.poll() is None, y.stderr.read()[-3000:]
        assert time.time() < deadline, "txflow-spark did not keep up"
        time.sleep(0.2)
    x.terminate()
    assert x.wait() == 0
    y.send_signal(signal.SIGTERM)
    err = y.communicate(timeout=300)[1]
    assert y.returncode == 0, err[-3000:]
    assert_same_output(case, root)
    assert "12 chunks" in err


def _entries(path, suffix=""):
    if not os.path.isdir(path):
        return 0
    return sum(1 for n in os.listdir(path)
               if n.endswith(suffix) and not n.startswith("."))


def test_kill_9_of_the_driver_then_restart_equals_standalone(work, banksim,
                                                            spark_session):
    # More, smaller chunks, so that the run has many steps to land in.
    case = Case(work, "crash", os.path.join(banksim, "transactions.csv"), None, 200,
                SMALL_THRESHOLDS)
    root = case.copy("spark")
    cmd = case.spark_cmd(root, "--max-chunks-per-batch", "4")
    ckpt = os.path.join(root, "state", "spark", "checkpoint")
    progress = {
        "bronze commit": lambda: _entries(
            os.path.join(root, "tables", "bronze", "_delta_log"), ".json"),
        "micro-batch planned": lambda: _entries(os.path.join(ckpt, "offsets")),
        "micro-batch done": lambda: _entries(os.path.join(ckpt, "commits")),
        "detections commit": lambda: _entries(
            os.path.join(root, "tables", "detections", "_delta_log"), ".json"),
    }
    rng = random.Random(int(os.environ.get("TXFLOW_CRASH_SEED", "12")))
    # Each kill comes a random 0-0.8 s after the driver reached a random next
    # step of one phase: ingest, the query, the sink.
    plan = [("bronze commit", rng.randint(1, 8)), ("micro-batch planned", 1),
            ("detections commit", 1), ("micro-batch done", 1),
            ("micro-batch planned", rng.randint(1, 2))]
    for step, ahead in plan:
        target = progress[step]() + ahead
        p = subprocess.Popen(cmd, env=SPARK_ENV, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, start_new_session=True)
        while p.poll() is None and progress[step]() < target:
            time.sleep(0.05)
        time.sleep(rng.uniform(0, 0.8))
        if p.poll() is not None:
            raise AssertionError(f"the run ended (exit {p.returncode}) before the "
                                 f"kill at '{step}': {p.stderr.read()[-2000:]}")
        os.killpg(p.pid, signal.SIGKILL)  # the driver: Python, JVM, workers
        p.wait()
        p.stderr.close()
    run(cmd, env=SPARK_ENV)
    assert_same_output(case, root)
    check_tables(spark_session, root, case.source, 6000, 200)


@pytest.fixture(scope="module")
def versitygw(work):
    """The S3 test server: ctest's (TXFLOW_S3_TEST_DIR), else one of our own."""
    d = os.environ.get("TXFLOW_S3_TEST_DIR")
    own = not (d and os.path.exists(os.path.join(d, "endpoint")))
    script = os.path.join(REPO, "tests", "s3", "versitygw.sh")
    if own:
        d = os.path.join(work, "s3-server")
        run([script, "start", d, os.path.join(REPO, "build", "tools", "bin",
                                              "versitygw")])
    with open(os.path.join(d, "endpoint")) as f:
        yield f.read().strip(), os.path.join(d, "root", "txflow-test")
    if own:
        run([script, "stop", d])


def test_s3_root_through_s3a_on_versitygw_equals_standalone(plain, versitygw):
    endpoint, bucket_dir = versitygw
    prefix = f"spark-{uuid.uuid4().hex[:8]}"
    env = dict(SPARK_ENV, AWS_ACCESS_KEY_ID="txflow-test-key",
               AWS_SECRET_ACCESS_KEY="txflow-test-secret", AWS_ENDPOINT_URL=endpoint,
               AWS_REGION="us-east-1")
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL_S3"):
        env.pop(var, None)
    root = f"s3://txflow-test/{prefix}"
    run([BINARY, "chunk", "--drain", "--root", root, "--source", plain.source,
         "--chunk-rows", "1000"], env=env)
    run(plain.spark_cmd(root, "--max-chunks-per-batch", "4"), env=env)
    # versitygw's posix backend keeps each object as a file: read them there.
    assert_same_output(plain, os.path.join(bucket_dir, prefix))
