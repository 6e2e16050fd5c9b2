"""The Terraform of deploy/terraform as Python data, for the offline checks.

python-hcl2 parses every .tf file (no provider, no `terraform init`). Values
come back as Python literals where the source has literals, and as
"${...}" strings where it has expressions. `resolve` replaces a whole-string
`${var.NAME}` / `${local.NAME}` by the variable's default (or a sample value
the test gives) or the local's literal value, so that the Jobs API model sees
real types and enum values; any other expression stays a "${...}" string,
which the databricks-bundles model accepts as a variable reference.
"""

from __future__ import annotations

import copy
import pathlib
import re

import hcl2
from hcl2 import SerializationOptions

TERRAFORM = pathlib.Path(__file__).resolve().parents[2] / "deploy" / "terraform"

_OPTIONS = SerializationOptions(
    with_comments=False, strip_string_quotes=True, explicit_blocks=True)
_META = {"count", "for_each", "depends_on", "lifecycle", "provider"}
_REF = re.compile(r"^\$\{(var|local)\.([A-Za-z0-9_]+)\}$")
# `${var.FLAG ? A : B}` with A and B a reference or [] (e.g. local.start_emails).
_CHOICE = re.compile(r"^\$\{var\.([A-Za-z0-9_]+) \? ([\w.\[\]]+) : ([\w.\[\]]+)\}$")


def tf_files(root: pathlib.Path = TERRAFORM) -> list[pathlib.Path]:
    return sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)


def strip(value):
    """Removes python-hcl2's block markers and the quotes of block labels."""
    if isinstance(value, dict):
        return {k.strip('"'): strip(v) for k, v in value.items()
                if k != "__is_block__"}
    if isinstance(value, list):
        return [strip(v) for v in value]
    return value


def is_block(value) -> bool:
    return isinstance(value, dict) and value.get("__is_block__") is True


class Module:
    """One folder of .tf files: its resources, data sources, variables, locals."""

    def __init__(self, folder: pathlib.Path):
        self.folder = folder
        self.resources: dict[tuple[str, str], dict] = {}
        self.data: dict[tuple[str, str], dict] = {}
        self.variables: dict[str, dict] = {}
        self.locals: dict = {}
        self.modules: dict[str, dict] = {}
        self.outputs: dict[str, dict] = {}
        self.terraform: list[dict] = []
        for path in sorted(folder.glob("*.tf")):
            doc = hcl2.loads(path.read_text(), serialization_options=_OPTIONS)
            for kind, target in (("resource", self.resources), ("data", self.data)):
                for entry in doc.get(kind, []):
                    for rtype, named in entry.items():
                        for name, body in named.items():
                            target[(rtype.strip('"'), name.strip('"'))] = body
            for entry in doc.get("variable", []):
                for name, body in entry.items():
                    self.variables[name.strip('"')] = strip(body)
            for entry in doc.get("locals", []):
                self.locals.update(strip(entry))
            for entry in doc.get("output", []):
                for name, body in entry.items():
                    self.outputs[name.strip('"')] = strip(body)
            for entry in doc.get("module", []):
                for name, body in entry.items():
                    self.modules[name.strip('"')] = strip(body)
            self.terraform += [strip(t) for t in doc.get("terraform", [])]

    def of_type(self, rtype: str) -> dict[str, dict]:
        return {n: b for (t, n), b in self.resources.items() if t == rtype}

    def one(self, rtype: str) -> dict:
        found = self.of_type(rtype)
        assert len(found) == 1, f"{self.folder.name}: expected one {rtype}, found {sorted(found)}"
        return next(iter(found.values()))

    def resolve(self, value, samples: dict | None = None, depth: int = 0):
        """`value` with whole-string var/local references replaced (see above)."""
        samples = samples or {}
        if isinstance(value, dict):
            return {k: self.resolve(v, samples, depth) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, samples, depth) for v in value]
        if not isinstance(value, str) or depth > 10:
            return value
        choice = _CHOICE.match(value)
        if choice:
            flag = self.resolve(f"${{var.{choice.group(1)}}}", samples, depth + 1)
            if isinstance(flag, bool):
                branch = choice.group(2) if flag else choice.group(3)
                return [] if branch == "[]" else self.resolve(f"${{{branch}}}", samples, depth + 1)
        m = _REF.match(value)
        if not m:
            return value
        kind, name = m.groups()
        if kind == "var":
            if name in samples:
                return copy.deepcopy(samples[name])
            var = self.variables.get(name)
            assert var is not None, f"{self.folder.name}: var.{name} is not declared"
            if "default" in var and var["default"] is not None:
                return self.resolve(var["default"], samples, depth + 1)
            return value
        assert name in self.locals, f"{self.folder.name}: local.{name} is not defined"
        return self.resolve(strip(self.locals[name]), samples, depth + 1)


