#!/usr/bin/env python3
"""Differential test: the real `txflow` binary against reference_detector.py.

For seeds × chunk sizes {1, 7, 10000} × importance on/off × two threshold
sets it generates a hostile case (make_case.py), runs

    txflow chunk  --source S --root R --drain --chunk-rows K
    txflow detect --root R --drain [--importance I] <threshold flags>

and compares, with the reference's answer: the detection sequence
(patternId, ActionType, customerName, MerchantId; time columns and <epoch>
ignored), the rows per detection file (50 each, the last shorter), the
quarantined record numbers, and every cell of the evidence files
(detections/evidence/, checksum checked) against the evidence the reference
computes from its own state when it decides. Exits 1 on any mismatch; the last line is
`N passed, M failed`.

    differential_test.py --binary build/txflow [--work DIR] [--quick]
        [--seeds 1,2] [--chunk-sizes 1,7,10000]
        [--features all|none|a,b,c]   a: gender flips (first-gender DEI)
                                      b: importance weights > 6 decimals
                                      c: amounts with > 15 integer digits
        [--jobs 2] [--keep]
"""

import argparse
import concurrent.futures
import csv
import dataclasses
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import make_case  # noqa: E402
import reference_detector as ref  # noqa: E402

# Sizes: chunk size 1 evaluates after every record, so its case is small.
SMALL = dict(records=3000, big_customers=900)
LARGE = dict(records=30000, big_customers=2500)
QUICK_SMALL = dict(records=1500, big_customers=400)
QUICK_LARGE = dict(records=12000, big_customers=1200)

PERCENTILES = [(75, 25), (0, 100), (50, 50), (100, 0), (90, 10)]


def threshold_sets(seed, variant, big_rows):
    """Two threshold sets scaled to the case: UPGRADE must fire (the big
    merchant crosses mid-stream), DEI must be able to fire on small data.
    B's percentiles rotate with the seed and the chunk size (`variant`)."""
    pc, pw = PERCENTILES[(seed + variant) % len(PERCENTILES)]
    return [
        ("A", ref.Thresholds(upgrade_min_txns=int(big_rows * 0.4),
                             upgrade_count_percentile=90,
                             upgrade_weight_percentile=10,
                             child_min_txns=80, child_max_avg_paise=2300,
                             dei_min_female=30)),
        ("B", ref.Thresholds(upgrade_min_txns=int(big_rows * 0.25),
                             upgrade_count_percentile=pc,
                             upgrade_weight_percentile=pw,
                             child_min_txns=10, child_max_avg_paise=2350,
                             dei_min_female=20)),
    ]


def run(cmd, what):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if p.returncode != 0:
        raise RuntimeError("%s failed (exit %d): %s\n%s" % (
            what, p.returncode, " ".join(cmd),
            p.stderr.decode("utf-8", "replace")[-2000:]))


def link_tree(src, dst):
    os.makedirs(dst)
    for name in os.listdir(src):
        os.link(os.path.join(src, name), os.path.join(dst, name))


DET_NAME = re.compile(r"detections_(\d+)_(\d{6})\.csv")


def _crc32c_table():
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data):
    """CRC-32C (Castagnoli), bitwise-table, written here from its definition."""
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def read_evidence(path, problems):
    """The evidence file's rows as dicts (header names as keys), after
    checking its trailer `# txflow-evidence-1 crc32c=<hex>`; None if absent."""
    if not os.path.exists(path):
        problems.append("no evidence file %s" % path)
        return None
    with open(path, "rb") as f:
        data = f.read()
    body, _, trailer = data[:-1].rpartition(b"\n")
    body += b"\n"
    want = b"# txflow-evidence-1 crc32c=%08x" % crc32c(body)
    if trailer != want or not data.endswith(b"\n"):
        problems.append("%s: trailer %r, expected %r" % (path, trailer, want))
        return None
    rows = list(csv.reader(io.StringIO(body.decode("utf-8",
                                                   "surrogateescape"))))
    head = rows[0]
    if head != ref.EVIDENCE_COLUMNS:
        problems.append("%s: header %r" % (path, head))
        return None
    return [dict(zip(head, r)) for r in rows[1:]]


