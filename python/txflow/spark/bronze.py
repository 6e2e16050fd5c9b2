"""Bronze: the landing zone's chunks as a Delta table, one commit per chunk.

The chunks are taken in the order of their names (the record each starts
at), never in the order a file source would see them (modification time).
Each chunk is decoded by the C++ ChunkDecoder (txflow.decode_chunk_columns):
its good rows are appended in one commit written with Delta's idempotent-
write options (txnAppId = BRONZE_APP_ID, txnVersion = the chunk's first
record), so a chunk appended again after a crash is skipped by Delta; its
bad rows go to quarantine/ exactly as `txflow detect` writes them.

When the next chunk is missing, it is a gap only once it is certain that it
will not appear: state/offset.csv shows the chunker past it (or, without
offset.csv, a later chunk is listed) and a read made after that still misses
it, the rule of Detector::ReadNextChunk (docs/detector.md).
"""

import pandas as pd

import txflow

BRONZE_APP_ID = "txflow-bronze"

BRONZE_COLUMNS = [
    ("chunk_start", "bigint"),  # the chunk's first record (its name)
    ("chunk_next", "bigint"),  # the record the next chunk starts at
    ("record", "bigint"),  # the row's record number in the source
    ("customer", "string"),
    ("merchant", "string"),
    ("category", "string"),  # empty without an importance table
    ("gender", "string"),  # 'F', 'M' or '' (neither)
    ("amount_paise", "bigint"),
]
BRONZE_DDL = ", ".join(f"{n} {t}" for n, t in BRONZE_COLUMNS)
_BINARY_DDL = ", ".join(
    f"{n} {'binary' if t == 'string' and n != 'gender' else t}"
    for n, t in BRONZE_COLUMNS)


class GapError(Exception):
    pass


class Bronze:
    """Appends the landing zone's chunks to the bronze table in order."""

    def __init__(self, spark, storage, table_uri, need_category, log):
        self.spark = spark
        self.storage = storage
        self.table = table_uri
        self.need_category = need_category
        self.log = log
        self.next_record = self._resume_point()
        self.empty_chunk = None  # key of a chunk without records, once taken
        self.chunks = 0
        self.records = 0
        self.bad_rows = 0

    def _resume_point(self):
        # The largest chunk_next appended; a tail of chunks without good rows
        # left no row, so they are appended again and Delta skips them.
        from delta.tables import DeltaTable
        if not DeltaTable.isDeltaTable(self.spark, self.table):
            return 0
        row = self.spark.read.format("delta").load(self.table) \
            .agg({"chunk_next": "max"}).first()
        return row[0] or 0

    def ingest_available(self, limit=None):
        """Appends the chunks present, in order; returns how many. Raises
        GapError when one is certainly missing."""
        n = 0
        while limit is None or n < limit:
            text = self._read_next()
            if text is None:
                break
            self._append(text)
            n += 1
        return n

    def _read_next(self):
        key = txflow.chunk_key(self.next_record)
        taken = key == self.empty_chunk
        if not taken:
            text = self.storage.read(key)
            if text is not None:
                return text
        passed = self._chunker_passed()
        if not passed:
            return None  # it may still come
        if taken:
            raise GapError(f"{self.storage.path(key)} holds no records, but "
                           f"{passed}; no chunk can follow it")
        text = self.storage.read(key)  # written before the evidence above
        if text is not None:
            return text
        raise GapError(
            f"{self.storage.path(key)}: the next chunk is missing, but {passed}; "
            "the landing zone has a gap (chunks deleted, or written by something "
            "other than txflow chunk)")

    def _chunker_passed(self):
        text = self.storage.read(txflow.OFFSET_KEY)
        if text is not None:
            nxt = txflow.offset_next_record(
                text, self.storage.path(txflow.OFFSET_KEY))
            if nxt <= self.next_record:
                return ""
            return f"{txflow.OFFSET_KEY} says the chunker is at record {nxt}"
        for name in sorted(self.storage.list("landing_zone")):
            start = txflow.parse_chunk_key("landing_zone/" + name)
            if start is not None and start > self.next_record:
                return f"landing_zone/{name} exists"
        return ""

    def _append(self, text):
        start = self.next_record
        key = txflow.chunk_key(start)
        cols = txflow.decode_chunk_columns(text, key, start, self.need_category)
        # Quarantine before the commit, as Detector::ProcessChunk does: the
        # chunk's bad rows are on record before its good rows count.
        if cols["quarantine"]:
            self.storage.write_once(txflow.quarantine_key(start), cols["quarantine"])
        records = cols["records"]
        pdf = pd.DataFrame({
            "chunk_start": pd.Series([start] * len(cols["record"]), dtype="int64"),
            "chunk_next": pd.Series([start + records] * len(cols["record"]),
                                    dtype="int64"),
            "record": pd.Series(cols["record"], dtype="int64"),
            "customer": pd.Series(cols["customer"], dtype="object"),
            "merchant": pd.Series(cols["merchant"], dtype="object"),
            "category": pd.Series(cols["category"], dtype="object"),
            "gender": pd.Series(cols["gender"], dtype="object"),
            "amount_paise": pd.Series(cols["amount_paise"], dtype="int64"),
        })
        df = self.spark.createDataFrame(pdf, schema=_BINARY_DDL)
        # Names travel as binary from Python and are stored as strings: the
        # cast keeps every byte, even those that are not UTF-8.
        df = df.selectExpr(*[f"CAST({n} AS {t}) AS {n}" if t == "string" else n
                             for n, t in BRONZE_COLUMNS])
        # One file per chunk: a micro-batch limit in files is one in chunks,
        # and a chunk is never split between micro-batches.
        (df.coalesce(1).write.format("delta").mode("append")
           .option("txnAppId", BRONZE_APP_ID).option("txnVersion", start)
           .save(self.table))
        self.chunks += 1
        self.records += records
        self.bad_rows += cols["bad_rows"]
        if records == 0:
            self.empty_chunk = key
        self.next_record = start + records
