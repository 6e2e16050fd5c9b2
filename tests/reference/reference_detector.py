#!/usr/bin/env python3
"""A slow, obviously-correct reference for txflow's detector (SPEC §2-§4).

Written from /work/shared/SPEC.md (as amended by the newest issue) and the
edge choices documented in docs/detector.md and docs/formats.md -- not from
the C++ engine. It shares no code with the engine: its own CSV record reader,
its own exact decimals (Python ints / Fraction), its own sort (sorted()), and
percentiles recomputed from scratch after every chunk.

Everything works on bytes, so names compare byte-wise as SPEC §4.1 asks.

Library use:
    ref = reference_run(source_bytes, chunk_rows, importance_bytes_or_None,
                        Thresholds(...))
    ref.detections   -> [(patternId, ActionType, customer, merchant), ...]
    ref.files        -> [number of rows per detection file, ...]
    ref.quarantined  -> sorted [record number, ...]

Command line (prints the detections, one per line, and the file split):
    reference_detector.py --source S --chunk-rows K [--importance I]
                          [--upgrade-min-txns N] ...
"""

import argparse
import re
import sys
from dataclasses import dataclass, field
from fractions import Fraction

# Blanks trimmed around values (docs/detector.md "surrounding blanks").
BLANKS = b" \t"

PAISE_LIMIT = 100_000_000_000 * 100  # ±100,000,000,000.00 rupees, in paise
MICRO_PER_PAISA = 10_000  # weights are held in units of 10^-6 rupees
INT64_MAX = 2**63 - 1


class FatalError(Exception):
    """Something the engine must stop on (not a bad row)."""


# ---------------------------------------------------------------------------
# Records: a record ends at a '\n' outside double quotes. A field is quoted
# when its first non-blank byte is '"'; inside, '""' is a quote and a lone
# '"' closes. A '"' anywhere else is an ordinary byte (docs/formats.md,
# "Chunks"). Single quotes are ordinary bytes for record boundaries.
# ---------------------------------------------------------------------------


def split_records(data):
    """Splits `data` into records, each with its line end (if any).

    Returns a list of bytes objects; a trailing record without '\n' is
    included as is (the caller decides what to do with it)."""
    records = []
    n = len(data)
    start = 0
    i = 0
    at_field_start = True
    in_quotes = False
    while i < n:
        c = data[i]
        if in_quotes:
            if c == 0x22:  # '"'
                if i + 1 < n and data[i + 1] == 0x22:
                    i += 2
                    continue
                in_quotes = False
            i += 1
            continue
        if at_field_start:
            if c in BLANKS:
                i += 1
                continue
            at_field_start = False
            if c == 0x22:
                in_quotes = True
                i += 1
                continue
        if c == 0x2C:  # ','
            at_field_start = True
        elif c == 0x0A:  # '\n'
            records.append(data[start:i + 1])
            start = i + 1
            at_field_start = True
        i += 1
    if start < n:
        records.append(data[start:])
    return records


def split_fields(record):
    """Splits one record into values: (values, None) or (None, reason).

    Each value is trimmed of surrounding blanks, then loses one layer of
    quotes: RFC 4180 double quotes or BankSim single quotes."""
    if record.endswith(b"\n"):
        record = record[:-1]
        if record.endswith(b"\r"):
            record = record[:-1]
    values = []
    n = len(record)
    i = 0
    while True:
        # One field starting at i.
        j = i
        while j < n and record[j] in BLANKS:
            j += 1
        if j < n and record[j] == 0x22:
            # Double-quoted field.
            j += 1
            out = bytearray()
            closed = False
            while j < n:
                c = record[j]
                if c == 0x22:
                    if j + 1 < n and record[j + 1] == 0x22:
                        out.append(0x22)
                        j += 2
                        continue
                    closed = True
                    j += 1
                    break
                out.append(c)
                j += 1
            if not closed:
                return None, "unterminated double quote"
            while j < n and record[j] in BLANKS:
                j += 1
            if j < n and record[j] != 0x2C:
                return None, "bytes after a closing double quote"
            values.append(bytes(out))
            if j >= n:
                break
            i = j + 1
            continue
        # Bare field: up to the next comma.
        k = record.find(b",", i)
        end = n if k < 0 else k
        value = record[i:end].strip(BLANKS)
        if len(value) >= 2 and value[0] == 0x27 and value[-1] == 0x27:
            value = value[1:-1]
        values.append(value)
        if k < 0:
            break
        i = k + 1
    return values, None


