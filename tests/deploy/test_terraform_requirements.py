"""Issue 13's requirements, read from the Terraform source (python-hcl2).

Nothing here talks to AWS or Databricks: these assert what the .tf files say,
not what a provider would accept (test_jobs_api_model.py checks the jobs
against the Jobs API model; docs/deploy.md lists what stays unverified).
"""

import re

import pytest

import terraform_model as tm
from conftest import help_flags

# Values for the jobs module's variables that have no default.
SAMPLES = {
    "instance_profile_arn": "arn:aws:iam::123456789012:instance-profile/txflow",
    "aws_region": "us-east-1",
    "wheel_path": "/repo/build/dist/txflow-0.1.0-cp311-cp311-linux_x86_64.whl",
    "source_uri": "s3://example-bucket/input/transactions.csv",
    "root_uri": "s3://example-bucket/txflow",
    "importance_uri": "s3://example-bucket/input/CustomerImportance.csv",
    "notification_emails": ["oncall@example.com"],
}
JOBS = {"x": "chunk", "y_standalone": "detect", "y_spark": "detect"}


@pytest.fixture(scope="module")
def jobs(modules):
    return modules["modules/jobs"]


@pytest.fixture(scope="module")
def storage(modules):
    return modules["modules/storage"]


@pytest.fixture(scope="module")
def access(modules):
    return modules["modules/access"]


def settings(jobs, name):
    return tm.job_settings(jobs, name, SAMPLES)


def task(jobs, name):
    tasks = settings(jobs, name)["tasks"]
    assert len(tasks) == 1, f"job {name}: expected one task"
    return tasks[0]


def flag_values(parameters):
    """{flag: value} of a `--flag value` command line (bare flags map to True)."""
    out, i = {}, 0
    while i < len(parameters):
        p = parameters[i]
        if isinstance(p, str) and p.startswith("--"):
            nxt = parameters[i + 1] if i + 1 < len(parameters) else None
            if isinstance(nxt, str) and not nxt.startswith("--"):
                out[p] = nxt
                i += 2
                continue
            out[p] = True
        i += 1
    return out


def seconds(duration: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m|h)", duration)
    assert m, f"not a txflow duration: {duration!r}"
    return float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


# --- layout --------------------------------------------------------------


def test_every_tf_file_parses_and_every_module_pins_its_providers(modules):
    assert len(tm.tf_files()) >= 16
    for name, module in modules.items():
        assert module.terraform, f"{name}: no terraform block (versions.tf)"
        required = [p for t in module.terraform for p in t.get("required_providers", [])]
        assert required, f"{name}: no required_providers"
        for block in required:
            for provider, spec in block.items():
                assert re.search(r"\d+\.\d+", spec.get("version", "")), \
                    f"{name}: provider {provider} has no version constraint"


def test_every_variable_has_a_type_and_a_description(modules):
    for name, module in modules.items():
        for var, body in module.variables.items():
            assert body.get("type"), f"{name}: variable {var} has no type"
            assert body.get("description"), f"{name}: variable {var} has no description"


def test_dev_example_wires_storage_access_and_jobs(modules):
    dev = modules["examples/dev"]
    assert {m["source"] for m in dev.modules.values()} == {
        "../../modules/storage", "../../modules/access", "../../modules/jobs"}


def test_tfvars_example_sets_only_declared_variables_and_holds_no_secret(modules):
    dev = modules["examples/dev"]
    path = dev.folder / "terraform.tfvars.example"
    values = tm.hcl2.loads(path.read_text(), serialization_options=tm._OPTIONS)
    unknown = set(values) - set(dev.variables)
    assert not unknown, f"terraform.tfvars.example sets undeclared {sorted(unknown)}"
    for required, body in dev.variables.items():
        if "default" not in body:
            assert required in values, f"terraform.tfvars.example misses {required}"
    assert "webhook_url" not in values, "a webhook URL is a secret: TF_VAR_webhook_url"
    assert dev.variables["webhook_url"].get("sensitive") is True


SECRET_PATTERNS = [
    re.compile(r"AKIA[0-9A-Z]{16}"),                      # AWS access key id
    re.compile(r"(?i)aws_secret_access_key\s*="),
    re.compile(r"dapi[0-9a-f]{32}"),                      # Databricks token
    re.compile(r"(?i)\b(token|password|secret)\s*=\s*\"[^\"$]"),
]


