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
- ``action_type('PatId1')`` -> ``'UPGRADE'``.
- Errors: ``TxflowError`` (a ValueError) carrying the C++ Status message.
"""

from ._txflow import (
    ImportanceTable,
    MerchantState,
    Thresholds,
    TxflowError,
    action_type,
    decode_chunk,
)

__all__ = [
    "ImportanceTable",
    "MerchantState",
    "Thresholds",
    "TxflowError",
    "action_type",
    "decode_chunk",
]
