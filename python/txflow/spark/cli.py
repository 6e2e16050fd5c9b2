"""txflow-spark: Mechanism Y on Spark Structured Streaming and Delta Lake.

    txflow-spark detect --root URI [--importance URI] [--checkpoint URI]
                        [--drain] [threshold and time-zone flags as txflow detect]

Runs as a console script, under spark-submit (this file), and as a Databricks
Python task (entry point txflow-spark). docs/spark.md has the design.
"""

import argparse
import os
import re
import signal
import sys
import threading
import time
import uuid

import txflow
from txflow.spark.storage import root_uri

_EPILOG = ("Exit status: 0 done, 1 failure (one line on stderr), 2 usage. "
           "See docs/spark.md.")


def _duration(text):
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", text)
    if not m:
        raise argparse.ArgumentTypeError(f"'{text}' is not a duration like 500ms, 5s, 1m")
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def _parser():
    p = argparse.ArgumentParser(prog="txflow-spark", epilog=_EPILOG)
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("detect", epilog=_EPILOG,
                       help="detect patterns in the landing zone's chunks")
    d.add_argument("--root", required=True, metavar="URI",
                   help="the txflow root: a path, file://, s3:// or s3a://")
    d.add_argument("--importance", metavar="URI",
                   help="CustomerImportance.csv; weights default to amounts")
    d.add_argument("--checkpoint", metavar="URI",
                   help="Spark checkpoint (default ROOT/state/spark/checkpoint)")
    d.add_argument("--tables", metavar="URI",
                   help="where the Delta tables live (default ROOT/tables)")
    d.add_argument("--drain", action="store_true",
                   help="process the chunks present, write the remainder, stop")
    d.add_argument("--poll", type=_duration, default=_duration("1s"),
                   help="time between looks at the landing zone (default 1s)")
    d.add_argument("--trigger", type=_duration, default=_duration("5s"),
                   help="micro-batch interval when not draining (default 5s)")
    d.add_argument("--max-chunks-per-batch", type=int, default=1000, metavar="N",
                   help="chunks one micro-batch takes at most (default 1000)")
    d.add_argument("--no-state-tables", dest="state_tables", action="store_false",
                   help="do not maintain merchant_stats and pair_stats")
    d.add_argument("--flush-on-exit", action="store_true",
                   help="on SIGINT/SIGTERM, also write pending detections")
    d.add_argument("--timezone", default="Asia/Kolkata", metavar="TZ",
                   help="time zone of detection times: Asia/Kolkata, UTC or +HH:MM")
    t = txflow.Thresholds()
    d.add_argument("--upgrade-min-txns", type=int, default=t.upgrade_min_txns)
    d.add_argument("--upgrade-count-percentile", type=int, default=t.upgrade_count_pct)
    d.add_argument("--upgrade-weight-percentile", type=int,
                   default=t.upgrade_weight_pct)
    d.add_argument("--child-min-txns", type=int, default=t.child_min_txns)
    d.add_argument("--child-max-avg", default="23", metavar="RUPEES")
    d.add_argument("--dei-min-female", type=int, default=t.dei_min_female)
    d.add_argument("--master", help="Spark master when this process starts "
                   "Spark (default local[*])")
    d.add_argument("--partitions", type=int, metavar="N",
                   help="shuffle partitions of a new query (default: cores)")
    d.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="a Spark setting for the session this process starts")
    return p


def _thresholds(a):
    for name in ("upgrade_count_percentile", "upgrade_weight_percentile"):
        if not 0 <= getattr(a, name) <= 100:
            raise txflow.TxflowError("percentiles must be between 0 and 100")
    for name in ("upgrade_min_txns", "child_min_txns", "dei_min_female"):
        if getattr(a, name) < 0:
            raise txflow.TxflowError(f"--{name.replace('_', '-')} must be >= 0")
    try:
        paise = txflow.parse_amount_paise(a.child_max_avg)
    except txflow.TxflowError:
        raise txflow.TxflowError(
            f"--child-max-avg: '{a.child_max_avg}' is not a decimal number") from None
    return dict(upgrade_min_txns=a.upgrade_min_txns,
                upgrade_count_pct=a.upgrade_count_percentile,
                upgrade_weight_pct=a.upgrade_weight_percentile,
                child_min_txns=a.child_min_txns, child_max_avg_paise=paise,
                dei_min_female=a.dei_min_female)