def test_no_credentials_in_any_terraform_file():
    files = tm.tf_files() + sorted(tm.TERRAFORM.rglob("*.tfvars*"))
    for path in files:
        text = path.read_text()
        for pattern in SECRET_PATTERNS:
            assert not pattern.search(text), f"{path}: looks like a credential ({pattern.pattern})"


# --- job X ---------------------------------------------------------------


def test_chunker_job_is_continuous_unpaused_and_retries_failed_tasks(jobs):
    x = settings(jobs, "x")
    assert x["continuous"]["pause_status"] == "UNPAUSED"
    assert x["continuous"]["task_retry_mode"] == "ON_FAILURE"
    assert "schedule" not in x and "trigger" not in x, "X is continuous, not scheduled"
    assert x["max_concurrent_runs"] == 1


def test_chunker_runs_txflow_chunk_from_the_wheel(jobs):
    t = task(jobs, "x")
    wheel = t["python_wheel_task"]
    assert (wheel["package_name"], wheel["entry_point"]) == ("txflow", "txflow")
    assert wheel["parameters"][0] == "chunk"


def test_chunker_command_line_uses_only_flags_txflow_chunk_has(jobs, txflow_binary):
    known = help_flags([str(txflow_binary), "chunk", "--help"])
    params = task(jobs, "x")["python_wheel_task"]["parameters"]
    used = flag_values(params[1:])
    unknown = set(used) - known
    assert not unknown, f"txflow chunk has no {sorted(unknown)} (its flags: {sorted(known)})"
    assert {"--source", "--root"} <= set(used)
    assert used["--source"] == SAMPLES["source_uri"]
    assert used["--root"] == SAMPLES["root_uri"]
    # Every argument is a flag or a flag's value: nothing positional slips in.
    assert len(params) == 1 + sum(1 if v is True else 2 for v in used.values())


def test_chunker_ticks_every_5_seconds(jobs):
    used = flag_values(task(jobs, "x")["python_wheel_task"]["parameters"][1:])
    assert "--every" in used, "the ticker must be explicit: --every 5s"
    assert seconds(used["--every"]) == 5


# Flags that end the process after one pass: --once (one tick), --drain
# (everything present, then exit). A continuous job whose process exits is
# restarted by Databricks on a new cluster run, so either flag turns a
# streaming job into a cluster restart per tick. --flush-on-exit cuts a short
# detection file at every stop, and a continuous job is stopped at every
# update or restart: the detection files would depend on when that happened.
ONE_SHOT_FLAGS = ("--once", "--drain", "--flush-on-exit")


@pytest.mark.parametrize("name", sorted(JOBS))
def test_no_continuous_job_runs_a_one_shot_command(jobs, name):
    params = task(jobs, name)["python_wheel_task"]["parameters"]
    found = [p for p in params if isinstance(p, str)
             for flag in ONE_SHOT_FLAGS if p == flag or p.startswith(flag + "=")]
    assert not found, f"job {name} is continuous but runs {found}: an exit per pass, or a short file per stop"


# --- job Y ---------------------------------------------------------------


def test_detector_variant_is_a_validated_choice_of_standalone_or_spark(jobs):
    var = jobs.variables["y_variant"]
    assert var["default"] == "standalone"
    conditions = " ".join(v["condition"] for v in var.get("validation", []))
    assert re.search(r'contains\(\[\s*"standalone",\s*"spark"\s*\]', conditions), conditions
    counts = {name: jobs.resources[("databricks_job", name)].get("count")
              for name in ("y_standalone", "y_spark")}
    assert counts == {
        "y_standalone": '${var.y_variant == "standalone" ? 1 : 0}',
        "y_spark": '${var.y_variant == "spark" ? 1 : 0}',
    }


@pytest.mark.parametrize("name", ["y_standalone", "y_spark"])
def test_detector_jobs_are_continuous_unpaused_and_retry_failed_tasks(jobs, name):
    y = settings(jobs, name)
    assert y["continuous"] == {"pause_status": "UNPAUSED", "task_retry_mode": "ON_FAILURE"}
    assert y["max_concurrent_runs"] == 1