# ---------------------------------------------------------------------------
# Exact decimals.
# ---------------------------------------------------------------------------

_DECIMAL = re.compile(rb"([+-]?)([0-9]*)(?:\.([0-9]*))?")


def parse_decimal_fraction(text):
    """`text` (bytes) as an exact Fraction, or None.

    Grammar (docs/detector.md): optional sign, digits, optional fraction;
    `12`, `0.5`, `3.`, `.25`; at least one digit; no exponent, no blanks."""
    m = _DECIMAL.fullmatch(text)
    if not m:
        return None
    sign, whole, frac = m.group(1), m.group(2), m.group(3)
    if frac is None:
        frac = b""
    if not whole and not frac:
        return None
    value = Fraction(int(whole or b"0") * 10 ** len(frac) + int(frac or b"0"),
                     10 ** len(frac))
    return -value if sign == b"-" else value


def round_half_away(value):
    """A Fraction rounded to the nearest integer, halves away from zero."""
    sign = -1 if value < 0 else 1
    a = abs(value)
    q, rem = divmod(a.numerator, a.denominator)
    if 2 * rem >= a.denominator:
        q += 1
    return sign * q


def parse_amount_paise(text):
    """An amount text as integer paise, or (None, reason)."""
    value = parse_decimal_fraction(text)
    if value is None:
        return None, "amount is not a decimal number"
    paise = round_half_away(value * 100)
    if abs(paise) > PAISE_LIMIT:
        return None, "amount is beyond +-100000000000.00"
    return paise, None


# ---------------------------------------------------------------------------
# Importance table (SPEC §2.2).
# ---------------------------------------------------------------------------


def header_index(names, wanted):
    lower = [v.lower() for v in names]
    return {w: (lower.index(w) if w in lower else None) for w in wanted}


def load_importance(data):
    """{(customer, merchant, category): weight in 10^-6 units}."""
    records = split_records(data)
    if not records:
        raise FatalError("importance table is empty")
    header, reason = split_fields(records[0])
    if header is None:
        raise FatalError("importance header: " + reason)
    idx = header_index(header, [b"source", b"target", b"weight", b"typetrans"])
    for k, v in idx.items():
        if v is None:
            raise FatalError("importance table lacks column %r" % k)
    rows = {}
    for number, rec in enumerate(records[1:]):
        if rec in (b"\n", b"\r\n"):
            # A blank line; the table generator never writes one.
            raise FatalError("importance record %d is empty" % number)
        values, reason = split_fields(rec)
        if values is None or len(values) != len(header):
            raise FatalError("importance record %d is malformed" % number)
        w = parse_decimal_fraction(values[idx[b"weight"]])
        if w is None:
            raise FatalError("importance record %d: bad weight" % number)
        key = (values[idx[b"source"]], values[idx[b"target"]],
               values[idx[b"typetrans"]])
        rows.setdefault(key, []).append(w)
    # The exact mean of the rows, rounded once to 10^-6, half away from zero.
    return {k: round_half_away(sum(ws) / len(ws) * 1_000_000)
            for k, ws in rows.items()}


# ---------------------------------------------------------------------------
# Detector (SPEC §4).
# ---------------------------------------------------------------------------


@dataclass
class Thresholds:
    upgrade_min_txns: int = 50_000
    upgrade_count_percentile: int = 90
    upgrade_weight_percentile: int = 10
    child_min_txns: int = 80
    child_max_avg_paise: int = 2300
    dei_min_female: int = 100

    def flags(self):
        """The matching `txflow detect` flags."""
        rupees, paise = divmod(self.child_max_avg_paise, 100)
        child = str(rupees) if paise == 0 else "%d.%02d" % (rupees, paise)
        return [
            "--upgrade-min-txns", str(self.upgrade_min_txns),
            "--upgrade-count-percentile", str(self.upgrade_count_percentile),
            "--upgrade-weight-percentile", str(self.upgrade_weight_percentile),
            "--child-min-txns", str(self.child_min_txns),
            "--child-max-avg", child,
            "--dei-min-female", str(self.dei_min_female),
        ]


