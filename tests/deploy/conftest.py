"""Shared fixtures of the deploy checks: the tools they run, found through
environment variables that tests/deploy/CMakeLists.txt sets. A missing tool
fails the test with one line saying what to install; nothing is skipped."""

import os
import re
import pathlib
import shutil
import subprocess

import pytest

import terraform_model


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # The deploy checks never skip: a skip is reported as a failure.
    outcome = yield
    report = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped, and the deploy checks never skip: {report.longrepr}"


def _tool(env: str, hint: str) -> pathlib.Path:
    value = os.environ.get(env, "")
    if not value:
        pytest.fail(f"{env} is not set; run the deploy checks through ctest (label deploy)")
    path = pathlib.Path(value)
    if not (path.is_file() and os.access(path, os.X_OK)):
        resolved = shutil.which(value)
        if not resolved:
            pytest.fail(f"{env}={value}: no such executable; {hint}")
        path = pathlib.Path(resolved)
    return path


INSTALL_HINT = "run tools/install-deploy-tools.sh BUILD_DIR (make test does)"


@pytest.fixture(scope="session")
def txflow_binary() -> pathlib.Path:
    return _tool("TXFLOW_BINARY", "build the txflow binary (make build)")


@pytest.fixture(scope="session")
def txflow_spark() -> pathlib.Path:
    return _tool("TXFLOW_SPARK", "make the Python virtualenv (make venv)")


@pytest.fixture(scope="session")
def tools_bin() -> pathlib.Path:
    value = os.environ.get("DEPLOY_TOOLS_BIN", "")
    if not value or not pathlib.Path(value).is_dir():
        pytest.fail(f"DEPLOY_TOOLS_BIN={value!r} is not a folder; {INSTALL_HINT}")
    return pathlib.Path(value)


def _bin(tools_bin: pathlib.Path, name: str) -> pathlib.Path:
    path = tools_bin / name
    if not (path.is_file() and os.access(path, os.X_OK)):
        pytest.fail(f"{path}: missing; {INSTALL_HINT}")
    return path


@pytest.fixture(scope="session")
def tflint(tools_bin) -> pathlib.Path:
    return _bin(tools_bin, "tflint")


@pytest.fixture(scope="session")
def tofu(tools_bin) -> pathlib.Path:
    return _bin(tools_bin, "tofu")


@pytest.fixture(scope="session")
def checkov() -> pathlib.Path:
    return _tool("CHECKOV", INSTALL_HINT)


@pytest.fixture(scope="session")
def modules() -> dict[str, terraform_model.Module]:
    found = {str(m.folder.relative_to(terraform_model.TERRAFORM)): m
             for m in terraform_model.all_modules()}
    for want in ("modules/storage", "modules/access", "modules/jobs", "examples/dev"):
        assert want in found, f"deploy/terraform/{want} has no .tf file"
    return found


def help_flags(command: list[str]) -> set[str]:
    """The long flags a command's --help lists (txflow's and argparse's)."""
    run = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, f"{' '.join(command)} exited {run.returncode}: {run.stderr}"
    # Only the flag column: lines that start with the flag (a description
    # may mention other words that look like flags).
    flags = set(re.findall(r"(?m)^\s+(?:-\w, )?(--[a-z][a-z0-9-]*)", run.stdout))
    assert "--root" in flags, f"{' '.join(command)} printed no flag list:\n{run.stdout}"
    return flags