def test_standalone_detector_runs_txflow_detect_with_flags_it_has(jobs, txflow_binary):
    wheel = task(jobs, "y_standalone")["python_wheel_task"]
    assert (wheel["package_name"], wheel["entry_point"]) == ("txflow", "txflow")
    assert wheel["parameters"][0] == "detect"
    used = flag_values(wheel["parameters"][1:])
    known = help_flags([str(txflow_binary), "detect", "--help"])
    assert not set(used) - known, f"txflow detect has no {sorted(set(used) - known)}"
    assert used["--root"] == SAMPLES["root_uri"]
    assert used["--importance"] == SAMPLES["importance_uri"]


def test_spark_detector_runs_txflow_spark_detect_with_flags_it_has(jobs, txflow_spark):
    wheel = task(jobs, "y_spark")["python_wheel_task"]
    assert (wheel["package_name"], wheel["entry_point"]) == ("txflow", "txflow-spark")
    assert wheel["parameters"][0] == "detect"
    used = flag_values(wheel["parameters"][1:])
    known = help_flags([str(txflow_spark), "detect", "--help"])
    assert not set(used) - known, f"txflow-spark detect has no {sorted(set(used) - known)}"
    assert {"--root", "--importance", "--checkpoint"} <= set(used)


def test_spark_detector_has_backlog_health_rules_and_notifies_on_them(jobs):
    y = settings(jobs, "y_spark")
    metrics = {r["metric"]: r for r in y["health"]["rules"]}
    assert {"STREAMING_BACKLOG_FILES", "STREAMING_BACKLOG_SECONDS"} <= set(metrics)
    for rule in metrics.values():
        assert rule["op"] == "GREATER_THAN" and rule["value"] > 0
    assert y["email_notifications"]["on_streaming_backlog_exceeded"] == SAMPLES["notification_emails"]
    assert y["webhook_notifications"]["on_streaming_backlog_exceeded"], "no webhook on backlog"


def test_standalone_detector_has_a_run_duration_alert(jobs):
    y = settings(jobs, "y_standalone")
    metrics = {r["metric"]: r for r in y["health"]["rules"]}
    assert "RUN_DURATION_SECONDS" in metrics
    assert metrics["RUN_DURATION_SECONDS"]["value"] >= 3600
    assert y["email_notifications"]["on_duration_warning_threshold_exceeded"] == SAMPLES["notification_emails"]
    assert y["webhook_notifications"]["on_duration_warning_threshold_exceeded"]


# --- every job -----------------------------------------------------------


def test_every_job_is_checked_here(jobs, modules):
    assert set(jobs.of_type("databricks_job")) == set(JOBS)
    for name, module in modules.items():
        if name != "modules/jobs":
            assert not module.of_type("databricks_job"), f"{name} defines a job outside modules/jobs"


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_notifies_email_and_webhook_on_failure_and_start(jobs, name):
    job = settings(jobs, name)
    assert job["email_notifications"]["on_failure"] == SAMPLES["notification_emails"]
    assert job["webhook_notifications"]["on_failure"], f"{name}: no webhook on failure"
    # A restart after a failure of a continuous job is a new run's start.
    assert job["email_notifications"].get("on_start"), f"{name}: no e-mail on start"
    assert job["webhook_notifications"].get("on_start"), f"{name}: no webhook on start"
    emails = jobs.variables["notification_emails"]
    assert "default" not in emails, "notification e-mail must be given, not defaulted away"
    assert "length(var.notification_emails) > 0" in emails["validation"][0]["condition"]


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_installs_the_wheel_from_the_workspace_not_dbfs(jobs, name):
    libraries = task(jobs, name)["libraries"]
    assert libraries == [{"whl": "${databricks_workspace_file.wheel.workspace_path}"}]
    upload = jobs.resources[("databricks_workspace_file", "wheel")]
    assert upload["source"] == "${var.wheel_path}"
    for path in tm.tf_files():
        assert "dbfs:" not in path.read_text(), f"{path}: DBFS libraries are deprecated"


