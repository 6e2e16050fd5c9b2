"""Builds small txflow roots by hand, in the shared formats of issue 14
(docs/formats.md), independently of the engine's writers: the report's tests
must not depend on the code that writes these files."""
import os
import random

_POLY = 0x82F63B78  # CRC-32C (Castagnoli), reflected
_TABLE = []
for _n in range(256):
    _c = _n
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc = _TABLE[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283  # the standard check value

DET_HEADER = "YStartTime,detectionTime,patternId,ActionType,customerName,MerchantId\n"
EV_HEADER = (
    "row,chunk,patternId,customerName,MerchantId,merchant_total,customer_count,"
    "count_p90,customer_avg_weight,weight_p10,child_count,child_avg_amount,"
    "female_customers,male_customers,upgrade_min_txns,upgrade_count_percentile,"
    "upgrade_weight_percentile,child_min_txns,child_max_avg,dei_min_female\n")
STATS_HEADER = "chunk,records,bad_rows,detections,process_ms,processed_at_ms,backlog_chunks\n"
ACTIONS = {"PatId1": "UPGRADE", "PatId2": "CHILD", "PatId3": "DEI-NEEDED"}
HOSTILE = "</script><img src=x onerror=alert(1)>\"',<svg onload=alert(2)>"


def csv_field(v: str) -> str:
    if v == "" or any(c in v for c in ',"\r\n') or v != v.strip():
        return '"' + v.replace('"', '""') + '"'
    return v


def with_trailer(body: str, tag: str) -> str:
    return body + "# %s crc32c=%08x\n" % (tag, crc32c(body.encode()))


def iso(ms: int) -> str:
    """Unix ms as the detection files write it, at +05:30."""
    import datetime
    tz = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
    t = datetime.datetime.fromtimestamp(ms / 1000, tz)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03d+05:30" % (ms % 1000)


def _write(root, key, text):
    path = os.path.join(root, key)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def _evidence_row(row, chunk, pattern, customer, merchant, rng):
    cells = [""] * 15
    cells[0] = str(rng.randint(2000, 9000))  # merchant_total
    if pattern == "PatId1":
        cells[1:5] = [str(rng.randint(30, 60)), str(rng.randint(20, 30)),
                      "%.6f" % rng.uniform(1, 5), "%.6f" % rng.uniform(5, 9)]
        cells[9:12] = ["2000", "90", "10"]
    elif pattern == "PatId2":
        cells[5:7] = [str(rng.randint(5, 90)), "%.6f" % rng.uniform(5, 39)]
        cells[12:14] = ["5", "40.00"]
    else:
        cells[7:9] = [str(rng.randint(6, 20)), str(rng.randint(21, 40))]
        cells[14] = "5"
    return ",".join([str(row), chunk, pattern, csv_field(customer),
                     csv_field(merchant)] + cells) + "\n"


def build_root(root, files=12, chunks=60, start_ms=1795618737000, seed=7,
               evidence=True, stats=True, hostile=True):
    """A root with `files` detection files of 50 (their evidence sidecars),
    per-chunk stats for `chunks` chunks, two quarantine files and an offset
    file. Returns what a reader should find: counts by pattern and merchant,
    the customers of the last file."""
    rng = random.Random(seed)
    merchants = ["M%09d" % rng.randint(10**8, 10**9 - 1) for _ in range(20)]
    if hostile:
        merchants[0] = HOSTILE
    expect = {"PatId1": 0, "PatId2": 0, "PatId3": 0, "merchants": {},
              "customers": []}
    t = start_ms
    for seq in range(1, files + 1):
        rows = []
        for i in range(50):
            t += rng.randint(200, 4000)
            pattern = rng.choice(["PatId1", "PatId2", "PatId2", "PatId3"])
            merchant = rng.choice(merchants)
            customer = "" if pattern == "PatId3" else (
                HOSTILE if hostile and i == 7 else "C%09d" % rng.randint(10**8, 10**9 - 1))
            rows.append((iso(t), pattern, customer, merchant))
            expect[pattern] += 1
            expect["merchants"][merchant] = expect["merchants"].get(merchant, 0) + 1
        name = "detections_%d_%06d.csv" % (t // 1000, seq)
        _write(root, "detections/" + name, DET_HEADER + "".join(
            "%s,%s,%s,%s,%s,%s\n" % (iso(start_ms), when, p, ACTIONS[p],
                                      csv_field(c), csv_field(m))
            for when, p, c, m in rows))
        if evidence:
            chunk = "landing_zone/chunk-%012d.csv" % ((seq - 1) * 5000)
            _write(root, "detections/evidence/" + name, with_trailer(
                EV_HEADER + "".join(_evidence_row(i + 1, chunk, p, c, m, rng)
                                    for i, (_, p, c, m) in enumerate(rows)),
                "txflow-evidence-1"))
        expect["customers"] = [c for _, _, c, _ in rows]
    if stats:
        at = start_ms
        for first in range(0, chunks, 10):
            body = STATS_HEADER
            for c in range(first, min(first + 10, chunks)):
                at += rng.randint(800, 6000)
                body += "landing_zone/chunk-%012d.csv,5000,%d,%d,%.3f,%d,%d\n" % (
                    c * 5000, c % 3, rng.randint(0, 60), rng.uniform(0.5, 4),
                    at, max(0, 8 - c // 5) if c % 7 else -1)
            _write(root, "state/detector/stats/stats_%012d.csv" % (first * 5000),
                   with_trailer(body, "txflow-stats-1"))
    _write(root, "quarantine/chunk-000000000000.csv",
           "chunk,record,byte_offset,reason,raw\n"
           "landing_zone/chunk-000000000000.csv,3,200,amount '1e2' is not a decimal number,\"'C1','M1','F',1e2\"\n"
           "landing_zone/chunk-000000000000.csv,9,700,empty customer,\"'','M1','F',3\"\n")
    _write(root, "quarantine/chunk-000000005000.csv",
           "chunk,record,byte_offset,reason,raw\n"
           "landing_zone/chunk-000000005000.csv,5003,90,\"amount '" + HOSTILE.replace('"', '""') +
           "' is not a decimal number\",x\n")
    return expect