def read_engine(root):
    """(detections, rows per file, quarantined record numbers, problems,
    evidence rows in order)."""
    problems = []
    det_dir = os.path.join(root, "detections")
    ev_dir = os.path.join(det_dir, "evidence")
    files = []
    for name in os.listdir(det_dir) if os.path.isdir(det_dir) else []:
        if name == "evidence":
            continue
        m = DET_NAME.fullmatch(name)
        if not m:
            problems.append("unexpected file detections/%s" % name)
            continue
        files.append((int(m.group(2)), name))
    files.sort()
    if [s for s, _ in files] != list(range(1, len(files) + 1)):
        problems.append("file sequence numbers are not 1..%d: %s" % (
            len(files), [s for s, _ in files]))
    names = set(n for _, n in files)
    for name in os.listdir(ev_dir) if os.path.isdir(ev_dir) else []:
        if name not in names:
            problems.append("evidence without its detection file: %s" % name)
    detections, sizes, evidence = [], [], []
    for _, name in files:
        ev = read_evidence(os.path.join(ev_dir, name), problems)
        evidence += ev or []
        with open(os.path.join(det_dir, name), newline="",
                  encoding="utf-8", errors="surrogateescape") as f:
            rows = list(csv.reader(f))
        head = rows[0]
        want = ["YStartTime", "detectionTime", "patternId", "ActionType",
                "customerName", "MerchantId"]
        if head != want:
            problems.append("%s: header %r" % (name, head))
        idx = [head.index(c) if c in head else 0 for c in want[2:]]
        body = rows[1:]
        sizes.append(len(body))
        for r in body:
            detections.append(tuple(r[i] for i in idx))
    quarantined = []
    q_dir = os.path.join(root, "quarantine")
    for name in sorted(os.listdir(q_dir)) if os.path.isdir(q_dir) else []:
        with open(os.path.join(q_dir, name), newline="",
                  encoding="utf-8", errors="surrogateescape") as f:
            rows = list(csv.reader(f))
        col = rows[0].index("record")
        quarantined += [int(r[col]) for r in rows[1:]]
    return detections, sizes, sorted(quarantined), problems, evidence


def text(b):
    return b.decode("utf-8", "surrogateescape")


def compare(job, eng, want):
    """A list of mismatch descriptions (empty: agreed)."""
    e_det, e_sizes, e_quar, problems, e_ev = eng
    r_det = [tuple(text(x) for x in d) for d in want.detections]
    out = list(problems)
    out += compare_evidence(e_ev, want.evidence)
    if e_det != r_det:
        i = next((k for k in range(min(len(e_det), len(r_det)))
                  if e_det[k] != r_det[k]), min(len(e_det), len(r_det)))
        lines = ["detections differ at #%d (engine %d, reference %d)" % (
            i, len(e_det), len(r_det))]
        lines.append("  engine:    %s" % (repr(e_det[i]) if i < len(e_det)
                                          else "<end>"))
        lines.append("  reference: %s" % (repr(r_det[i]) if i < len(r_det)
                                          else "<end>"))
        e_set, r_set = set(e_det), set(r_det)
        only_e = [d for d in e_det if d not in r_set][:5]
        only_r = [d for d in r_det if d not in e_set][:5]
        lines.append("  only in engine (first 5 of %d): %s" % (
            len(e_set - r_set), only_e))
        lines.append("  only in reference (first 5 of %d): %s" % (
            len(r_set - e_set), only_r))
        for k in range(max(0, i - 2), i):
            lines.append("  both #%d: %r" % (k, r_det[k]))
        out.append("\n".join(lines))
    if any(n != 50 for n in e_sizes[:-1]) or (e_sizes and
                                               not 0 < e_sizes[-1] <= 50):
        out.append("detection files must hold 50 rows each, the last 1-50: "
                   "%s" % e_sizes)
    if e_sizes != want.files:
        out.append("rows per file: engine %s, reference %s" % (
            e_sizes, want.files))
    if e_quar != want.quarantined:
        e_s, r_s = set(e_quar), set(want.quarantined)
        out.append("quarantined records differ: only engine %s, only "
                   "reference %s" % (sorted(e_s - r_s)[:10],
                                     sorted(r_s - e_s)[:10]))
    return out


def compare_evidence(engine, reference):
    """Cell by cell; the first few differing cells, and a count mismatch."""
    out = []
    if len(engine) != len(reference):
        out.append("evidence rows: engine %d, reference %d" % (
            len(engine), len(reference)))
    for i, (e, r) in enumerate(zip(engine, reference)):
        for col in ref.EVIDENCE_COLUMNS:
            if e.get(col) != r[col]:
                out.append("evidence #%d (%s %s %s) %s: engine %r, reference "
                           "%r" % (i, r["patternId"], r["customerName"],
                                   r["MerchantId"], col, e.get(col), r[col]))
        if len(out) >= 5:
            break
    return out


