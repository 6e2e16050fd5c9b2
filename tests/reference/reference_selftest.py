#!/usr/bin/env python3
"""Self-test of reference_detector.py's pieces, against values worked out by
hand from SPEC §2-§4 (the arithmetic is in the comments), not from any
program's output."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import reference_detector as rd  # noqa: E402

HEADER = b"step,customer,age,gender,zipcodeOri,merchant,zipMerchant,category,amount,fraud\n"


def row(customer, merchant, gender, amount, category="es_food"):
    return ("0,'%s','4','%s','28007','%s','28007','%s',%s,0\n" % (
        customer, gender, merchant, category, amount)).encode()


class Percentile(unittest.TestCase):
    def test_parts(self):
        # n=10, p=90: k=810, lo=8, r=10, hi=9.
        self.assertEqual(rd.percentile_parts(10, 90), (8, 9, 10))
        # n=10, p=10: k=90, lo=0, r=90, hi=1.
        self.assertEqual(rd.percentile_parts(10, 10), (0, 1, 90))
        # n=1: k=0, hi=min(1, 0)=0.
        self.assertEqual(rd.percentile_parts(1, 90), (0, 0, 0))
        # n=5, p=100: k=400, lo=4, r=0, hi=min(5, 4)=4.
        self.assertEqual(rd.percentile_parts(5, 100), (4, 4, 0))
        # n=5, p=0: everything 0.
        self.assertEqual(rd.percentile_parts(5, 0), (0, 1, 0))

    def test_counts_exact(self):
        v = list(range(1, 11))  # P90 = 9 + (10-9)·10/100 = 9.1
        self.assertTrue(rd.count_at_or_above_percentile(10, v, 90))
        self.assertFalse(rd.count_at_or_above_percentile(9, v, 90))
        # Ties: nine 1s and a 5. P90 = 1 + (5-1)·10/100 = 1.4: 1 is below.
        v = [1] * 9 + [5]
        self.assertFalse(rd.count_at_or_above_percentile(1, v, 90))
        self.assertTrue(rd.count_at_or_above_percentile(2, v, 90))
        # [10,20,30,40], p=50: k=150, lo=1, r=50: P = 20 + 10·50/100 = 25.
        v = [10, 20, 30, 40]
        self.assertFalse(rd.count_at_or_above_percentile(24, v, 50))
        self.assertTrue(rd.count_at_or_above_percentile(25, v, 50))
        # p=0 is the minimum, p=100 the maximum.
        self.assertTrue(rd.count_at_or_above_percentile(10, v, 0))
        self.assertFalse(rd.count_at_or_above_percentile(39, v, 100))

    def test_doubles(self):
        # [0.5, 1.5], p=10: k=10, lo=0, r=10: 0.5 + 1.0·10/100 = 0.6.
        self.assertEqual(rd.percentile_double([0.5, 1.5], 10), 0.5 + 0.1)
        # [1, 2, 3, 4, 5] p=100: v[4] = 5.
        self.assertEqual(rd.percentile_double([1.0, 2.0, 3.0, 4.0, 5.0], 100),
                         5.0)
        # Equal neighbours: exactly the tied value.
        self.assertEqual(rd.percentile_double([2.5] * 7 + [9.0], 10), 2.5)


class Decimal(unittest.TestCase):
    def paise(self, text):
        return rd.parse_amount_paise(text)[0]

    def test_valid(self):
        self.assertEqual(self.paise(b"4.55"), 455)
        self.assertEqual(self.paise(b"12"), 1200)
        self.assertEqual(self.paise(b"0.5"), 50)
        self.assertEqual(self.paise(b"3."), 300)
        self.assertEqual(self.paise(b".25"), 25)
        self.assertEqual(self.paise(b"+5"), 500)
        self.assertEqual(self.paise(b"-.5"), -50)

    def test_leading_zeros(self):
        self.assertEqual(self.paise(b"0000000000000001.00"), 100)
        self.assertEqual(self.paise(b"0023.50"), 2350)
        self.assertEqual(self.paise(b"0" * 40 + b"7"), 700)

    def test_half_away_from_zero(self):
        self.assertEqual(self.paise(b"0.125"), 13)  # 12.5 → 13
        self.assertEqual(self.paise(b"-0.125"), -13)  # -12.5 → -13
        self.assertEqual(self.paise(b"4.555"), 456)
        self.assertEqual(self.paise(b"0.005"), 1)
        self.assertEqual(self.paise(b"0.004"), 0)
        self.assertEqual(self.paise(b"-0.005"), -1)
        self.assertEqual(self.paise(b"22.995"), 2300)
        self.assertEqual(self.paise(b"22.9949999"), 2299)

    def test_invalid(self):
        for bad in [b"1e2", b"4.55e0", b"", b".", b"+", b"-", b"1 2", b"1.2.3",
                    b"--5", b"abc", b"0x10", b" 4.55", b"4,55",
                    "\u0661".encode()]:
            self.assertIsNone(self.paise(bad), bad)

    def test_range(self):
        self.assertEqual(self.paise(b"100000000000.00"), 10**13)
        self.assertEqual(self.paise(b"100000000000.004"), 10**13)  # rounds in
        self.assertIsNone(self.paise(b"100000000000.005"))  # .01 over
        self.assertIsNone(self.paise(b"-100000000000.01"))
        self.assertEqual(self.paise(b"-100000000000"), -10**13)


class Csv(unittest.TestCase):
    def test_records(self):
        data = b'h1,h2\n"a\nb",c\n\'x\',"y""z"\r\nlast'
        self.assertEqual(rd.split_records(data),
                         [b"h1,h2\n", b'"a\nb",c\n', b"'x',\"y\"\"z\"\r\n",
                          b"last"])
        # A quote inside a bare field is an ordinary byte.
        self.assertEqual(rd.split_records(b'ab"c,d\ne\n'),
                         [b'ab"c,d\n', b"e\n"])
        # Quoted after blanks: still quoted.
        self.assertEqual(rd.split_records(b'a,  "x\ny"\nz\n'),
                         [b'a,  "x\ny"\n', b"z\n"])

    def test_fields(self):
        self.assertEqual(rd.split_fields(b'"a\nb",c\n')[0], [b"a\nb", b"c"])
        self.assertEqual(rd.split_fields(b"'x',\"y\"\"z\"\r\n")[0],
                         [b"x", b'y"z'])
        self.assertEqual(rd.split_fields(b"  \"a,b\"  , 'c' ,d")[0],
                         [b"a,b", b"c", b"d"])
        # Single quotes do not protect a comma.
        self.assertEqual(rd.split_fields(b"'a,b'")[0], [b"'a", b"b'"])
        # Trim first, then one layer of quotes: inner blanks stay.
        self.assertEqual(rd.split_fields(b"' 4.55 '")[0], [b" 4.55 "])
        self.assertEqual(rd.split_fields(b"\"'C1'\"")[0], [b"'C1'"])
        self.assertEqual(rd.split_fields(b"''")[0], [b""])
        self.assertEqual(rd.split_fields(b"'")[0], [b"'"])
        self.assertEqual(rd.split_fields(b"\n")[0], [b""])
        self.assertEqual(rd.split_fields(b"a,")[0], [b"a", b""])

    def test_broken(self):
        self.assertIsNone(rd.split_fields(b'"ab"x,c')[0])
        self.assertIsNone(rd.split_fields(b'"ab" "c"')[0])
        self.assertIsNone(rd.split_fields(b'"ab')[0])


class Weights(unittest.TestCase):
    def table(self, *weights):
        lines = [b"Source,Target,Weight,typeTrans,fraud"]
        lines += [b"'C1','M1',%s,'cat',0" % w for w in weights]
        return rd.load_importance(b"\n".join(lines) + b"\n")[
            (b"C1", b"M1", b"cat")]

    def test_mean_rounded_once(self):
        # (0.5 + 0.4)/2 = 0.45 µ → 0 (rounding each row first would give 1).
        self.assertEqual(self.table(b"0.0000005", b"0.0000004"), 0)
        # (1.5 + 1.4)/2 = 1.45 µ → 1 (rows first: (2 + 1)/2 = 1.5 → 2).
        self.assertEqual(self.table(b"0.0000015", b"0.0000014"), 1)
        # -0.45 µ → 0; -1.5 µ → -2 (half away from zero).
        self.assertEqual(self.table(b"-0.0000005", b"-0.0000004"), 0)
        self.assertEqual(self.table(b"-0.0000015"), -2)
        # (1 + 2 + 2.5)/3 = 1.8333… rupees = 1833333.3 µ → 1833333.
        self.assertEqual(self.table(b"1", b"2", b"2.5"), 1833333)
        self.assertEqual(self.table(b"0.5"), 500000)

    def test_no_match_weight_is_amount(self):
        imp = (b"Source,Target,Weight,typeTrans,fraud\n"
               b"'C1','M1',0.25,'es_food',0\n")
        d = rd.Detector(rd.Thresholds(), rd.load_importance(imp))
        hv = rd.split_fields(HEADER)[0]
        d.apply_chunk(hv, [row("C1", "M1", "F", "4.55"),
                           row("C1", "M1", "F", "4.55", "es_tech"),
                           row("C2", "M1", "F", "4.55")], 0)
        pairs = d.merchants[b"M1"].customers
        # 0.25 rupees = 250000 µ; 4.55 rupees = 455 paise = 4550000 µ.
        self.assertEqual(pairs[b"C1"].weight, 250000 + 4550000)
        self.assertEqual(pairs[b"C2"].weight, 455 * 10000)


class Patterns(unittest.TestCase):
    def run_rows(self, rows, thresholds, chunk_rows=10000):
        return rd.reference_run(HEADER + b"".join(rows), chunk_rows, None,
                                thresholds)

    def test_dei_counts_first_gender(self):
        rows = []
        # MX: 150 customers first F then one M row; 120 M only.
        # Pair genders: F 150, M 120 → 150 < 120 is false: no DEI.
        rows += [row("X%d" % i, "MX", "F", "10") for i in range(150)]
        rows += [row("Y%d" % i, "MX", "M", "10") for i in range(120)]
        rows += [row("X%d" % i, "MX", "M", "10") for i in range(150)]
        # MY: 110 F only; 130 first M, later F.
        # Pair genders: F 110 > 100, M 130 > 110: DEI.
        rows += [row("Z%d" % i, "MY", "M", "10") for i in range(130)]
        rows += [row("W%d" % i, "MY", "F", "10") for i in range(110)]
        rows += [row("Z%d" % i, "MY", "F", "10") for i in range(130)]
        t = rd.Thresholds(dei_min_female=100)
        r = self.run_rows(rows, t)
        self.assertEqual(r.detections,
                         [(b"PatId3", b"DEI-NEEDED", b"", b"MY")])
        # In chunks of 7 the same: the later rows never change the counts.
        self.assertEqual(self.run_rows(rows, t, 7).detections, r.detections)

    def test_dei_needs_more_than_threshold(self):
        rows = [row("F%d" % i, "M1", "F", "1") for i in range(100)]
        rows += [row("M%d" % i, "M1", "M", "1") for i in range(101)]
        # female = 100 is not > 100.
        self.assertEqual(self.run_rows(rows, rd.Thresholds()).detections, [])

    def test_child_boundary(self):
        # 80 × 22.995 → 80 × 2300 paise: not < 2300·80.
        rows = [row("C1", "M1", "U", "22.995") for _ in range(80)]
        # 80 × 22.994 → 2299 each: fires, once.
        rows += [row("C2", "M1", "U", "22.994") for _ in range(85)]
        r = self.run_rows(rows, rd.Thresholds(), 10)
        self.assertEqual(r.detections, [(b"PatId2", b"CHILD", b"C2", b"M1")])

    def test_upgrade_and_order(self):
        # 5 transactions > threshold 4. Counts: A 3, B 1, C 1; avg weight
        # (µ): A 10000 (1 paisa), B 1000000, C 10000.
        # P90 of counts [1,1,3]: k=180, lo=1, r=80 → 1 + 2·0.8 = 2.6: A only.
        # P10 of avgs [10000,10000,1000000]: k=20, lo=0, r=20 → 10000.
        rows = [row("A", "M1", "F", "0.01")] * 3 + [
            row("B", "M1", "M", "1"), row("C", "M1", "M", "0.01")]
        r = self.run_rows(rows, rd.Thresholds(upgrade_min_txns=4,
                                              dei_min_female=0))
        # Order: PatId1 before PatId3 (DEI: female 1 > 0, 1 < 2).
        self.assertEqual(r.detections, [
            (b"PatId1", b"UPGRADE", b"A", b"M1"),
            (b"PatId3", b"DEI-NEEDED", b"", b"M1")])

    def test_bad_rows_change_nothing(self):
        rows = [row("C1", "M1", "F", "1e2"), row("C1", "M1", "F", ""),
                b"0,'C1','4','F','28007','M1','28007','x',5\n",
                b"\n", row("C1", "M1", "M", "5")]
        d = self.run_rows(rows, rd.Thresholds())
        self.assertEqual(d.quarantined, [0, 1, 2, 3])

    def test_files_of_fifty(self):
        rows = [row("C%03d" % i, "M1", "U", "1") for i in range(120)]
        rows = [r for r in rows for _ in range(2)]
        r = self.run_rows(rows, rd.Thresholds(child_min_txns=2))
        self.assertEqual(r.files, [50, 50, 20])
        # Byte-wise customer order within the chunk.
        names = [d[2] for d in r.detections]
        self.assertEqual(names, sorted(names))


class EvidenceCells(unittest.TestCase):
    def test_fixed_and_micro(self):
        self.assertEqual(rd.fixed(420, 2), "4.20")
        self.assertEqual(rd.fixed(-5, 6), "-0.000005")
        # 2/3 = 0.6666666...: rounds up at the 6th decimal.
        self.assertEqual(rd.micro_text(rd.Fraction(2, 3)), "0.666667")
        # -22.9901245 is not a half; -0.0000005 is: away from zero.
        self.assertEqual(rd.micro_text(rd.Fraction(-5, 10_000_000)),
                         "-0.000001")

    def test_rows_per_pattern(self):
        # C1 at M1: 3 transactions of 10.00 (CHILD: 3 >= 2, 3000 < 2300·3 is
        # false at 23.00; with 10.01 max it is 3000 < 3003 -> yes); average
        # 10.000000 rupees. Two men C1, C2 and one woman C3: DEI with min 0.
        rows = [row("C1", "M1", "M", "10.00")] * 3 + [
            row("C2", "M1", "M", "1.00"), row("C3", "M1", "F", "1.00")]
        t = rd.Thresholds(upgrade_min_txns=10**9, child_min_txns=2,
                          child_max_avg_paise=1001, dei_min_female=0)
        r = rd.reference_run(HEADER + b"".join(rows), 10000, None, t)
        self.assertEqual([d[0] for d in r.detections], [b"PatId2", b"PatId3"])
        child, dei = r.evidence
        self.assertEqual((child["row"], child["chunk"], child["child_count"],
                          child["child_avg_amount"], child["merchant_total"],
                          child["child_max_avg"], child["count_p90"]),
                         ("1", "landing_zone/chunk-000000000000.csv", "3",
                          "10.000000", "5", "10.01", ""))
        self.assertEqual((dei["row"], dei["customerName"],
                          dei["female_customers"], dei["male_customers"],
                          dei["child_count"]), ("2", "", "1", "2", ""))


if __name__ == "__main__":
    unittest.main()
