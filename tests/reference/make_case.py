#!/usr/bin/env python3
"""Seeded generator of hostile-but-valid-header inputs for txflow's detector.

Writes a BankSim-layout source CSV (sometimes shuffled / extra columns,
other header case, CRLF) and a BankSim-network importance CSV, built to hit
the places where the engine's indexes and parsers can go wrong:

- one big merchant with thousands of customers (> 128 keys per index block),
  crossing the UPGRADE threshold mid-stream, skewed counts and a few common
  amounts / weights so percentile ties and boundaries happen;
- medium merchants for DEI (gender mixes) and more UPGRADE merchants;
- CHILD pairs with averages around ₹23 (22.995 rounds to 23.00, ...);
- quoted values: double quotes with commas, "" and newlines; BankSim single
  quotes; blanks around; the same key written in different ways;
- amounts with leading zeros, `3.`, `.25`, `+`, more than two decimals,
  negative amounts; bad rows of every kind (field count, empty required
  value, unparsable amount, broken quoting, out of range).

Three features switch off the inputs on which the current engine is KNOWN to
deviate from the amended spec:
  --no-gender-flips      (a) every (customer, merchant) pair keeps one gender
  --no-weight-traps      (b) importance weights have at most 6 decimals
  --no-long-zeros        (c) amounts have at most 15 integer digits, zeros
                             included

Usage:
  make_case.py --seed 1 --records 3000 --big-customers 1500 --out DIR
Writes DIR/source.csv, DIR/importance.csv and DIR/case.json (the knobs and
suggested thresholds).
"""

import argparse
import json
import os
import random

BASE_COLUMNS = ["step", "customer", "age", "gender", "zipcodeOri", "merchant",
                "zipMerchant", "category", "amount", "fraud"]
CATEGORIES = ["es_transportation", "es_food", "es_health", "es_tech",
              "es_wellnessandbeauty", "es_otherservices"]
# Common amounts (rupee texts) so averages tie.
COMMON_AMOUNTS = ["4.55", "10", "12.5", "26.99", "50", "100.10", "250.75",
                  "31.5", "47"]
COMMON_WEIGHTS = ["0.5", "1.25", "2", "3.333333", "10", "0.75"]