_RAISED = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception)): (.*)$")


def _one_line(e):
    """A Spark or Python error as one line. An error raised in a Python
    worker or in foreachBatch reaches us wrapped in Spark's messages with its
    traceback: the last exception raised in that traceback is the cause (for
    a Java one, the line that names it)."""
    text = getattr(e, "desc", None) or str(e) or type(e).__name__
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if "Traceback (most recent call last)" in text:
        for i in range(len(lines) - 1, -1, -1):
            m = _RAISED.match(lines[i])
            if not m:
                continue
            name, message = m.groups()
            if name == "Py4JJavaError" and i + 1 < len(lines):
                return lines[i + 1].lstrip(": ")
            if name in ("TxflowError", "GapError", "RuntimeError"):
                return message
            return f"{name}: {message}"
    return lines[0] if lines else type(e).__name__


def main(argv=None):
    args = _parser().parse_args(argv)
    try:
        return _detect(args)
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # one line, non-zero exit (SPEC 5)
        print(f"txflow-spark: {_one_line(e)}", file=sys.stderr)
        return 1


def _detect(a):
    thresholds = _thresholds(a)
    tz = txflow.parse_timezone(a.timezone)
    if a.max_chunks_per_batch < 1:
        raise txflow.TxflowError("--max-chunks-per-batch must be >= 1")
    ystart_ms = int(time.time() * 1000)
    root = root_uri(a.root)
    tables_root = root_uri(a.tables) if a.tables else root + "/tables"
    checkpoint = root_uri(a.checkpoint) if a.checkpoint else \
        root + "/state/spark/checkpoint"

    from txflow.spark.session import spark_session
    spark = spark_session(a.master, a.partitions, a.conf)

    from txflow.spark.bronze import Bronze
    from txflow.spark.engine import Engine
    from txflow.spark.sink import Sink
    from txflow.spark.storage import Storage, read_object

    storage = Storage(spark, root)
    storage.clear_scratch()
    importance = None
    if a.importance:
        uri = root_uri(a.importance)
        try:
            text = read_object(spark, uri)
        except FileNotFoundError:
            raise txflow.TxflowError(
                f"{a.importance}: importance table not found") from None
        txflow.ImportanceTable.parse(text, a.importance)  # refuse it now
        importance = spark.sparkContext.broadcast(
            (uuid.uuid4().hex, a.importance, text))
    tables = {n: f"{tables_root}/{n}"
              for n in ("bronze", "detections", "merchant_stats", "pair_stats")}
    log = lambda msg: print(f"txflow-spark: {msg}", file=sys.stderr, flush=True)
    bronze = Bronze(spark, storage, tables["bronze"], importance is not None, log)
    sink = Sink(spark, storage, tables, checkpoint, ystart_ms, tz, a.state_tables,
                log)
    sink.write_full_files()  # files a crash left in the table only
    engine = Engine(spark, tables["bronze"], checkpoint, thresholds, importance,
                    a.state_tables, a.max_chunks_per_batch, sink)

    if a.drain:
        t = time.monotonic()
        n = bronze.ingest_available()
        log(f"bronze: {n} chunks appended in {time.monotonic() - t:.2f} s")
        engine.run_available()
        sink.flush()
    else:
        _run_continuously(a, bronze, engine, sink)
    print(f"detect: {bronze.chunks} chunks, {bronze.records} records, "
          f"{bronze.bad_rows} bad rows, {sink.detections} detections, "
          f"{sink.files_written} files", file=sys.stderr, flush=True)
    return 0


def _run_continuously(a, bronze, engine, sink):
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    query = engine.start(a.trigger)
    try:
        while not stop.is_set() and query.isActive:
            bronze.ingest_available()
            stop.wait(a.poll)
        if a.flush_on_exit and query.isActive:
            # A requested flush covers every chunk present at the request.
            bronze.ingest_available()
            query.processAllAvailable()
    finally:
        query.stop()
    if query.exception() is not None:
        raise query.exception()
    if a.flush_on_exit:
        sink.flush()


if __name__ == "__main__":
    sys.exit(main())