@pytest.mark.parametrize("name", sorted(JOBS))
def test_every_job_cluster_runs_with_the_registered_instance_profile(jobs, name):
    (cluster,) = settings(jobs, name)["job_clusters"]
    attrs = cluster["new_cluster"]["aws_attributes"]
    assert attrs["instance_profile_arn"] == "${databricks_instance_profile.txflow.id}"
    assert jobs.resources[("databricks_instance_profile", "txflow")]["instance_profile_arn"] \
        == "${var.instance_profile_arn}"
    assert cluster["new_cluster"]["spark_env_vars"]["AWS_REGION"] == SAMPLES["aws_region"]


@pytest.mark.parametrize("name", ["x", "y_standalone"])
def test_chunker_and_standalone_detector_run_on_a_single_node(jobs, name):
    (cluster,) = settings(jobs, name)["job_clusters"]
    spec = cluster["new_cluster"]
    assert spec["num_workers"] == 0
    assert spec["spark_conf"]["spark.databricks.cluster.profile"] == "singleNode"
    assert spec["spark_conf"]["spark.master"].startswith("local[")


def test_spark_detector_runs_on_several_nodes(jobs):
    (cluster,) = settings(jobs, "y_spark")["job_clusters"]
    assert cluster["new_cluster"]["num_workers"] >= 1


def test_runtime_and_node_types_are_validated_variables_defaulting_to_15_4_lts(jobs):
    assert jobs.variables["spark_version"]["default"] == "15.4.x-scala2.12"
    for var in ("spark_version", "x_node_type_id", "y_node_type_id", "spark_num_workers",
                "availability"):
        assert jobs.variables[var].get("validation"), f"variable {var} has no validation"
    for name in JOBS:
        (cluster,) = settings(jobs, name)["job_clusters"]
        assert cluster["new_cluster"]["spark_version"] == "15.4.x-scala2.12"


# --- the runtime and the wheel's tag --------------------------------------
# pip on the cluster refuses a wheel whose CPython tag is not the runtime's
# Python; a continuous job would then fail and restart for ever. The rule is
# evaluated here from the .tf text: the variables' validations and the wheel
# upload's precondition, with their regexes run by Python's re (the patterns
# use nothing where RE2 and re differ).

_CAN_REGEX = re.compile(r'^\$\{can\(regex\("((?:[^"\\]|\\.)*)", ([\w.]+)\)\)\}$')


def _can_regex(condition: str, subject: str, interpolate: dict | None = None) -> re.Pattern:
    """The pattern of a `can(regex("PATTERN", SUBJECT))` condition, with HCL's
    string escapes undone and `${local.NAME}` replaced from `interpolate`."""
    m = _CAN_REGEX.match(condition)
    assert m, f"not a can(regex(...)) condition: {condition}"
    assert m.group(2) == subject, f"the condition tests {m.group(2)}, not {subject}"
    pattern = re.sub(r"\\(.)", r"\1", m.group(1))
    for name, value in (interpolate or {}).items():
        pattern = pattern.replace("${local.%s}" % name, value)
    assert "${" not in pattern, f"unevaluated interpolation left in {pattern}"
    return re.compile(pattern)


def apply_accepts(jobs, spark_version: str, wheel_path: str) -> bool:
    """Whether the jobs module lets `spark_version` and `wheel_path` through:
    both variables' validations, then the wheel upload's precondition."""
    (sv,) = jobs.variables["spark_version"]["validation"]
    (wp,) = jobs.variables["wheel_path"]["validation"]
    if not _can_regex(sv["condition"], "var.spark_version").search(spark_version):
        return False
    if not _can_regex(wp["condition"], "var.wheel_path").search(wheel_path):
        return False
    assert jobs.locals["wheel_name"] == "${basename(var.wheel_path)}"
    assert jobs.locals["wheel_tag"] == \
        '${local.wheel_tag_of_runtime[split(".", var.spark_version)[0]]}'
    tags = tm.strip(jobs.locals["wheel_tag_of_runtime"])
    major = spark_version.split(".")[0]
    assert major in tags, f"spark_version {spark_version} passes validation but has no wheel tag"
    upload = tm.strip(jobs.resources[("databricks_workspace_file", "wheel")])
    lifecycles = upload.get("lifecycle", [])
    pre = [p for lc in lifecycles for p in lc.get("precondition", [])]
    assert len(pre) == 1, "the wheel upload has no precondition tying its tag to spark_version"
    (pre,) = pre
    check = _can_regex(pre["condition"], "local.wheel_name", {"wheel_tag": tags[major]})
    return bool(check.search(wheel_path.rsplit("/", 1)[-1]))