def decimal_text(units, scale):
    """The decimal text of units · 10^-scale, e.g. (5000005, 7) → 0.5000005."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**scale)
    return "%s%d.%0*d" % (sign, whole, scale, frac)


class Features:
    def __init__(self, gender_flips=True, weight_traps=True, long_zeros=True):
        self.gender_flips = gender_flips
        self.weight_traps = weight_traps
        self.long_zeros = long_zeros


class Gen:
    def __init__(self, seed, records, big_customers, feats):
        self.rng = random.Random(seed)
        self.seed = seed
        self.target = records
        self.big_customers = big_customers
        self.f = feats
        self.rows = []  # (position, kind, spec)
        self.pairs = {}  # (customer, merchant) -> [categories...]
        self.pair_gender = {}  # without gender flips: (customer, merchant) -> g
        self.used_customers = set()
        self.used_merchants = set()

    # ------------------------------------------------------------ names
    def new_id(self, prefix, used):
        rng = self.rng
        while True:
            roll = rng.random()
            if roll < 0.88:
                name = "%s%d" % (prefix, rng.randrange(10**9, 2 * 10**9))
            elif roll < 0.92:
                name = "%s%d" % (prefix, rng.randrange(1, 100))  # C7 vs C70
            elif roll < 0.94:
                name = "%s,%d" % (prefix, rng.randrange(1000))  # comma
            elif roll < 0.96:
                name = '%s"q%d' % (prefix, rng.randrange(1000))  # quote
            elif roll < 0.97:
                name = "%s\nnl%d" % (prefix, rng.randrange(1000))  # newline
            elif roll < 0.975:
                name = " %s%d " % (prefix, rng.randrange(1000))  # blanks kept
            elif roll < 0.985:
                name = "%s\u00e9%d" % (prefix, rng.randrange(1000))  # UTF-8
            else:
                name = "%s%d" % (prefix.lower(), rng.randrange(1000))  # case
            if name not in used:
                used.add(name)
                return name

    def fmt_value(self, value):
        """One textual form of `value` (quoted / blanks)."""
        rng = self.rng
        needs_dq = ("," in value or '"' in value or "\n" in value or
                    value != value.strip(" \t") or value.startswith("'"))
        roll = rng.random()
        if needs_dq or roll < 0.10:
            text = '"' + value.replace('"', '""') + '"'
        elif roll < 0.80:
            text = "'" + value + "'"
        else:
            text = value
        r2 = rng.random()
        if r2 < 0.05:
            text = " " + text + "  "
        elif r2 < 0.07:
            text = "\t" + text
        return text

    # ------------------------------------------------------------ amounts
    def amount_text(self, base):
        """A valid textual form of the rupee amount `base` (a string), maybe
        with more decimals that round to the same paise or not."""
        rng = self.rng
        text = base
        roll = rng.random()
        neg = text.startswith("-")
        if neg:
            text = text[1:]
        whole, _, frac = text.partition(".")
        if roll < 0.10:
            # Leading zeros. With long zeros: past the engine's 15 digits.
            limit = 15 - len(whole)
            zeros = rng.randrange(1, 4)
            if self.f.long_zeros and rng.random() < 0.3:
                zeros = max(16 - len(whole), 1) + rng.randrange(3)
            zeros = zeros if self.f.long_zeros else min(zeros, max(limit, 0))
            whole = "0" * zeros + whole
        elif roll < 0.16 and not frac:
            frac = None  # "12."
        elif roll < 0.22:
            frac = (frac or "") + "0" * rng.randrange(1, 4)  # trailing zeros
        elif roll < 0.27:
            frac = (frac or "").ljust(2, "0")[:2] + rng.choice(
                ["5", "4", "49", "51", "500", "0001", "9"])  # > 2 decimals
        if whole == "0" and frac and rng.random() < 0.5:
            whole = ""  # ".25"
        if frac is None:
            out = whole + "."
        else:
            out = whole + ("." + frac if frac else "")
        if neg:
            out = "-" + out
        elif rng.random() < 0.03:
            out = "+" + out
        return out

    # ------------------------------------------------------------ rows
    def add_pair_rows(self, customer, merchant, n, genders, amounts,
                      categories=None, span=(0.0, 1.0)):
        """n chronological rows of one pair (genders / amounts: lists or one
        value), spread over a fraction of the file."""
        pos = sorted(self.rng.uniform(*span) for _ in range(n))
        if not self.f.gender_flips:
            # One gender per pair, whichever rows come first in the file.
            g0 = genders[0] if isinstance(genders, list) else genders
            genders = self.pair_gender.setdefault((customer, merchant), g0)
        cats = categories or [self.rng.choice(CATEGORIES)]
        for i in range(n):
            g = genders[i] if isinstance(genders, list) else genders
            a = amounts[i] if isinstance(amounts, list) else amounts
            c = self.rng.choice(cats)
            self.rows.append((pos[i], "good", (customer, merchant, g, a, c)))
            self.pairs.setdefault((customer, merchant), set()).add(c)

    def pair_genders(self, base, n):
        """The genders of a pair's n rows (first row first)."""
        if not self.f.gender_flips or n < 2 or self.rng.random() > 0.12:
            return base
        other = {"F": "M", "M": "F"}.get(base, self.rng.choice("FM"))
        g = [base] + [self.rng.choice([base, other, "E", "U"])
                      for _ in range(n - 1)]
        return g

    def base_gender(self):
        r = self.rng.random()
        return "F" if r < 0.45 else "M" if r < 0.90 else self.rng.choice(
            ["E", "U", "f", "m", "", "X"][:-2] + ["Unknown"])

    def skewed_count(self):
        return self.rng.choice([1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 8, 12])

    def build(self):
        rng = self.rng
        n = self.target
        # 1. The big merchant: ~55% of the rows.
        big = self.new_id("M", self.used_merchants)
        self.big = big
        budget = int(n * 0.55)
        big_rows = 0
        customers = [self.new_id("C", self.used_customers)
                     for _ in range(self.big_customers)]
        for i, c in enumerate(customers):
            cnt = self.skewed_count()
            if big_rows + cnt > budget and i > 130:
                cnt = 1
            g = self.base_gender()
            if i % 11 == 0:
                # Cheap customers: the common low amount, so P_low ties.
                amts = "4.55"
            elif i % 7 == 0:
                amts = [rng.choice(["-4.55", "-10"])] + [
                    rng.choice(COMMON_AMOUNTS) for _ in range(cnt - 1)]
            else:
                amts = [rng.choice(COMMON_AMOUNTS) for _ in range(cnt)]
            cats = rng.sample(CATEGORIES[:3], rng.choice([1, 1, 1, 2]))
            self.add_pair_rows(c, big, cnt, self.pair_genders(g, cnt), amts,
                               cats)
            big_rows += cnt
        self.big_rows = big_rows
        # Frequent customers: counts far above the rest, low and tied
        # weights, so P90 of counts and UPGRADE candidates move over time.
        self.trap_customers = []
        for c in customers[:40]:
            cnt = rng.randrange(8, 30)
            self.add_pair_rows(c, big, cnt, "M", "4.55", [CATEGORIES[0]],
                               span=(rng.random() * 0.5, 1.0))
            self.big_rows += cnt
            self.trap_customers.append(c)
        # 2. Medium merchants: DEI mixes.
        self.medium = []
        for k in range(3):
            m = self.new_id("M", self.used_merchants)
            self.medium.append(m)
            size = rng.randrange(60, 160)
            f_share = [0.40, 0.47, 0.55][k]
            for _ in range(size):
                c = self.new_id("C", self.used_customers)
                g = "F" if rng.random() < f_share else (
                    "M" if rng.random() < 0.9 else "U")
                cnt = rng.choice([1, 1, 2, 3])
                self.add_pair_rows(c, m, cnt, self.pair_genders(g, cnt),
                                   [rng.choice(COMMON_AMOUNTS)
                                    for _ in range(cnt)])
        # 3. A DEI trap merchant (first gender vs ever seen).
        if self.f.gender_flips:
            m = self.new_id("M", self.used_merchants)
            self.dei_trap = m
            for _ in range(40):  # first F, later M: female by the spec
                c = self.new_id("C", self.used_customers)
                self.add_pair_rows(c, m, 2, ["F", "M"], "10")
            for _ in range(35):  # M only
                c = self.new_id("C", self.used_customers)
                self.add_pair_rows(c, m, 1, "M", "10")
            m2 = self.new_id("M", self.used_merchants)
            for _ in range(36):  # F only
                c = self.new_id("C", self.used_customers)
                self.add_pair_rows(c, m2, 1, "F", "10")
            for _ in range(40):  # first M, later F
                c = self.new_id("C", self.used_customers)
                self.add_pair_rows(c, m2, 2, ["M", "F"], "10")
        # 3b. A percentile-rounding trap (threshold set U): two customers of
        # three rows each, in three categories whose importance means sum to
        # S1 = 3·2^51 + 1 and S2 = 3·2^51 + 3 µ. Their averages 2^51 + 0.5
        # and 2^51 + 1 are adjacent doubles, so P60 = v0 + (v1 − v0)·0.6
        # rounds to v1 in IEEE double: both are UPGRADE customers. A P
        # computed any other way (no interpolation, rationals) takes only
        # the first.
        m = self.new_id("M", self.used_merchants)
        self.ulp_trap = m
        self.fixed_weights = {}
        for total in (3 * 2**51 + 1, 3 * 2**51 + 3):
            c = self.new_id("C", self.used_customers)
            third = total // 3
            cats = CATEGORIES[:3]
            self.add_pair_rows(c, m, 3, "F", "10", categories=cats)
            # add_pair_rows picks a category per row at random: give every
            # row its own, in order, so each category is used once.
            mine = [r for r in self.rows if r[2] and r[2][0] == c]
            for row, cat in zip(mine, cats):
                i = self.rows.index(row)
                self.rows[i] = (row[0], row[1], row[2][:4] + (cat,))
            self.pairs[(c, m)] = set(cats)
            for cat, units in zip(cats, (third, third, total - 2 * third)):
                self.fixed_weights[(c, m, cat)] = [decimal_text(units, 6)]
        # 4. CHILD pairs: averages around ₹23.
        child_m = self.new_id("M", self.used_merchants)
        for j in range(8):
            c = self.new_id("C", self.used_customers)
            cnt = rng.choice([10, 12, 15, 81, 85])
            cnt = min(cnt, max(10, n // 40))
            kind = j % 4
            if kind == 0:
                amts = "22.99"
            elif kind == 1:
                amts = "22.995"  # rounds to 23.00: not < 23
            elif kind == 2:
                amts = ["23.004", "22.99"] * (cnt // 2) + ["5"] * (cnt % 2)
            else:
                amts = ["0.5", "45.50"] * (cnt // 2) + ["23"] * (cnt % 2)
            self.add_pair_rows(c, child_m, cnt, rng.choice("FMU"), amts,
                               span=(rng.random() * 0.5, 1.0))
        # 5. Small merchants fill the rest.
        small = [self.new_id("M", self.used_merchants)
                 for _ in range(max(5, n // 400))]
        pool = [self.new_id("C", self.used_customers)
                for _ in range(max(20, n // 6))]
        # Some big-merchant customers shop elsewhere too.
        pool += customers[:50]
        while len(self.rows) < n * 0.97:
            c = rng.choice(pool)
            m = rng.choice(small)
            cnt = rng.choice([1, 1, 2])
            amt = rng.choice(COMMON_AMOUNTS + ["-3", "999999.999", "0.004",
                                               "0.005", "-0.005",
                                               "100000000000.00",
                                               "100000000000.004"])
            if amt.startswith("100000000000"):
                cnt = 1
            self.add_pair_rows(c, m, cnt, self.pair_genders(
                self.base_gender(), cnt), amt)
        # 6. Bad rows, ~3%.
        for _ in range(max(12, n * 3 // 100)):
            self.rows.append((rng.random(), "bad", None))
        self.rows.sort(key=lambda r: r[0])

    # ------------------------------------------------------------ output
    def header(self):
        rng = self.rng
        cols = list(BASE_COLUMNS)
        if rng.random() < 0.5:
            cols += rng.sample(["note", "Extra Col", "id"], rng.randrange(1, 3))
        if rng.random() < 0.5:
            rng.shuffle(cols)
        out = []
        for c in cols:
            r = rng.random()
            name = (c.upper() if r < 0.2 else c.capitalize() if r < 0.4
                    else c)
            r = rng.random()
            if r < 0.1:
                name = '"%s"' % name  # quoted header names
            elif r < 0.15:
                name = " '%s' " % name
            out.append(name)
        return cols, out

    def extra_value(self, col):
        rng = self.rng
        if col == "step":
            return str(rng.randrange(180))
        if col == "age":
            return "'%d'" % rng.randrange(7)
        if col in ("zipcodeOri", "zipMerchant"):
            return "'28007'"
        if col == "fraud":
            return rng.choice(["0", "1"])
        r = rng.random()
        if r < 0.2:
            return '"free, text ""quoted""\nsecond line"'
        if r < 0.3:
            return "  'x'  "
        if r < 0.4:
            return ""
        return "n%d" % rng.randrange(100)

    def good_record(self, cols, spec):
        customer, merchant, gender, amount, category = spec
        vals = {"customer": self.fmt_value(customer),
                "merchant": self.fmt_value(merchant),
                "gender": self.fmt_value(gender),
                "category": self.fmt_value(category),
                "amount": self.amount_text(amount)}
        if self.rng.random() < 0.05:
            vals["amount"] = self.fmt_value(vals["amount"])
        return [vals[c] if c in vals else self.extra_value(c) for c in cols]

    def bad_record(self, cols):
        rng = self.rng
        spec = (self.new_id("C", self.used_customers), rng.choice(
            [self.big] + self.medium), rng.choice("FM"), "10", CATEGORIES[0])
        vals = self.good_record(cols, spec)
        i = {c: k for k, c in enumerate(cols)}
        kind = rng.randrange(14)
        if kind == 0:
            vals.append("extra")
        elif kind == 1:
            vals.pop()
        elif kind == 2:
            vals[i["customer"]] = "'C1,23'"  # single quotes do not protect
        elif kind == 3:
            return ""  # empty line
        elif kind == 4:
            vals[i[rng.choice(["customer", "merchant", "gender", "amount"])]] = \
                rng.choice(["", "''", '""', "  "])
        elif kind == 5:
            vals[i["amount"]] = rng.choice(
                ["1e2", "1.2.3", "abc", "1 2", "--5", ".", "+", '"4,55"',
                 "0x10", "\u0661\u0662", "4.55e0", "NaN", "inf", "- 4",
                 "1_000", "' 4.55 '", "'\"4\"'", "4.5.", "+-1"])
        elif kind == 6:
            col = rng.choice(["customer", "merchant", "gender", "amount"])
            vals[i[col]] = '"C1"x'  # text after a closing quote
        elif kind == 7:
            vals[i["amount"]] = rng.choice(
                ["100000000000.01", "-100000000000.01", "100000000000.005",
                 "1000000000000", "-999999999999.99"])
        elif kind == 8:
            vals[i["category"]] = "''"  # bad only with an importance table
        elif kind == 9:
            vals[i["amount"]] = "'-'"
        elif kind == 10:
            return ",".join(vals[:3])  # truncated record
        elif kind == 11:
            vals[i["gender"]] = '"F" "'  # broken quoting
        elif kind == 12:
            vals[i["amount"]] = "1e-2"
        else:
            return ",".join(vals) + ",\r"
        return ",".join(vals)

    def write(self, out_dir):
        rng = self.rng
        os.makedirs(out_dir, exist_ok=True)
        cols, names = self.header()
        crlf = rng.random() < 0.3
        eol = "\r\n" if crlf else "\n"
        lines = [",".join(names)]
        for _, kind, spec in self.rows:
            if kind == "good":
                lines.append(",".join(self.good_record(cols, spec)))
            else:
                lines.append(self.bad_record(cols))
        text = eol.join(lines)
        if rng.random() < 0.5:
            text += eol  # else: the last record has no line end
        with open(os.path.join(out_dir, "source.csv"), "wb") as f:
            f.write(text.encode("utf-8"))
        self.write_importance(os.path.join(out_dir, "importance.csv"))

    def weight_rows(self, key_is_trap):
        rng = self.rng
        if key_is_trap and self.f.weight_traps:
            b = rng.choice([500000, 750000])  # µ; 0.5 and 0.75 are common
            sign = -1 if rng.random() < 0.1 else 1
            scale, units = rng.choice([
                (7, [10 * b + 5, 10 * b + 4]),  # exact mean b+.45 → b; rows → b+1
                (7, [10 * b + 5, 10 * b + 4, 10 * b + 6, 10 * b]),  # b vs b+1
                (7, [10 * b + 15, 10 * b + 14]),  # b+1 vs b+2
                (8, [100 * b + 45, 100 * b + 55]),  # b+1 either way
                (9, [1000 * b + 449, 1000 * b + 449]),  # b either way
            ])
            return [decimal_text(sign * u, scale) for u in units]
        k = rng.choice([1, 1, 2, 3, 4])
        rows = []
        for _ in range(k):
            w = rng.choice(COMMON_WEIGHTS)
            if rng.random() < 0.3:
                d = 9 if self.f.weight_traps else 6
                w = "%.*f" % (rng.randrange(1, d + 1), rng.uniform(0, 20))
            if rng.random() < 0.05:
                w = "-" + w
            rows.append(w)
        return rows

    def write_importance(self, path):
        rng = self.rng
        lines = ["Source,Target,Weight,typeTrans,fraud"]
        keys = []
        for (c, m), cats in sorted(self.pairs.items()):
            for cat in sorted(cats):
                if rng.random() < 0.7:
                    keys.append((c, m, cat))
        # Keys nobody uses.
        for _ in range(20):
            keys.append((self.new_id("C", self.used_customers), self.big,
                         CATEGORIES[0]))
        trap = set(self.trap_customers)
        keys = [k for k in keys if k not in self.fixed_weights]
        keys += sorted(self.fixed_weights)
        for c, m, cat in keys:
            ws = self.fixed_weights.get((c, m, cat)) or self.weight_rows(
                c in trap or rng.random() < 0.05)
            for w in ws:
                lines.append(",".join([self.fmt_value(c), self.fmt_value(m), w,
                                       self.fmt_value(cat),
                                       rng.choice(["0", "1"])]))
        head, rest = lines[0], lines[1:]
        rng.shuffle(rest)
        with open(path, "wb") as f:
            f.write(("\n".join([head] + rest) + "\n").encode("utf-8"))


def make_case(seed, records, big_customers, out_dir, feats):
    g = Gen(seed, records, big_customers, feats)
    g.build()
    g.write(out_dir)
    info = {"seed": seed, "records": len(g.rows), "big_merchant": g.big,
            "big_rows": g.big_rows, "big_customers": big_customers,
            "gender_flips": feats.gender_flips,
            "weight_traps": feats.weight_traps, "long_zeros": feats.long_zeros}
    with open(os.path.join(out_dir, "case.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--records", type=int, default=3000)
    ap.add_argument("--big-customers", type=int, default=1500)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-gender-flips", action="store_true")
    ap.add_argument("--no-weight-traps", action="store_true")
    ap.add_argument("--no-long-zeros", action="store_true")
    a = ap.parse_args()
    info = make_case(a.seed, a.records, a.big_customers, a.out,
                     Features(not a.no_gender_flips, not a.no_weight_traps,
                              not a.no_long_zeros))
    print(json.dumps(info))


if __name__ == "__main__":
    main()