def run_job(job):
    """One detect run and its reference; returns (job, mismatches, seconds)."""
    t0 = time.time()
    root = job["root"]
    if os.path.exists(root):
        shutil.rmtree(root)
    link_tree(job["landing"], os.path.join(root, "landing_zone"))
    if job["tname"] == "C":
        # The big merchant's final total exactly: it never *exceeds* it, so
        # no UPGRADE there (an engine testing >= would fire on its last row).
        with open(job["source"], "rb") as f:
            dry = ref.reference_run(
                f.read(), job["k"], None if not job["importance"] else
                open(job["importance_path"], "rb").read(),
                ref.Thresholds(upgrade_min_txns=2**62))
        total = dry.merchant_totals[job["big_merchant"].encode()]
        job["thresholds"] = dataclasses.replace(job["thresholds"],
                                                upgrade_min_txns=total)
    cmd = [job["binary"], "detect", "--root", root, "--drain"]
    if job["importance"]:
        cmd += ["--importance", job["importance_path"]]
    cmd += job["thresholds"].flags()
    try:
        run(cmd, "txflow detect")
        eng = read_engine(root)
    except RuntimeError as e:
        eng = None
        err = str(e)
    with open(job["source"], "rb") as f:
        source = f.read()
    imp = None
    if job["importance"]:
        with open(job["importance_path"], "rb") as f:
            imp = f.read()
    try:
        want = ref.reference_run(source, job["k"], imp, job["thresholds"])
    except ref.FatalError as e:
        return job, ["reference stopped: %s" % e], time.time() - t0
    if eng is None:
        return job, [err], time.time() - t0
    mismatches = compare(job, eng, want)
    if not mismatches and not job["keep"]:
        shutil.rmtree(root, ignore_errors=True)
    job["summary"] = "%d detections with evidence (%s), %d files, %d quarantined" % (
        len(want.detections), ", ".join(
            "%s %d" % (p, sum(1 for d in want.detections if d[0] == p))
            for p in (b"PatId1", b"PatId2", b"PatId3")).replace("b'", "").replace("'", ""),
        len(want.files), len(want.quarantined))
    return job, mismatches, time.time() - t0


def describe(job):
    t = job["thresholds"]
    return ("seed=%d k=%d importance=%s thresholds=%s features=%s" % (
        job["seed"], job["k"], "on" if job["importance"] else "off",
        job["tname"], job["features"]))


def repro(job, args):
    t = job["thresholds"]
    f = job["feats"]
    gen = ["python3", os.path.join(HERE, "make_case.py"), "--seed",
           str(job["seed"]), "--records", str(job["size"]["records"]),
           "--big-customers", str(job["size"]["big_customers"]),
           "--out", job["case_dir"]]
    gen += [] if f.gender_flips else ["--no-gender-flips"]
    gen += [] if f.weight_traps else ["--no-weight-traps"]
    gen += [] if f.long_zeros else ["--no-long-zeros"]
    root = "/tmp/txflow-repro"
    lines = [" ".join(gen),
             "rm -rf %s && %s chunk --source %s/source.csv --root %s --drain "
             "--chunk-rows %d" % (root, job["binary"], job["case_dir"], root,
                                  job["k"]),
             "%s detect --root %s --drain %s%s" % (
                 job["binary"], root,
                 ("--importance %s/importance.csv " % job["case_dir"])
                 if job["importance"] else "", " ".join(t.flags())),
             "python3 %s --source %s/source.csv --chunk-rows %d %s%s" % (
                 os.path.join(HERE, "reference_detector.py"), job["case_dir"],
                 job["k"], ("--importance %s/importance.csv " %
                            job["case_dir"]) if job["importance"] else "",
                 " ".join(t.flags()))]
    return "\n    ".join(lines)


