"""The txflow package's bindings: golden cases written from SPEC §2-§4 by
hand, and one differential against the `txflow detect` binary.

The differential needs the binary: $TXFLOW_BINARY (ctest sets it), else
build/txflow beside this checkout.
"""

import csv
import glob
import io
import os
import shutil
import subprocess
import tempfile

import pytest

import txflow

RUPEE = 1_000_000  # weight units (10^-6) per rupee
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KEY = "landing_zone/chunk-000000000000.csv"


def test_thresholds_default_to_the_specs_values():
    t = txflow.Thresholds()
    assert (t.upgrade_min_txns, t.upgrade_count_pct, t.upgrade_weight_pct) == (
        50_000, 90, 10)
    assert (t.child_min_txns, t.child_max_avg_paise, t.dei_min_female) == (
        80, 2300, 100)
    t = txflow.Thresholds(upgrade_min_txns=10, dei_min_female=2)
    assert t.upgrade_min_txns == 10 and t.dei_min_female == 2
    assert t.child_min_txns == 80


def test_upgrade_golden_five_customers():
    # Counts A5 B3 C1 D1 E1 (total 11 > 10), average weights 1..5 rupees.
    # P90 of counts [1,1,1,3,5]: k = 360, lo 3, r 60 -> 4.2: only A.
    # P10 of averages [1..5]: k = 40, lo 0, r 40 -> 1.4 rupees: only A.
    m = txflow.MerchantState("M1")
    t = txflow.Thresholds(upgrade_min_txns=10)
    for rupees, (c, n) in enumerate([("A", 5), ("B", 3), ("C", 1), ("D", 1), ("E", 1)], 1):
        for _ in range(n):
            m.apply(c, "M", 100, rupees * RUPEE)
    assert m.evaluate(t) == [("PatId1", "A", "M1")]
    # At most once, ever.
    m.apply("A", "M", 100, RUPEE)
    assert m.evaluate(t) == []


def test_upgrade_needs_more_than_the_threshold():
    m = txflow.MerchantState("M1")
    for _ in range(10):
        m.apply("A", "F", 100, RUPEE)
    assert m.evaluate(txflow.Thresholds(upgrade_min_txns=10)) == []
    m.apply("A", "F", 100, RUPEE)
    assert m.evaluate(txflow.Thresholds(upgrade_min_txns=10)) == [("PatId1", "A", "M1")]


def test_child_golden_at_the_boundary():
    # 80 rows: amount_sum < 2300 * 80 fires; one paisa more does not.
    below, at = txflow.MerchantState("M"), txflow.MerchantState("M")
    for i in range(80):
        below.apply("C", "F", 2299 if i == 0 else 2300)
        at.apply("C", "F", 2300)
    assert below.evaluate(txflow.Thresholds()) == [("PatId2", "C", "M")]
    assert at.evaluate(txflow.Thresholds()) == []
    # 79 rows are not enough, however small.
    few = txflow.MerchantState("M")
    few.apply_rows(["C"] * 79, ["F"] * 79, [1] * 79)
    assert few.evaluate(txflow.Thresholds()) == []


def test_dei_golden_with_first_gender():
    # 101 women and 102 men fire DEI-NEEDED; customerName is "".
    m = txflow.MerchantState("M9")
    for i in range(101):
        m.apply(f"F{i:03}", "F", 100)
    for i in range(101):
        m.apply(f"M{i:03}", "M", 100)
    assert m.evaluate(txflow.Thresholds()) == []  # 101 women, 101 men
    # A later 'F' row of a man changes nothing: his first gender counts.
    m.apply("M000", "F", 100)
    assert m.evaluate(txflow.Thresholds()) == []
    m.apply("M101", "M", 100)
    assert m.evaluate(txflow.Thresholds()) == [("PatId3", "", "M9")]
    m.apply("M102", "M", 100)
    assert m.evaluate(txflow.Thresholds()) == []


