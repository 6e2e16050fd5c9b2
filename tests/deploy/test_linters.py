"""checkov, tflint (bundled terraform ruleset, preset all) and `tofu fmt
-check` over deploy/terraform. All three run offline; none needs a provider."""

import json
import os
import re
import subprocess

import terraform_model as tm

SKIPS = tm.TERRAFORM / "checkov-skips.txt"


def skip_list() -> dict[str, str]:
    skips = {}
    for line in SKIPS.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        check, _, reason = line.strip().partition(" ")
        assert re.fullmatch(r"CKV2?_[A-Z]+_\d+", check), f"{SKIPS.name}: bad check id {check!r}"
        assert len(reason.split()) >= 5, f"{SKIPS.name}: {check} needs a reason"
        assert check not in skips, f"{SKIPS.name}: {check} twice"
        skips[check] = reason.strip()
    return skips


def test_checkov_finds_no_failure_beyond_the_explained_skips(checkov, tmp_path):
    skips = skip_list()
    # Run without the skips, so that a stale skip (a check that passes now)
    # is noticed as well as an unexplained failure.
    env = dict(os.environ, HOME=str(tmp_path), LOG_LEVEL="WARNING")
    run = subprocess.run(
        [str(checkov), "--directory", str(tm.TERRAFORM), "--framework", "terraform",
         "--skip-download", "--compact", "--quiet", "--output", "json"],
        capture_output=True, text=True, timeout=600, env=env, cwd=tmp_path)
    assert run.returncode in (0, 1), f"checkov exited {run.returncode}: {run.stderr[-2000:]}"
    reports = json.loads(run.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert reports and all(r.get("check_type") == "terraform" for r in reports), run.stdout[:500]
    summary = reports[0]["summary"]
    assert summary["parsing_errors"] == 0, summary
    assert summary["resource_count"] >= 15, f"checkov saw too few resources: {summary}"
    assert summary["passed"] >= 50, summary
    failed = {}
    for r in reports:
        for c in r["results"]["failed_checks"]:
            failed.setdefault(c["check_id"], []).append(
                f'{c["resource"]} ({c["file_path"]}:{c["file_line_range"][0]}): {c["check_name"]}')
    unexplained = {k: v for k, v in failed.items() if k not in skips}
    assert not unexplained, "checkov failures with no reason in checkov-skips.txt:\n" + \
        "\n".join(f"{k}: {'; '.join(v)}" for k, v in sorted(unexplained.items()))
    stale = set(skips) - set(failed)
    assert not stale, f"checkov-skips.txt skips checks that pass now: {sorted(stale)}"


def test_tflint_with_every_bundled_terraform_rule_finds_nothing(tflint):
    config = tm.TERRAFORM / ".tflint.hcl"
    assert re.search(r'preset\s*=\s*"all"', config.read_text()), "tflint must use preset all"
    version = subprocess.run([str(tflint), "--version"], capture_output=True, text=True)
    assert "ruleset.terraform" in version.stdout and "bundled" in version.stdout, version.stdout
    run = subprocess.run(
        [str(tflint), "--recursive", "--config", str(config), "--format", "compact",
         "--no-color"],
        capture_output=True, text=True, timeout=300, cwd=tm.TERRAFORM)
    assert run.returncode == 0, f"tflint exited {run.returncode}:\n{run.stdout}{run.stderr}"


def test_terraform_files_are_formatted_as_tofu_fmt_writes_them(tofu):
    run = subprocess.run(
        [str(tofu), "fmt", "-check", "-recursive", "-diff", "-no-color", str(tm.TERRAFORM)],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, f"tofu fmt -check: not formatted (run tofu fmt -recursive " \
        f"deploy/terraform):\n{run.stdout}{run.stderr}"


def test_fmt_check_fails_on_a_misformatted_file(tofu, tmp_path):
    # The check above can fail: a file as a careless edit leaves it.
    (tmp_path / "main.tf").write_text('variable "x" {\n    type=string\n}\n')
    run = subprocess.run([str(tofu), "fmt", "-check", "-no-color", str(tmp_path)],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode != 0, "tofu fmt -check passed a misformatted file"
