"""The progress line (issue 14, "Progress and logs"): on a terminal, --drain
runs of chunk, detect and run show one line redrawn in place; it is erased
before every log line and at exit; never on a non-terminal, nor with
--log-format json."""
import json
import re
import subprocess

from conftest import run_on_pty

ERASE = b"\r\x1b[K"
REDRAWS_PER_SECOND = 4  # cli/progress.h kProgressRedrawsPerSecond


def drawn_lines(out):
    """The progress lines drawn: the text after each erase, up to the next
    control character or line end, if it is a progress line."""
    lines = []
    for piece in out.split(ERASE)[1:]:
        text = re.split(rb"[\r\n]", piece, maxsplit=1)[0]
        if re.match(rb"[xy] [\d,]+ rec", text):
            lines.append(text.decode())
    return lines


def final_erase_comes_after_the_last_drawing(out):
    """The line was drawn, and nothing of it is on screen after the last erase
    (a log line after it must not bring it back once the loop is over)."""
    last_draw = max(out.rfind(ERASE + b"x "), out.rfind(ERASE + b"y "))
    tail = out[out.rfind(ERASE) + len(ERASE):]
    return last_draw >= 0 and not re.search(rb"(^|\n)[xy] [\d,]+ rec", tail)


def test_chunk_drain_on_a_terminal_shows_records_chunks_share_and_eta(
        txflow, dataset, tmp_path):
    rc, out, secs = run_on_pty([
        txflow, "chunk", "--source", str(dataset / "transactions.csv"),
        "--root", str(tmp_path / "root"), "--drain", "--chunk-rows", "5000",
        "--max-chunks-per-tick", "1"])
    assert rc == 0, out
    lines = drawn_lines(out)
    assert lines, out[-2000:]
    m = re.fullmatch(r"x ([\d,]+) rec in ([\d,]+) chunks(?: \| [\d.]+[kM]? rec/s)?"
                     r"(?: \| (\d+)%(?: ETA (\d+):(\d\d))?)?", lines[-1])
    assert m, lines[-1]
    records = int(m.group(1).replace(",", ""))
    chunks = int(m.group(2).replace(",", ""))
    assert records == chunks * 5000 and 0 < records <= 600000
    assert m.group(3) is not None, "drain with a known source size shows a share"
    # (The ETA's arithmetic: progress_test.cc; a 60,000-record drain is too
    # quick to be sure of a drawing before 100 %.)
    assert final_erase_comes_after_the_last_drawing(out)


def test_line_is_redrawn_at_most_a_few_times_a_second(
        txflow, dataset, tmp_path):
    # A live chunker ticking without pause: one update per 500-record chunk,
    # far more updates than drawings. Stopped by SIGTERM after ~2 s.
    argv = ["timeout", "-s", "TERM", "2", txflow, "chunk", "--source",
            str(dataset / "transactions.csv"), "--root", str(tmp_path / "root"),
            "--every", "0s", "--chunk-rows", "500"]
    rc, out, secs = run_on_pty(argv)
    assert rc in (0, 124), out[-500:]
    chunks = sum(1 for _ in (tmp_path / "root" / "landing_zone").iterdir())
    lines = drawn_lines(out)
    assert lines and chunks > len(lines) * 2, (chunks, len(lines))
    assert len(lines) <= REDRAWS_PER_SECOND * secs + 2, (len(lines), secs)
    # Live: the end is unknown, so no share and no ETA.
    assert all("%" not in l and "ETA" not in l for l in lines), lines


def test_log_lines_never_share_a_row_with_the_progress_line(
        txflow, dataset, tmp_path):
    rc, out, _ = run_on_pty([
        txflow, "chunk", "--source", str(dataset / "transactions.csv"),
        "--root", str(tmp_path / "root"), "--drain", "--chunk-rows", "5000",
        "--max-chunks-per-tick", "1"])
    assert rc == 0
    text = out.decode()
    first_draw = text.find("\r\x1b[Kx ")
    assert first_draw >= 0
    # After the line is first drawn, each log line starts right after an
    # erase: nothing of the progress line is left before its timestamp.
    for m in re.finditer(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z x: ",
                         text[first_draw:]):
        start = first_draw + m.start()
        assert text[start - 4:start] == "\r\x1b[K", repr(text[start - 80:start + 40])


def test_detect_drain_on_a_terminal_reads_x_position_for_its_eta(
        txflow, dataset, tmp_path):
    root = str(tmp_path / "root")
    subprocess.run([txflow, "chunk", "--source", str(dataset / "transactions.csv"),
                    "--root", root, "--drain", "--chunk-rows", "5000"],
                   check=True, capture_output=True)
    rc, out, _ = run_on_pty([txflow, "detect", "--root", root, "--drain",
                             "--importance", str(dataset / "CustomerImportance.csv")])
    assert rc == 0, out[-2000:]
    lines = drawn_lines(out)
    assert lines, out[-2000:]
    assert re.match(r"x 600,000 rec in 120 chunks \| y [\d,]+ rec, [\d,]+ chunks, "
                    r"[\d,]+ detections, [\d,]+ files \| ", lines[-1]), lines[-1]
    assert final_erase_comes_after_the_last_drawing(out)


def test_run_drain_on_a_terminal_erases_the_line_before_the_summary(
        txflow, dataset, tmp_path):
    rc, out, _ = run_on_pty([
        txflow, "run", "--source", str(dataset / "transactions.csv"),
        "--root", str(tmp_path / "root"), "--drain", "--chunk-rows", "5000",
        "--importance", str(dataset / "CustomerImportance.csv")])
    assert rc == 0, out[-2000:]
    assert drawn_lines(out), out[-2000:]
    summary = out.find(b"Summary")
    assert summary > 0
    # The summary starts on a clean row: the last thing before it is an erase.
    assert out[:summary].endswith(ERASE), repr(out[summary - 100:summary + 10])


def test_no_progress_line_when_stderr_is_a_pipe(txflow, dataset, tmp_path):
    for argv in (
        [txflow, "chunk", "--source", str(dataset / "transactions.csv"),
         "--root", str(tmp_path / "a"), "--drain", "--chunk-rows", "5000"],
        [txflow, "detect", "--root", str(tmp_path / "a"), "--drain"],
        [txflow, "run", "--source", str(dataset / "transactions.csv"),
         "--root", str(tmp_path / "b"), "--drain", "--chunk-rows", "5000"],
    ):
        r = subprocess.run(argv, capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr[-1000:]
        for stream in (r.stdout, r.stderr):
            assert b"\r" not in stream and b"\x1b" not in stream, argv
            assert b" rec in " not in stream


def test_no_progress_line_with_json_logs_on_a_terminal(
        txflow, dataset, tmp_path):
    # The same run that draws the line above, with --log-format json: a log
    # shipper reading the terminal gets JSON objects only.
    rc, out, _ = run_on_pty([
        txflow, "chunk", "--source", str(dataset / "transactions.csv"),
        "--root", str(tmp_path / "root"), "--drain", "--chunk-rows", "5000",
        "--max-chunks-per-tick", "1", "--log-format", "json"])
    assert rc == 0, out[-2000:]
    # The terminal itself turns "\n" into "\r\n" (onlcr); nothing else may
    # write a carriage return or an escape sequence.
    text = out.replace(b"\r\n", b"\n")
    assert b"\r" not in text and b"\x1b" not in text, repr(text[-500:])
    lines = text.decode().splitlines()
    assert lines
    for line in lines:
        assert isinstance(json.loads(line), dict), line