class Pair:
    __slots__ = ("count", "amount", "weight", "gender")

    def __init__(self, gender):
        self.count = 0
        self.amount = 0  # paise
        self.weight = 0  # 10^-6 rupees
        self.gender = gender  # gender of the pair's first transaction


class Merchant:
    def __init__(self):
        self.total = 0
        self.customers = {}  # customer -> Pair
        # Customers whose pair gender (first transaction's) is F / M; a
        # customer is counted once, when the pair is created.
        self.female = 0
        self.male = 0


def percentile_parts(n, p):
    """(lo, hi, r) of SPEC §4.3 for n sorted values and percentile p."""
    k = p * (n - 1)
    lo = k // 100
    r = k % 100
    hi = min(lo + 1, n - 1)
    return lo, hi, r


def count_at_or_above_percentile(count, sorted_counts, p):
    """count >= P_p(sorted_counts), exactly in integers."""
    lo, hi, r = percentile_parts(len(sorted_counts), p)
    v_lo, v_hi = sorted_counts[lo], sorted_counts[hi]
    return 100 * count >= 100 * v_lo + (v_hi - v_lo) * r


def percentile_double(sorted_values, p):
    """P_p of doubles, in the order SPEC §4.3 writes it."""
    lo, hi, r = percentile_parts(len(sorted_values), p)
    v_lo, v_hi = sorted_values[lo], sorted_values[hi]
    return v_lo + (v_hi - v_lo) * float(r) / 100.0


PATTERNS = {1: (b"PatId1", b"UPGRADE"), 2: (b"PatId2", b"CHILD"),
            3: (b"PatId3", b"DEI-NEEDED")}