def parse_features(text):
    if text == "all":
        return make_case.Features(True, True, True)
    if text == "none":
        return make_case.Features(False, False, False)
    on = set(text.split(","))
    if not on <= {"a", "b", "c"}:
        raise argparse.ArgumentTypeError("features: all, none or a,b,c")
    return make_case.Features("a" in on, "b" in on, "c" in on)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("--binary", default=os.environ.get("TXFLOW_BINARY"))
    ap.add_argument("--work", default="/tmp/txflow-reference-work")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--chunk-sizes", default="1,7,10000")
    ap.add_argument("--features", default="all")
    ap.add_argument("--quick", action="store_true",
                    help="one seed, smaller inputs (a few seconds)")
    ap.add_argument("--scratch", default=None,
                    help="where roots go (many small fsynced files); default "
                    "a fresh directory in /dev/shm when it exists, else --work")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--keep", action="store_true",
                    help="keep the roots of passing runs too")
    a = ap.parse_args()
    if len(sys.argv) > 1 and not a.binary:
        ap.error("--binary (or TXFLOW_BINARY) is required")
    if not a.binary:
        ap.error("--binary (or TXFLOW_BINARY) is required")
    binary = os.path.abspath(a.binary)
    feats = parse_features(a.features)
    seeds = [int(s) for s in a.seeds.split(",")]
    if a.quick and a.seeds == "1,2":
        seeds = [1]
    sizes_k = [int(k) for k in a.chunk_sizes.split(",")]
    small = QUICK_SMALL if a.quick else SMALL
    large = QUICK_LARGE if a.quick else LARGE
    t_start = time.time()
    os.makedirs(a.work, exist_ok=True)
    scratch = a.scratch
    own_scratch = False
    if scratch is None:
        if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK):
            scratch = tempfile.mkdtemp(prefix="txflow-reference-",
                                       dir="/dev/shm")
            own_scratch = True
        else:
            scratch = a.work
    try:
        return run_all(a, binary, feats, seeds, sizes_k, small, large,
                       scratch, t_start)
    finally:
        if own_scratch and not a.keep:
            shutil.rmtree(scratch, ignore_errors=True)


def run_all(a, binary, feats, seeds, sizes_k, small, large, scratch,
            t_start):

    jobs = []
    failed_setup = []
    for seed in seeds:
        cases = {}
        for variant, k in enumerate(sizes_k):
            size = small if k == 1 else large
            key = (size["records"], size["big_customers"])
            case_dir = os.path.join(a.work, "case-s%d-%d" % (seed, key[0]))
            if key not in cases:
                cases[key] = make_case.make_case(seed, key[0], key[1],
                                                 case_dir, feats)
            info = cases[key]
            chunk_root = os.path.join(scratch, "chunks-s%d-%d-k%d" % (
                seed, key[0], k))
            if os.path.exists(chunk_root):
                shutil.rmtree(chunk_root)
            try:
                run([binary, "chunk", "--source",
                     os.path.join(case_dir, "source.csv"), "--root",
                     chunk_root, "--drain", "--chunk-rows", str(k)],
                    "txflow chunk")
            except RuntimeError as e:
                failed_setup.append("seed=%d k=%d: %s" % (seed, k, e))
                continue
            sets = threshold_sets(seed, variant, info["big_rows"])
            if k == max(sizes_k):
                # Cheap at the largest chunk size: the UPGRADE threshold at
                # exactly the big merchant's final total (set in run_job).
                sets.append(("C", sets[0][1]))
            # U: the percentile-rounding trap (make_case 3b) needs UPGRADE
            # at a 6-transaction merchant, weight P60, and the importance
            # table.
            sets.append(("U", ref.Thresholds(
                upgrade_min_txns=5, upgrade_count_percentile=90,
                upgrade_weight_percentile=60, child_min_txns=80,
                child_max_avg_paise=2300, dei_min_female=30)))
            for imp in (False, True):
                for tname, t in sets:
                    if tname == "U" and not imp:
                        continue
                    jobs.append(dict(
                        binary=binary, seed=seed, k=k, size=size,
                        big_merchant=info["big_merchant"],
                        importance=imp, tname=tname, thresholds=t,
                        feats=feats, features=a.features, keep=a.keep,
                        case_dir=case_dir,
                        source=os.path.join(case_dir, "source.csv"),
                        importance_path=os.path.join(case_dir,
                                                     "importance.csv"),
                        landing=os.path.join(chunk_root, "landing_zone"),
                        root=os.path.join(scratch, "root-s%d-k%d-%s-%s" % (
                            seed, k, "imp" if imp else "noimp", tname))))
    # Slowest first (chunk size 1, then 7), so two workers finish together.
    jobs.sort(key=lambda j: (j["k"] != 1, j["k"] != 7))
    passed, failed = 0, len(failed_setup)
    for msg in failed_setup:
        print("FAIL setup %s" % msg)
    with concurrent.futures.ProcessPoolExecutor(max_workers=a.jobs) as ex:
        for job, mismatches, secs in ex.map(run_job, jobs):
            if mismatches:
                failed += 1
                print("FAIL %s (%.1fs)" % (describe(job), secs))
                for m in mismatches:
                    print("  " + m.replace("\n", "\n  "))
                print("  reproduce:\n    " + repro(job, a))
            else:
                passed += 1
                print("ok   %s: %s (%.1fs)" % (describe(job),
                                              job.get("summary", ""), secs))
            sys.stdout.flush()
    print("%d passed, %d failed (%.1fs)" % (passed, failed,
                                             time.time() - t_start))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
