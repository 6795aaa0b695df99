#!/usr/bin/python3
"""Runs the composite action in action.yml locally, as GitHub's runner would.

    tests/action-run.py SCRATCH INPUT=VALUE...

Reads the steps from action.yml (so the test exercises the real action,
not a copy of it), evaluates each step's `if:` and `env:` expressions
(only the forms the action uses: inputs, steps' outputs, always(),
success(), failure()), and runs its `run:` with `bash -e -o pipefail`, as
`shell: bash` does. Each step gets fresh GITHUB_OUTPUT and GITHUB_ENV files
in SCRATCH (outputs.ID, env.ID), read back afterwards; GITHUB_STEP_SUMMARY
is SCRATCH/summary.md. Writes SCRATCH/result.json: each step's id, whether
it ran and its exit code, its outputs, and the action's outputs. Exits
with the first failing step's code, as the job would fail.
"""
import json
import os
import re
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXPR = re.compile(r"^\$\{\{\s*(.*?)\s*\}\}$")


def read_kv(path):
    """NAME=VALUE lines of a runner file (the action writes no heredocs)."""
    out = {}
    if os.path.exists(path):
        for line in open(path, encoding="utf-8").read().splitlines():
            if line:
                name, sep, value = line.partition("=")
                if not sep:
                    sys.exit(f"action-run: {path}: not NAME=VALUE: {line!r}")
                out[name] = value
    return out


def evaluate(text, inputs, outputs):
    m = EXPR.match(str(text))
    if not m:
        if "${{" in str(text):
            sys.exit(f"action-run: unsupported expression: {text}")
        return str(text)
    e = m.group(1)
    if m2 := re.fullmatch(r"inputs\.([\w-]+)", e):
        return inputs[m2.group(1)]
    if m2 := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", e):
        return outputs.get(m2.group(1), {}).get(m2.group(2), "")
    sys.exit(f"action-run: unsupported expression: {text}")


def should_run(cond, failed):
    cond = str(cond or "success()").strip()
    cond = EXPR.match(cond).group(1) if EXPR.match(cond) else cond
    if cond == "always()":
        return True
    if cond == "success()":
        return not failed
    if cond == "failure()":
        return failed
    sys.exit(f"action-run: unsupported if: {cond}")


def main():
    scratch, given = sys.argv[1], sys.argv[2:]
    action = yaml.safe_load(open(os.path.join(REPO, "action.yml"), encoding="utf-8"))
    assert action["runs"]["using"] == "composite", action["runs"]
    inputs = {}
    for name, spec in action.get("inputs", {}).items():
        inputs[name] = str(spec.get("default", ""))
    for arg in given:
        name, _, value = arg.partition("=")
        if name not in inputs:
            sys.exit(f"action-run: action.yml has no input {name}")
        inputs[name] = value
    for name, spec in action.get("inputs", {}).items():
        if spec.get("required") and not inputs[name]:
            sys.exit(f"action-run: input {name} is required")

    env = dict(os.environ)
    env["GITHUB_ACTION_PATH"] = REPO
    env["GITHUB_STEP_SUMMARY"] = os.path.join(scratch, "summary.md")
    env.setdefault("RUNNER_TEMP", scratch)
    outputs, steps, failed, first_rc = {}, [], False, 0
    for i, step in enumerate(action["runs"]["steps"]):
        sid = step.get("id", f"step{i}")
        assert step.get("shell") == "bash", f"step {sid}: shell must be bash"
        record = {"id": sid, "run": step["run"], "ran": False, "rc": None}
        steps.append(record)
        if not should_run(step.get("if"), failed):
            continue
        senv = dict(env)
        for k, v in (step.get("env") or {}).items():
            senv[k] = evaluate(v, inputs, outputs)
        senv["GITHUB_OUTPUT"] = os.path.join(scratch, f"outputs.{sid}")
        senv["GITHUB_ENV"] = os.path.join(scratch, f"env.{sid}")
        for f in (senv["GITHUB_OUTPUT"], senv["GITHUB_ENV"]):
            open(f, "w").close()
        print(f"action-run: step {sid}: {step.get('name', '')}", flush=True)
        # shell: bash runs the script as `bash --noprofile --norc -eo pipefail FILE`.
        rc = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
                            env=senv).returncode
        record.update(ran=True, rc=rc)
        outputs[sid] = read_kv(senv["GITHUB_OUTPUT"])
        record["outputs"] = outputs[sid]
        env.update(read_kv(senv["GITHUB_ENV"]))
        if rc != 0 and not failed:
            failed, first_rc = True, rc
    result = {
        "steps": steps,
        "outputs": {k: evaluate(v["value"], inputs, outputs) for k, v in action.get("outputs", {}).items()},
        "failed": failed,
    }
    json.dump(result, open(os.path.join(scratch, "result.json"), "w"), indent=1)
    sys.exit(first_rc)


main()