CP311 = "/repo/build/dist/txflow-0.1.0-cp311-cp311-linux_x86_64.whl"
CP312 = "/repo/build/dist/txflow-0.1.0-cp312-cp312-linux_x86_64.whl"


@pytest.mark.parametrize("spark_version,wheel,accepted", [
    ("15.4.x-scala2.12", CP311, True),
    ("15.4.x-scala2.12", CP312, False),     # Python 3.11: pip refuses cp312
    ("15.4.x-cpu-ml-scala2.12", CP312, False),
    ("16.4.x-scala2.12", CP312, True),      # the documented 16.4 route
    ("16.4.x-scala2.13", CP311, False),     # Python 3.12: pip refuses cp311
    ("17.3.x-scala2.13", CP312, True),
    ("17.3.x-scala2.13", CP311, False),
    ("18.0.x-scala2.13", CP312, False),     # Python not known here: refused
    ("14.3.x-scala2.12", CP311, False),     # Ubuntu 22.04 but Python 3.10
    ("15.4.x-scala2.12", "/repo/txflow-0.1.0-cp310-cp310-linux_x86_64.whl", False),
])
def test_runtime_and_wheel_tag_must_agree(jobs, spark_version, wheel, accepted):
    assert apply_accepts(jobs, spark_version, wheel) is accepted, \
        f"{spark_version} with {wheel.rsplit('/', 1)[-1]}: expected {'accepted' if accepted else 'refused'}"


def test_every_runtime_the_validation_admits_has_a_wheel_tag(jobs):
    (sv,) = jobs.variables["spark_version"]["validation"]
    pattern = _can_regex(sv["condition"], "var.spark_version")
    tags = tm.strip(jobs.locals["wheel_tag_of_runtime"])
    admitted = {str(major) for major in range(1, 40) for scala in ("2.12", "2.13")
                if pattern.search(f"{major}.4.x-scala{scala}")}
    assert admitted and admitted <= set(tags), \
        f"runtimes admitted without a known Python: {sorted(admitted - set(tags))}"
    assert tags["15"] == "cp311"
    assert {tags[m] for m in tags if int(m) >= 16} == {"cp312"}


def test_dev_example_exposes_runtime_and_node_types_with_the_modules_defaults(modules, jobs):
    dev = modules["examples/dev"]
    wiring = dev.modules["jobs"]
    for var in ("spark_version", "x_node_type_id", "y_node_type_id"):
        assert var in dev.variables, f"examples/dev does not expose {var}"
        assert dev.variables[var]["default"] == jobs.variables[var]["default"], var
        assert wiring.get(var) == "${var.%s}" % var, f"examples/dev does not pass {var} to the jobs"
    # The example's defaults go together: 15.4 LTS and the cp311 wheel.
    default_wheel = dev.variables["wheel_path"]["default"]
    assert apply_accepts(jobs, dev.variables["spark_version"]["default"], default_wheel)
    tfvars = tm.hcl2.loads((dev.folder / "terraform.tfvars.example").read_text(),
                           serialization_options=tm._OPTIONS)
    assert apply_accepts(jobs, tfvars["spark_version"], tfvars["wheel_path"])


# --- the bucket ----------------------------------------------------------


def test_bucket_has_versioning_enabled(storage):
    v = storage.one("aws_s3_bucket_versioning")
    assert v["bucket"] == "${aws_s3_bucket.this.id}"
    assert tm.strip(v["versioning_configuration"])[0]["status"] == "Enabled"


def test_bucket_has_default_encryption(storage):
    sse = tm.strip(storage.one("aws_s3_bucket_server_side_encryption_configuration"))
    assert sse["bucket"] == "${aws_s3_bucket.this.id}"
    default = sse["rule"][0]["apply_server_side_encryption_by_default"][0]
    assert default["sse_algorithm"] == \
        '${var.kms_key_arn == null ? "AES256" : "aws:kms"}'