def all_modules(root: pathlib.Path = TERRAFORM) -> list[Module]:
    folders = sorted({p.parent for p in tf_files(root)})
    return [Module(f) for f in folders]


# --- databricks_job (Terraform provider) -> Jobs API 2.2 JobSettings -------

# Repeated blocks of the provider that are lists in the API, under the API's
# name. Every other block occurs at most once and is an object.
_LIST_BLOCKS = {
    "task": "tasks",
    "job_cluster": "job_clusters",
    "library": "libraries",
    "parameter": "parameters",
    "environment": "environments",
    "rules": "rules",
    "init_scripts": "init_scripts",
    "depends_on": "depends_on",
    # webhook_notifications.on_*: lists of {id}
    "on_start": "on_start",
    "on_success": "on_success",
    "on_failure": "on_failure",
    "on_duration_warning_threshold_exceeded": "on_duration_warning_threshold_exceeded",
    "on_streaming_backlog_exceeded": "on_streaming_backlog_exceeded",
}


def _expand_dynamic(body: dict) -> dict:
    """A `dynamic "x" { content { ... } }` becomes one `x` block (its content)."""
    out = {k: v for k, v in body.items() if k != "dynamic"}
    for entry in body.get("dynamic", []):
        for label, spec in entry.items():
            label = label.strip('"')
            content = spec["content"][0]
            out.setdefault(label, []).append(content)
    return out


def block_to_api(body: dict, path: str = "") -> dict:
    """A provider block (python-hcl2 form) as a Jobs API object."""
    body = _expand_dynamic(body)
    api: dict = {}
    for key, value in body.items():
        if key == "__is_block__" or (path == "" and key in _META):
            continue
        if isinstance(value, list) and value and all(is_block(v) for v in value):
            objects = [block_to_api(v, f"{path}{key}.") for v in value]
            # webhook_notifications.on_failure etc. are lists; so are the
            # task's depends_on blocks; everywhere else the name decides.
            if key in _LIST_BLOCKS and not (path == "" and key in _META):
                api[_LIST_BLOCKS[key]] = objects
            else:
                assert len(objects) == 1, f"block {path}{key} given {len(objects)} times"
                api[key] = objects[0]
        else:
            api[key] = strip(value)
    return api


def _as_bundle_variables(value):
    """Expressions left after `resolve` (function calls, resource attributes)
    become databricks-bundles variable references, which its model accepts
    in place of a value of any type; everything else is checked as is."""
    if isinstance(value, dict):
        return {k: _as_bundle_variables(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_bundle_variables(v) for v in value]
    if isinstance(value, str) and value.startswith("${") and value.endswith("}"):
        return "${var.terraform_" + re.sub(r"[^A-Za-z0-9]+", "_", value[2:-1]).strip("_")[:60] + "}"
    return value


def job_settings(module: Module, name: str, samples: dict, *, for_model=False) -> dict:
    """The databricks_job `name` of `module` as Jobs API JobSettings JSON;
    `for_model`: with unresolved expressions as bundle variables."""
    body = module.resources[("databricks_job", name)]
    settings = module.resolve(block_to_api(body), samples)
    return _as_bundle_variables(settings) if for_model else settings
