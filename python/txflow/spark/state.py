"""Y's state in Spark: one txflow.MerchantState per merchant, in the state store.

The streaming query groups bronze rows by merchant and calls `step` once per
merchant and micro-batch (applyInPandasWithState). `step` restores the
merchant's serialized kernel state, applies the batch's rows chunk by chunk
in record order and evaluates after every chunk (SPEC 4.1: each chunk is a
micro-batch of its own, however many chunks Spark's batch carries), then
stores the new image. Every rule is the kernel's; this file only moves rows.

Merchants are independent (each pattern reads one merchant's state), so the
detections of all merchants, put in (chunk, SPEC 4.1) order by the sink,
are the standalone detector's.
"""

import warnings

import pandas as pd

import txflow

# pyspark's own concat of our frames warns about all-null columns (the kinds
# of rows leave different columns empty); the result is what we give it.
warnings.filterwarnings("ignore", category=FutureWarning, module="pyspark")

# One output schema for three kinds of rows: detections (D) and the
# aggregates of touched merchants (M) and pairs (P) for the state tables.
OUTPUT_DDL = ("kind string, chunk_start bigint, pattern string, customer binary, "
              "merchant binary, count bigint, amount_paise bigint, "
              "weight_micro bigint, gender string, total bigint, "
              "female bigint, male bigint")
STATE_DDL = "image binary"
_OUTPUT_COLUMNS = [c.split()[0] for c in OUTPUT_DDL.split(", ")]

_importance_cache = {}


def _importance(broadcast):
    """The importance table, parsed once per Python worker. The broadcast
    holds (token, uri, bytes); the token names this job's table."""
    if broadcast is None:
        return None
    token, uri, text = broadcast.value
    table = _importance_cache.get(token)
    if table is None:
        table = txflow.ImportanceTable.parse(text, uri)
        _importance_cache.clear()
        _importance_cache[token] = table
    return table


def make_step(thresholds, importance_broadcast, with_stats):
    """The group function. thresholds: Thresholds keyword arguments (a dict,
    which pickles); importance_broadcast: (token, uri, bytes) or None."""

    def step(key, frames, state):
        merchant = bytes(key[0])
        t = txflow.Thresholds(**thresholds)
        table = _importance(importance_broadcast)
        m = (txflow.MerchantState.restore(bytes(state.get[0])) if state.exists
             else txflow.MerchantState(merchant))
        rows = pd.concat(list(frames), ignore_index=True)
        rows.sort_values(["chunk_start", "record"], kind="stable", inplace=True)
        out = {c: [] for c in _OUTPUT_COLUMNS}

        def emit(kind, **values):
            for c in _OUTPUT_COLUMNS:
                out[c].append(values.get(c))
            out["kind"][-1] = kind

        for start, chunk in rows.groupby("chunk_start", sort=True):
            m.apply_rows(chunk["customer"].tolist(), chunk["gender"].tolist(),
                         chunk["amount_paise"].tolist(),
                         chunk["category"].tolist() if table else None, table)
            for pattern, customer, merch in m.evaluate(t, as_bytes=True):
                emit("D", chunk_start=int(start), pattern=pattern,
                     customer=customer, merchant=merch)
        if with_stats:
            emit("M", merchant=merchant, total=m.total, female=m.female_customers,
                 male=m.male_customers)
            for customer in rows["customer"].unique().tolist():
                count, paise, weight, gender = m.pair(customer)
                emit("P", customer=bytes(customer), merchant=merchant, count=count,
                     amount_paise=paise, weight_micro=weight, gender=gender)
        state.update((m.serialize(),))
        yield pd.DataFrame(out, columns=_OUTPUT_COLUMNS).astype({
            "chunk_start": "Int64", "count": "Int64", "amount_paise": "Int64",
            "weight_micro": "Int64", "total": "Int64", "female": "Int64",
            "male": "Int64"})

    return step