def fixed(value, decimals):
    """An int count of 10^-decimals as text with exactly `decimals` digits."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), 10 ** decimals)
    return "%s%d.%0*d" % (sign, whole, decimals, frac)


def micro_text(value):
    """A Fraction or float rounded half away from zero to 10^-6, as text."""
    return fixed(round_half_away(Fraction(value) * 1_000_000), 6)


EVIDENCE_COLUMNS = [
    "row", "chunk", "patternId", "customerName", "MerchantId",
    "merchant_total", "customer_count", "count_p90", "customer_avg_weight",
    "weight_p10", "child_count", "child_avg_amount", "female_customers",
    "male_customers", "upgrade_min_txns", "upgrade_count_percentile",
    "upgrade_weight_percentile", "child_min_txns", "child_max_avg",
    "dei_min_female"]


def evidence_row(pattern, merchant_id, customer, m, pair, chunk_start,
                 count_bound, p_weight, t):
    """The evidence cells (docs/formats.md "Evidence files") but `row`, from
    this reference's own state at the moment it decided; '' where a cell
    does not apply to the pattern. Weights are 10^-6 units, so an average in
    units is weight / count / 10^6; amounts are paise."""
    cells = {c: "" for c in EVIDENCE_COLUMNS}
    cells.update({
        "chunk": "landing_zone/chunk-%012d.csv" % chunk_start,
        "patternId": PATTERNS[pattern][0].decode(),
        "customerName": customer.decode("utf-8", "surrogateescape"),
        "MerchantId": merchant_id.decode("utf-8", "surrogateescape"),
        "merchant_total": str(m.total),
        "upgrade_min_txns": str(t.upgrade_min_txns),
        "upgrade_count_percentile": str(t.upgrade_count_percentile),
        "upgrade_weight_percentile": str(t.upgrade_weight_percentile),
        "child_min_txns": str(t.child_min_txns),
        "child_max_avg": fixed(t.child_max_avg_paise, 2),
        "dei_min_female": str(t.dei_min_female),
    })
    if pattern == 1:
        cells["customer_count"] = str(pair.count)
        cells["count_p90"] = fixed(count_bound, 2)  # count_bound is 100·P
        cells["customer_avg_weight"] = micro_text(
            Fraction(pair.weight, pair.count * 1_000_000))
        cells["weight_p10"] = micro_text(Fraction(p_weight) / 1_000_000)
    elif pattern == 2:
        cells["child_count"] = str(pair.count)
        cells["child_avg_amount"] = micro_text(Fraction(pair.amount,
                                                        pair.count * 100))
    else:
        cells["female_customers"] = str(m.female)
        cells["male_customers"] = str(m.male)
    return cells


@dataclass
class RefResult:
    detections: list = field(default_factory=list)  # (pid, action, cust, merch)
    # One dict of evidence cells per detection, in order (row numbered 1-50
    # within each file).
    evidence: list = field(default_factory=list)
    files: list = field(default_factory=list)  # rows per file
    quarantined: list = field(default_factory=list)  # record numbers
    records: int = 0
    chunks: int = 0
    merchant_totals: dict = field(default_factory=dict)  # merchant -> txns


class Detector:
    def __init__(self, thresholds, importance=None):
        self.t = thresholds
        self.importance = importance  # dict or None
        self.merchants = {}
        self.fired = set()  # (pattern, customer, merchant)
        self.detections = []
        self.evidence = []
        self.quarantined = []

    def apply_chunk(self, header_values, records, first_record):
        """Applies one chunk's records; then evaluates; returns new detections."""
        want = [b"customer", b"merchant", b"gender", b"amount"]
        if self.importance is not None:
            want.append(b"category")
        idx = header_index(header_values, want)
        for k, v in idx.items():
            if v is None:
                raise FatalError("chunk lacks column %r" % k)
        touched_merchants = set()
        touched_pairs = set()
        for offset, rec in enumerate(records):
            number = first_record + offset
            row = self.decode(rec, len(header_values), idx)
            if row is None:
                self.quarantined.append(number)
                continue
            customer, merchant, gender, paise, category = row
            if self.importance is not None:
                weight = self.importance.get((customer, merchant, category))
                if weight is None:
                    weight = paise * MICRO_PER_PAISA
            else:
                weight = paise * MICRO_PER_PAISA
            m = self.merchants.get(merchant)
            if m is None:
                m = self.merchants[merchant] = Merchant()
            pair = m.customers.get(customer)
            if pair is None:
                pair = m.customers[customer] = Pair(gender)
                if gender == b"F":
                    m.female += 1
                elif gender == b"M":
                    m.male += 1
            if (abs(pair.amount + paise) > INT64_MAX or
                    abs(pair.weight + weight) > INT64_MAX):
                raise FatalError("sum overflow for %r at %r" %
                                 (customer, merchant))
            m.total += 1
            pair.count += 1
            pair.amount += paise
            pair.weight += weight
            touched_merchants.add(merchant)
            touched_pairs.add((customer, merchant))
        return self.evaluate(touched_merchants, touched_pairs, first_record)

    def decode(self, rec, field_count, idx):
        values, reason = split_fields(rec)
        if values is None:
            return None  # broken quoting
        if len(values) != field_count:
            return None  # wrong number of fields
        for col in idx.values():
            if values[col] == b"":
                return None  # empty required value
        paise, reason = parse_amount_paise(values[idx[b"amount"]])
        if paise is None:
            return None
        g = values[idx[b"gender"]]
        gender = b"F" if g == b"F" else (b"M" if g == b"M" else b"")
        category = values[idx[b"category"]] if b"category" in idx else None
        return (values[idx[b"customer"]], values[idx[b"merchant"]], gender,
                paise, category)

    def evaluate(self, touched_merchants, touched_pairs, chunk_start=0):
        t = self.t
        new = []
        why = {}  # (pattern, merchant, customer) -> evidence cells
        # PatId1 UPGRADE.
        for merchant in touched_merchants:
            m = self.merchants[merchant]
            if m.total <= t.upgrade_min_txns:
                continue
            names = list(m.customers)
            counts = [m.customers[c].count for c in names]
            avgs = [float(m.customers[c].weight) / float(m.customers[c].count)
                    for c in names]
            sorted_counts = sorted(counts)
            sorted_avgs = sorted(avgs)
            # count >= P_count, exactly: 100·count >= 100·v[lo] + (v[hi]−v[lo])·r
            lo, hi, r = percentile_parts(len(names), t.upgrade_count_percentile)
            count_bound = (100 * sorted_counts[lo] +
                           (sorted_counts[hi] - sorted_counts[lo]) * r)
            p_weight = percentile_double(sorted_avgs,
                                         t.upgrade_weight_percentile)
            for customer, count, avg in zip(names, counts, avgs):
                if (100 * count >= count_bound and avg <= p_weight and
                        (1, customer, merchant) not in self.fired):
                    new.append((1, merchant, customer))
                    why[new[-1]] = evidence_row(
                        1, merchant, customer, m, m.customers[customer],
                        chunk_start, count_bound, p_weight, t)
        # PatId2 CHILD.
        for customer, merchant in touched_pairs:
            if (2, customer, merchant) in self.fired:
                continue
            p = self.merchants[merchant].customers[customer]
            if (p.count >= t.child_min_txns and
                    p.amount < t.child_max_avg_paise * p.count):
                new.append((2, merchant, customer))
                why[new[-1]] = evidence_row(
                    2, merchant, customer, self.merchants[merchant], p,
                    chunk_start, None, None, t)
        # PatId3 DEI-NEEDED.
        for merchant in touched_merchants:
            if (3, b"", merchant) in self.fired:
                continue
            m = self.merchants[merchant]
            if m.female > t.dei_min_female and m.female < m.male:
                new.append((3, merchant, b""))
                why[new[-1]] = evidence_row(3, merchant, b"", m, None,
                                            chunk_start, None, None, t)
        new.sort()
        out = []
        for pattern, merchant, customer in new:
            self.fired.add((pattern, customer, merchant))
            pid, action = PATTERNS[pattern]
            out.append((pid, action, customer, merchant))
            self.evidence.append(why[(pattern, merchant, customer)])
        self.detections.extend(out)
        return out