def test_bucket_blocks_every_kind_of_public_access(storage):
    block = storage.one("aws_s3_bucket_public_access_block")
    assert block["bucket"] == "${aws_s3_bucket.this.id}"
    for flag in ("block_public_acls", "block_public_policy", "ignore_public_acls",
                 "restrict_public_buckets"):
        assert block.get(flag) is True, f"public access block: {flag} is not true"
    owner = tm.strip(storage.one("aws_s3_bucket_ownership_controls"))
    assert owner["rule"][0]["object_ownership"] == "BucketOwnerEnforced"


def test_bucket_policy_denies_requests_without_tls(storage):
    policy = storage.one("aws_s3_bucket_policy")
    assert policy["policy"] == "${data.aws_iam_policy_document.tls_only.json}"
    doc = tm.strip(storage.data[("aws_iam_policy_document", "tls_only")])
    denies = [s for s in doc["statement"] if s["effect"] == "Deny"]
    insecure = [s for s in denies
                if any(c["variable"] == "aws:SecureTransport" and c["values"] == ["false"]
                       and c["test"] == "Bool" for c in s.get("condition", []))]
    assert insecure, "no Deny on aws:SecureTransport = false"
    s = insecure[0]
    assert s["actions"] == ["s3:*"]
    assert set(s["resources"]) == {"${aws_s3_bucket.this.arn}", "${aws_s3_bucket.this.arn}/*"}
    assert s["principals"][0]["identifiers"] == ["*"]


def test_bucket_lifecycle_aborts_stale_uploads_expires_old_versions_and_can_expire_chunks(storage):
    lc = storage.one("aws_s3_bucket_lifecycle_configuration")
    rules = {r["id"]: r for r in tm.strip(lc["rule"])}
    assert rules["abort-incomplete-multipart-uploads"]["abort_incomplete_multipart_upload"][0][
        "days_after_initiation"] >= 1
    assert "noncurrent_version_expiration" in rules["expire-noncurrent-versions"]
    assert rules["abort-incomplete-multipart-uploads"]["filter"] == [{}], "whole bucket"
    chunks = rules["expire-old-chunks"]
    assert chunks["status"] == '${var.chunk_retention_days == null ? "Disabled" : "Enabled"}'
    assert chunks["filter"][0]["prefix"] == "${var.root_prefix}/landing_zone/"
    assert storage.variables["chunk_retention_days"]["default"] is None


def test_bucket_outputs_name_the_root_and_its_four_prefixes(storage):
    assert tm.strip(storage.locals["prefixes"]) == \
        ["landing_zone", "state", "detections", "quarantine"]


# --- the role ------------------------------------------------------------

OBJECT_ACTIONS = {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}
WRITE_ACTIONS = OBJECT_ACTIONS - {"s3:GetObject"}
BUCKET_ACTIONS = {"s3:ListBucket", "s3:GetBucketLocation"}


def _statements(access):
    doc = tm.strip(access.data[("aws_iam_policy_document", "txflow")])
    statements = list(doc.get("statement", []))
    for dyn in doc.get("dynamic", []):
        statements += dyn["statement"]["content"]
    return statements


def test_role_policy_allows_only_the_s3_actions_txflow_calls(access):
    statements = _statements(access)
    assert statements
    for s in statements:
        assert s.get("effect", "Allow") == "Allow"
        for action in s["actions"]:
            assert "*" not in action, f"wildcard action {action}"
            assert action in OBJECT_ACTIONS | BUCKET_ACTIONS, f"{action} is not needed by txflow"
        assert "not_actions" not in s and "not_resources" not in s
    granted = {a for s in statements for a in s["actions"]}
    assert OBJECT_ACTIONS | {"s3:ListBucket"} <= granted


