"""Each databricks_job, turned into Jobs API JSON, against the strict model
of databricks-bundles (Job.from_dict), which rejects unknown fields and enum
values the API does not have. The provider's block names are the API's field
names; repeated blocks (task, job_cluster, library, ...) become the API's
lists (terraform_model.block_to_api)."""

import pytest
from databricks.bundles.jobs import Job

import terraform_model as tm
from test_terraform_requirements import JOBS, SAMPLES


def _keys(value, prefix=""):
    """Every key path of a JSON value (list items share their list's path;
    empty maps and lists, which as_dict leaves out, are not counted)."""
    if isinstance(value, dict):
        for k, v in value.items():
            if v in ({}, []):
                continue
            yield f"{prefix}{k}"
            yield from _keys(v, f"{prefix}{k}.")
    elif isinstance(value, list):
        for v in value:
            yield from _keys(v, prefix)


@pytest.mark.parametrize("name", sorted(JOBS))
def test_job_is_valid_jobs_api_settings_for_the_strict_model(modules, name):
    settings = tm.job_settings(modules["modules/jobs"], name, SAMPLES, for_model=True)
    job = Job.from_dict(settings)
    # Nothing dropped on the way: every field given is in the model's dict,
    # except maps whose keys are data (tags, spark_conf, ...).
    back = set(_keys(job.as_dict()))
    data_maps = ("tags.", "custom_tags.", "spark_conf.", "spark_env_vars.")
    missing = {k for k in _keys(settings) if not any(m in f".{k}" for m in data_maps)} - back
    assert not missing, f"{name}: the model dropped {sorted(missing)}"


def test_chunker_job_keeps_continuous_retry_mode_in_the_model(modules):
    job = Job.from_dict(tm.job_settings(modules["modules/jobs"], "x", SAMPLES, for_model=True))
    assert job.as_dict()["continuous"] == {"pause_status": "UNPAUSED", "task_retry_mode": "ON_FAILURE"}


@pytest.mark.parametrize("mutation", [
    lambda s: s.update(bogus_field=1),
    lambda s: s["continuous"].update(pause_status="PAUSE"),
    lambda s: s["continuous"].update(task_retry_mode="ALWAYS"),
    lambda s: s["tasks"][0]["python_wheel_task"].update(entrypoint="txflow"),
    lambda s: s["job_clusters"][0]["new_cluster"]["aws_attributes"].update(availability="CHEAP"),
], ids=["unknown-field", "bad-pause-status", "bad-retry-mode", "misspelt-task-field",
        "bad-availability"])
def test_strict_model_rejects_what_the_api_would(modules, mutation):
    settings = tm.job_settings(modules["modules/jobs"], "x", SAMPLES, for_model=True)
    mutation(settings)
    with pytest.raises(ValueError):
        Job.from_dict(settings)