def test_evaluate_orders_by_pattern_then_customer():
    m = txflow.MerchantState("M")
    t = txflow.Thresholds(upgrade_min_txns=100, child_min_txns=1)
    m.apply_rows(["b", "a"] * 60, ["F", "M"] * 60, [100] * 120)
    assert m.evaluate(t) == [
        ("PatId1", "a", "M"), ("PatId1", "b", "M"),
        ("PatId2", "a", "M"), ("PatId2", "b", "M")]
    assert txflow.action_type("PatId1") == "UPGRADE"
    assert txflow.action_type("PatId3") == "DEI-NEEDED"


def test_apply_rows_equals_apply_one_by_one():
    t = txflow.Thresholds(upgrade_min_txns=20, child_min_txns=3)
    rows = [(f"C{i % 7}", "FM"[i % 2], 100 + 37 * i) for i in range(60)]
    one, batch = txflow.MerchantState("M"), txflow.MerchantState("M")
    for c, g, a in rows:
        one.apply(c, g, a)
    batch.apply_rows([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    assert one.evaluate(t) == batch.evaluate(t)
    assert one.serialize() == batch.serialize()


def test_restored_state_still_fires_and_never_twice():
    t = txflow.Thresholds(child_min_txns=80)
    m = txflow.MerchantState("M")
    m.apply_rows(["C"] * 79 + ["D"] * 80, ["F"] * 159, [100] * 159)
    assert m.evaluate(t) == [("PatId2", "D", "M")]
    image = m.serialize()
    assert isinstance(image, bytes)
    r = txflow.MerchantState.restore(image)
    assert r.merchant_id == "M" and r.customers == 2
    assert r.serialize() == image
    r.apply("C", "F", 100)
    r.apply("D", "F", 100)
    assert r.evaluate(t) == [("PatId2", "C", "M")]  # D fired before the image


def test_restore_refuses_corrupt_images():
    image = txflow.MerchantState("M").serialize()
    with pytest.raises(txflow.TxflowError, match="merchant state"):
        txflow.MerchantState.restore(image[:-1])
    with pytest.raises(txflow.TxflowError, match="bytes after the image"):
        txflow.MerchantState.restore(image + b"x")
    with pytest.raises(ValueError):
        txflow.MerchantState.restore(b"\x01garbage")


def test_importance_table_means_and_weighted_apply():
    table = txflow.ImportanceTable.parse(
        "Source,Target,Weight,typeTrans,fraud\n"
        "'C1','M1',0.0000005,'es_food',0\n"
        "'C1','M1',0.0000004,'es_food',0\n"
        "'C2','M1',2.5,'es_food',0\n", "mem://t/imp.csv")
    assert len(table) == 2
    assert table.find("C1", "M1", "es_food") == 0  # 0.45 units rounds to 0
    assert table.find("C2", "M1", "es_food") == 2_500_000
    assert table.find("C2", "M1", "es_travel") is None
    weighted, plain = txflow.MerchantState("M1"), txflow.MerchantState("M1")
    weighted.apply_weighted("C2", "F", 100, "es_food", table)
    plain.apply("C2", "F", 100, 2_500_000)
    assert weighted.serialize() == plain.serialize()
    batch = txflow.MerchantState("M1")
    batch.apply_rows(["C2"], ["F"], [100], categories=["es_food"], importance=table)
    assert batch.serialize() == plain.serialize()
    with pytest.raises(txflow.TxflowError, match="mem://t/bad.csv"):
        txflow.ImportanceTable.parse("Source,Target,Weight,typeTrans\nC,M,x,c\n",
                                     "mem://t/bad.csv")


def test_sums_past_int64_raise():
    m = txflow.MerchantState("M1")
    with pytest.raises(txflow.TxflowError, match="leaves the exact 64-bit range"):
        m.apply_rows(["C1"] * 93, ["F"] * 93, [10_000_000_000_000] * 93)


def test_decode_chunk_good_and_bad_rows():
    text = ("step,customer,gender,merchant,category,amount\n"
            "0,'C1','F','M1','es_food',4.55\n"
            "1,'C2','E','M1','es_food',1e2\n"
            "2,\"C\"\"3\",M,M2,,0.125\n"
            "3,'C4','M'\n")
    # Byte offsets: the header is 46 bytes, the rows 31, 30 and 21.
    rows, quarantine, bad = txflow.decode_chunk(text, KEY, 0, False)
    assert rows == [("C1", "M1", "", "F", 455), ('C"3', "M2", "", "M", 13)]
    assert bad == 2
    assert list(csv.reader(io.StringIO(quarantine))) == [
        ["chunk", "record", "byte_offset", "reason", "raw"],
        [KEY, "1", "77", "amount '1e2' is not a decimal number",
         "1,'C2','E','M1','es_food',1e2"],
        [KEY, "3", "128", "has 3 fields, header has 6", "3,'C4','M'"],
    ]
    # With an importance table the category is required and decoded.
    rows, _, bad = txflow.decode_chunk(text.encode(), KEY, 0, True)
    assert rows == [("C1", "M1", "es_food", "F", 455)] and bad == 3
    assert txflow.decode_chunk("customer,merchant,gender,amount\nC,M,,1\n", KEY, 7,
                               False) == ([], "chunk,record,byte_offset,reason,raw\n"
                                          f"{KEY},7,32,empty gender,\"C,M,,1\"\n", 1)
    # A chunk of good rows has no quarantine text.
    assert txflow.decode_chunk("customer,merchant,gender,amount\nC,M,X,1\n", KEY, 7,
                               False) == ([("C", "M", "", "", 100)], "", 0)


def test_decode_chunk_columns_is_decode_chunk_as_bytes_columns():
    text = ("step,customer,gender,merchant,category,amount\n"
            "0,'C1','F','M1','es_food',4.55\n"
            "1,'C2','E','M1','es_food',1e2\n"
            "2,\"C\"\"3\",M,M2,,0.125\n")
    c = txflow.decode_chunk_columns(text, KEY, 10, False)
    assert c["customer"] == [b"C1", b'C"3'] and c["merchant"] == [b"M1", b"M2"]
    assert c["category"] == [b"", b""] and c["gender"] == ["F", "M"]
    assert c["amount_paise"] == [455, 13]
    assert c["record"] == [10, 12]  # source record numbers, the bad one skipped
    assert (c["bad_rows"], c["records"]) == (1, 3)
    assert c["quarantine"] == txflow.decode_chunk(text, KEY, 10, False)[1].encode()


def test_merchant_aggregates_and_pairs():
    m = txflow.MerchantState(b"M1")
    assert m.pair("C1") is None
    m.apply("C1", "F", 150)
    m.apply(b"C1", "M", -50)
    m.apply("C2", "M", 10, 7)
    assert (m.total, m.female_customers, m.male_customers) == (3, 1, 1)
    assert m.pair("C1") == (2, 100, 100 * 10_000, "F")
    assert m.pair(b"C2") == (1, 10, 7, "M")
    m2 = txflow.MerchantState.restore(m.serialize())
    assert m2.pair("C1") == m.pair("C1") and m2.total == 3


def test_order_detections_is_chunk_then_spec_order_bytewise():
    rows = [(20, "PatId1", b"B", b"M1", "x"), (10, "PatId3", b"", b"M0", "y"),
            (10, "PatId1", b"\xff", b"M1", "z"), (10, "PatId1", b"Z", b"M1", "w"),
            (10, "PatId2", b"A", b"M0", "v"), (10, "PatId1", "A", "M2", "u")]
    assert [r[4] for r in txflow.order_detections(rows)] == [
        "w", "z", "u", "v", "y", "x"]
    with pytest.raises(ValueError, match="unknown pattern id"):
        txflow.order_detections([(1, "PatId9", "", "M")])


def test_detection_file_names_and_text():
    assert txflow.detection_file_key(1700000000, 7) == \
        "detections/detections_1700000000_000007.csv"
    assert txflow.parse_detection_file_seq(
        "detections/detections_1700000000_000007.csv") == 7
    assert txflow.parse_detection_file_seq("detections/other.csv") is None
    assert txflow.chunk_key(10001) == "landing_zone/chunk-000000010001.csv"
    assert txflow.parse_chunk_key("landing_zone/chunk-000000010001.csv") == 10001
    assert txflow.quarantine_key(1) == "quarantine/chunk-000000000001.csv"
    tz = txflow.parse_timezone("Asia/Kolkata")
    assert tz == 330
    assert txflow.format_timestamp(0, tz) == "1970-01-01T05:30:00.000+05:30"
    text = txflow.encode_detection_file(
        [("PatId2", b"C,1", b"M1", 1000), ("PatId3", "", "M2", 2000)], 0, 0)
    assert text == (b"YStartTime,detectionTime,patternId,ActionType,customerName,"
                    b"MerchantId\n"
                    b"1970-01-01T00:00:00.000+00:00,1970-01-01T00:00:01.000+00:00,"
                    b"PatId2,CHILD,\"C,1\",M1\n"
                    b"1970-01-01T00:00:00.000+00:00,1970-01-01T00:00:02.000+00:00,"
                    b"PatId3,DEI-NEEDED,\"\",M2\n")
    assert txflow.parse_amount_paise("23") == 2300
    with pytest.raises(txflow.TxflowError):
        txflow.parse_amount_paise("1e2")
    with pytest.raises(txflow.TxflowError):
        txflow.parse_timezone("Mars/Base")


def _spans(files):
    return [(f.seq, f.first, f.count) for f in files]


def test_detection_file_cursor_splits_like_the_kernel():
    # The same cases as src/detector/detection_file_test.cc, by hand:
    # 50 to a file, numbered from 1, a flush writes the rest as a short file.
    assert txflow.DETECTIONS_PER_FILE == 50
    c = txflow.DetectionFileCursor()
    assert _spans(c.add(49)) == [] and (c.files, c.pending) == (0, 49)
    assert _spans(c.add(1)) == [(1, 0, 50)] and (c.files, c.pending) == (1, 0)
    c = txflow.DetectionFileCursor()
    assert _spans(c.add(120)) == [(1, 0, 50), (2, 50, 50)]
    assert (c.files, c.pending) == (2, 20)
    c = txflow.DetectionFileCursor()
    assert _spans(c.add(30)) == []
    assert (c.file_seq_of(30), c.file_seq_of(49), c.file_seq_of(50)) == (1, 1, 2)
    assert _spans(c.add(30)) == [(1, 0, 50)]
    assert _spans(c.add(95)) == [(2, 0, 50), (3, 50, 50)]
    assert (c.files, c.pending) == (3, 5)
    c = txflow.DetectionFileCursor(files=3, pending=7)
    assert _spans(c.flush()) == [(4, 0, 7)]
    assert (c.files, c.pending, c.file_seq_of(0)) == (4, 0, 5)
    assert _spans(txflow.DetectionFileCursor(2, 0).flush()) == []
    assert _spans(txflow.DetectionFileCursor(0, 73).flush()) == [
        (1, 0, 50), (2, 50, 23)]
    c = txflow.DetectionFileCursor(4, 130)
    assert [c.file_seq_of(i) for i in (0, 49, 50, 129, 130)] == [5, 5, 6, 7, 7]
    assert c.add(0) == [txflow.DetectionFileSpan(5, 0, 50),
                        txflow.DetectionFileSpan(6, 50, 50)]
    assert c.pending == 30


def test_detection_file_is_named_by_its_last_rows_second():
    rows = [("PatId2", b"C,1", b"M1", 1_700_000_000_000),
            ("PatId3", "", "M2", 1_700_000_002_999)]
    key, text = txflow.detection_file(7, rows, 0, 0)
    assert key == "detections/detections_1700000002_000007.csv"
    assert text == txflow.encode_detection_file(rows, 0, 0)
    with pytest.raises(ValueError):
        txflow.detection_file(1, [], 0, 0)


def test_decode_chunk_missing_column_is_an_error():
    with pytest.raises(txflow.TxflowError) as e:
        txflow.decode_chunk("customer,merchant,amount\nC,M,1\n", KEY, 0, False)
    assert str(e.value) == KEY + ": header has no 'gender' column"
    with pytest.raises(txflow.TxflowError, match="needed with an importance table"):
        txflow.decode_chunk("customer,merchant,gender,amount\n", KEY, 0, True)


def test_non_utf8_bytes_round_trip():
    text = b"customer,merchant,gender,amount\nC\xff,M\xfe,F,1\n"
    rows, _, _ = txflow.decode_chunk(text, KEY, 0, False)
    customer, merchant = rows[0][0], rows[0][1]
    assert customer.encode("utf-8", "surrogateescape") == b"C\xff"
    m = txflow.MerchantState(merchant)
    m.apply_rows([customer] * 80, ["F"] * 80, [1] * 80)
    assert m.evaluate(txflow.Thresholds()) == [("PatId2", customer, merchant)]


# --- Differential: the Spark job's glue, in miniature, against the binary ---


def _binary():
    b = os.environ.get("TXFLOW_BINARY") or os.path.join(REPO, "build", "txflow")
    if not os.access(b, os.X_OK):
        pytest.skip(f"no txflow binary at {b} (make build)")
    return b


def _key(s):
    return s.encode("utf-8", "surrogateescape")


def _python_engine(root, importance_path, thresholds):
    """Chunks in order; per chunk: decode, apply each merchant's rows in chunk
    order, evaluate the touched merchants, order as SPEC §4.1."""
    table = None
    if importance_path:
        with open(importance_path, "rb") as f:
            table = txflow.ImportanceTable.parse(f.read(), importance_path)
    states = {}
    out = []
    for path in sorted(glob.glob(os.path.join(root, "landing_zone", "chunk-*.csv"))):
        name = os.path.basename(path)
        start = int(name[len("chunk-"):-len(".csv")])
        with open(path, "rb") as f:
            rows, _, _ = txflow.decode_chunk(f.read(), "landing_zone/" + name, start,
                                             table is not None)
        by_merchant = {}
        for customer, merchant, category, gender, paise in rows:
            cols = by_merchant.setdefault(merchant, ([], [], [], []))
            cols[0].append(customer)
            cols[1].append(gender)
            cols[2].append(paise)
            cols[3].append(category)
        found = []
        for merchant in sorted(by_merchant, key=_key):
            c, g, a, k = by_merchant[merchant]
            m = states.get(merchant)
            if m is None:
                m = states[merchant] = txflow.MerchantState(merchant)
            if table is not None:
                m.apply_rows(c, g, a, categories=k, importance=table)
            else:
                m.apply_rows(c, g, a)
            found += m.evaluate(thresholds)
        found.sort(key=lambda d: (d[0], _key(d[2]), _key(d[1])))
        out += found
    return out


def _binary_detections(root):
    out = []
    for path in sorted(glob.glob(os.path.join(root, "detections", "*.csv")),
                       key=lambda p: p.rsplit("_", 1)[1]):
        with open(path, newline="", encoding="utf-8", errors="surrogateescape") as f:
            rows = list(csv.reader(f))
        assert rows[0][2:] == ["patternId", "ActionType", "customerName", "MerchantId"]
        for r in rows[1:]:
            assert txflow.action_type(r[2]) == r[3]
            out.append((r[2], r[4], r[5]))
    return out


@pytest.mark.parametrize("with_importance", [False, True])
def test_python_glue_matches_txflow_detect(with_importance):
    binary = _binary()
    base = os.environ.get("TXFLOW_TEST_WORK")
    if base:
        os.makedirs(base, exist_ok=True)
    work = tempfile.mkdtemp(prefix="txflow-py-", dir=base)
    try:
        data, root = os.path.join(work, "data"), os.path.join(work, "root")
        run = lambda *a: subprocess.run([binary, *a], check=True, capture_output=True)
        run("gen", "--out", data, "--rows", "60000", "--seed", "7")
        run("chunk", "--source", os.path.join(data, "transactions.csv"), "--root", root,
            "--drain", "--chunk-rows", "5000")
        importance = os.path.join(data, "CustomerImportance.csv") if with_importance else None
        flags = ["--upgrade-min-txns", "2000", "--child-min-txns", "20",
                 "--dei-min-female", "10"]
        run("detect", "--root", root, "--drain", *flags,
            *(["--importance", importance] if importance else []))
        expected = _binary_detections(root)
        got = _python_engine(root, importance, txflow.Thresholds(
            upgrade_min_txns=2000, child_min_txns=20, dei_min_female=10))
        assert len(expected) > 50, "the data set should make every pattern fire"
        assert {d[0] for d in expected} == {"PatId1", "PatId2", "PatId3"}
        assert got == expected
    finally:
        shutil.rmtree(work, ignore_errors=True)