def test_role_policy_resources_are_limited_to_the_bucket_prefix(access):
    assert access.locals["bucket_arn"] == "${var.bucket_arn}"
    assert access.locals["root"] == "${var.root_prefix}"
    for s in _statements(access):
        resources = s["resources"]
        resources = resources if isinstance(resources, list) else [resources]
        for r in resources:
            assert r != "*" and not r.endswith(":::*"), f"resource {r} is not limited"
        if set(s["actions"]) & WRITE_ACTIONS:
            assert resources == ["${local.bucket_arn}/${local.root}/*"], \
                f"writes allowed beyond the root prefix: {resources}"
        elif set(s["actions"]) & OBJECT_ACTIONS:
            # Reads of the inputs: one prefix each, and a prefix cannot be
            # empty or hold a wildcard (the variable's validation).
            assert resources == ['${[for p in local.readable : "${local.bucket_arn}/${p}/*"]}'], \
                resources
            assert access.locals["readable"] == "${var.read_only_prefixes}"
            (check,) = access.variables["read_only_prefixes"]["validation"]
            assert "^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$" in check["condition"], check
        else:
            assert resources == ["${local.bucket_arn}"]
        if "s3:ListBucket" in s["actions"]:
            (cond,) = s["condition"]
            assert (cond["test"], cond["variable"]) == ("StringLike", "s3:prefix")
            values = cond["values"]
            text = values if isinstance(values, str) else " ".join(values)
            assert '"${local.root}/*"' in text or "${local.root}/*" in values, text
            assert '"*"' not in text and "*" not in (values if isinstance(values, list) else []), \
                f"ListBucket allowed for every prefix: {text}"


def test_role_is_for_ec2_instances_and_has_an_instance_profile(access):
    trust = tm.strip(access.data[("aws_iam_policy_document", "assume_by_ec2")])
    (s,) = trust["statement"]
    assert s["actions"] == ["sts:AssumeRole"]
    assert s["principals"][0]["identifiers"] == ["ec2.amazonaws.com"]
    profile = access.one("aws_iam_instance_profile")
    assert profile["role"] == "${aws_iam_role.this.name}"
    passrole = tm.strip(access.data[("aws_iam_policy_document", "pass_role")])
    assert passrole["statement"][0]["resources"] == ["${aws_iam_role.this.arn}"]


# --- the order of the first apply ----------------------------------------
# databricks_instance_profile (modules/jobs) makes the workspace verify the
# profile; it fails ("Invalid IAM Instance Profile ARN") when it runs before
# the iam:PassRole grant exists or while IAM is still propagating the new
# profile (databricks/terraform-provider-databricks issues 779 and 1226).

IAM_PREREQUISITES = {"${aws_iam_instance_profile.this}", "${aws_iam_role_policy.txflow}",
                     "${aws_iam_role_policy.pass_role}"}


def test_instance_profile_is_registered_only_after_iam_is_ready_and_propagated(access, jobs, modules):
    wait = tm.strip(access.resources[("time_sleep", "iam_propagation")])
    assert IAM_PREREQUISITES <= set(wait.get("depends_on", [])), \
        f"the IAM wait starts before {sorted(IAM_PREREQUISITES - set(wait.get('depends_on', [])))}"
    assert seconds(wait["create_duration"]) >= 20, wait["create_duration"]
    assert wait["triggers"]["instance_profile_arn"] == "${aws_iam_instance_profile.this.arn}"
    out = access.outputs["instance_profile_arn"]
    assert "time_sleep.iam_propagation" in out["value"], \
        f"the ARN is handed out without the wait: {out['value']}"
    assert IAM_PREREQUISITES | {"${time_sleep.iam_propagation}"} <= set(out.get("depends_on", [])), \
        f"output instance_profile_arn does not wait for the IAM resources: {out.get('depends_on')}"
    # The registration reads exactly that output: through the example's
    # wiring into the jobs module's variable.
    dev = modules["examples/dev"]
    assert dev.modules["jobs"]["instance_profile_arn"] == "${module.access.instance_profile_arn}"
    assert jobs.resources[("databricks_instance_profile", "txflow")]["instance_profile_arn"] \
        == "${var.instance_profile_arn}"
    # hashicorp/time is pinned where it is used and in the example.
    for name in ("modules/access", "examples/dev"):
        required = {k: v for t in modules[name].terraform
                    for block in t.get("required_providers", []) for k, v in block.items()}
        assert required.get("time", {}).get("source") == "hashicorp/time", \
            f"{name}: hashicorp/time is not in required_providers"
