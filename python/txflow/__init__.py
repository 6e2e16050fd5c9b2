"""txflow's detection kernel for Python engines (the Spark job).

Thin: every rule is the C++ kernel's (src/detector/), bound by
python/src/txflow_ext.cc. Text is str (UTF-8; bytes that are not UTF-8 travel
as lone surrogates, "surrogateescape"); bytes are accepted as input too.

- ``Thresholds(**kw)``: the pattern thresholds, C++ defaults.
- ``MerchantState(merchant_id)``: ``apply``, ``apply_weighted``,
  ``apply_rows``, ``evaluate(thresholds)`` -> [(pattern_id, customer,
  merchant)] in SPEC 4.1 order within the merchant, ``serialize()`` -> bytes,
  ``MerchantState.restore(bytes)``.
- ``ImportanceTable.parse(text, uri)``, ``.find(customer, merchant, category)``.
- ``decode_chunk(text, key, start, need_category)`` -> ``(rows,
  quarantine_text, bad_rows)``; a row is ``(customer, merchant, category,
  gender, amount_paise)``, gender ``'F'``, ``'M'`` or ``''`` (neither), the
  form ``apply`` takes.
- ``decode_chunk_columns(...)``: the same as columns, names as bytes.
- ``action_type('PatId1')`` -> ``'UPGRADE'``; ``order_detections(rows)``
  (SPEC 4.1 order across chunks); ``encode_detection_file(rows, ystart_ms,
  tz)``; ``DetectionFileCursor(files, pending)``: ``add(n)``, ``flush()``
  -> [``DetectionFileSpan`` (seq, first, count)], ``file_seq_of(i)``: which
  detections go in which file of 50 (SPEC 4.4); ``detection_file(seq, rows,
  ystart_ms, tz)`` -> (key, bytes); the names ``chunk_key``,
  ``parse_chunk_key``, ``quarantine_key``, ``detection_file_key``, ``parse_detection_file_seq``; ``offset_next_record``
  (state/offset.csv); ``parse_timezone``, ``format_timestamp``,
  ``parse_amount_paise``.
- ``txflow.spark``: the Spark Structured Streaming engine (docs/spark.md).
- Errors: ``TxflowError`` (a ValueError) carrying the C++ Status message.
"""

from ._txflow import (
    DETECTIONS_PER_FILE,
    OFFSET_KEY,
    DetectionFileCursor,
    DetectionFileSpan,
    ImportanceTable,
    MerchantState,
    Thresholds,
    TxflowError,
    action_type,
    chunk_key,
    decode_chunk,
    decode_chunk_columns,
    detection_file,
    detection_file_key,
    encode_detection_file,
    format_timestamp,
    offset_next_record,
    order_detections,
    parse_amount_paise,
    parse_chunk_key,
    parse_detection_file_seq,
    parse_timezone,
    quarantine_key,
)

__all__ = [
    "DETECTIONS_PER_FILE",
    "DetectionFileCursor",
    "DetectionFileSpan",
    "OFFSET_KEY",
    "ImportanceTable",
    "MerchantState",
    "Thresholds",
    "TxflowError",
    "action_type",
    "chunk_key",
    "decode_chunk",
    "decode_chunk_columns",
    "detection_file",
    "detection_file_key",
    "encode_detection_file",
    "format_timestamp",
    "offset_next_record",
    "order_detections",
    "parse_amount_paise",
    "parse_chunk_key",
    "parse_detection_file_seq",
    "parse_timezone",
    "quarantine_key",
]