def cut_chunks(source, chunk_rows):
    """(header record, [(first record number, [records])...]) as Mechanism X
    cuts a complete source in drain mode."""
    records = split_records(source)
    if not records:
        raise FatalError("source is empty")
    header = records[0]
    body = records[1:]
    if body and not body[-1].endswith(b"\n"):
        body[-1] = body[-1] + b"\n"  # drain: the last record gets '\n'
    chunks = []
    for start in range(0, len(body), chunk_rows):
        chunks.append((start, body[start:start + chunk_rows]))
    return header, chunks


def reference_run(source, chunk_rows, importance, thresholds):
    if importance is not None:
        importance = load_importance(importance)
    header, chunks = cut_chunks(source, chunk_rows)
    header_values, reason = split_fields(header)
    if header_values is None:
        raise FatalError("header: " + reason)
    det = Detector(thresholds, importance)
    result = RefResult()
    for start, recs in chunks:
        det.apply_chunk(header_values, recs, start)
        result.records += len(recs)
    result.chunks = len(chunks)
    result.detections = det.detections
    result.evidence = [dict(e, row=str(i % 50 + 1))
                       for i, e in enumerate(det.evidence)]
    n = len(det.detections)
    result.files = [50] * (n // 50) + ([n % 50] if n % 50 else [])
    result.quarantined = sorted(det.quarantined)
    result.merchant_totals = {k: m.total for k, m in det.merchants.items()}
    return result


def parse_child_max_avg(text):
    value = parse_decimal_fraction(text.encode())
    if value is None:
        raise argparse.ArgumentTypeError("not a decimal: %r" % text)
    return round_half_away(value * 100)


def add_threshold_args(ap):
    ap.add_argument("--upgrade-min-txns", type=int, default=50_000)
    ap.add_argument("--upgrade-count-percentile", type=int, default=90)
    ap.add_argument("--upgrade-weight-percentile", type=int, default=10)
    ap.add_argument("--child-min-txns", type=int, default=80)
    ap.add_argument("--child-max-avg", type=parse_child_max_avg, default=2300,
                    help="rupees")
    ap.add_argument("--dei-min-female", type=int, default=100)


def thresholds_from_args(a):
    return Thresholds(a.upgrade_min_txns, a.upgrade_count_percentile,
                      a.upgrade_weight_percentile, a.child_min_txns,
                      a.child_max_avg, a.dei_min_female)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", required=True)
    ap.add_argument("--chunk-rows", type=int, default=10_000)
    ap.add_argument("--importance")
    add_threshold_args(ap)
    a = ap.parse_args()
    with open(a.source, "rb") as f:
        source = f.read()
    importance = None
    if a.importance:
        with open(a.importance, "rb") as f:
            importance = f.read()
    r = reference_run(source, a.chunk_rows, importance, thresholds_from_args(a))
    out = sys.stdout.buffer
    for pid, action, cust, merch in r.detections:
        out.write(b"%s,%s,%r,%r\n" % (pid, action, cust, merch))
    out.write(b"files: %r\nquarantined records: %r\n" %
              (r.files, r.quarantined))


if __name__ == "__main__":
    main()
