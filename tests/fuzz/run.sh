#!/usr/bin/env bash
# Runs each fuzz target (build/fuzz/fuzz_TARGET, from `make fuzz`) for
# SECONDS over a scratch copy of its corpus, tests/fuzz/corpus/TARGET, so
# that the repository's corpus stays as it is. Any crash, leak, timeout or
# out-of-memory fails the target; its input is kept in build/fuzz/artifacts/.
# Temporary files of the targets live in the scratch folder, removed at the
# end whatever happened.
#   tests/fuzz/run.sh SECONDS TARGET...
# Closes with one line: "fuzz: N passed, M failed", N counting the targets
# that ran clean.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:?usage: tests/fuzz/run.sh SECONDS TARGET...}
shift
[ $# -gt 0 ] || { echo "usage: tests/fuzz/run.sh SECONDS TARGET..." >&2; exit 2; }

scratch=$(mktemp -d "${TMPDIR:-/tmp}/tb-fuzz-run-XXXXXX")
trap 'rm -rf --one-file-system "$scratch"' EXIT
artifacts=$PWD/build/fuzz/artifacts
mkdir -p "$artifacts"

passed=0 failed=0
for target in "$@"; do
	bin=build/fuzz/fuzz_$target
	corpus=$scratch/corpus-$target
	mkdir -p "$corpus" "$scratch/tmp-$target"
	cp tests/fuzz/corpus/"$target"/* "$corpus"/
	args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
	      -artifact_prefix="$artifacts/$target-")
	[ -f "tests/fuzz/$target.dict" ] && args+=(-dict="tests/fuzz/$target.dict")
	# shellcheck disable=SC2012 # a count for the log; seed names are hashes, one line each
	echo "fuzz: $target for ${seconds}s over $(ls "$corpus" | wc -l) seeds"
	log=$scratch/$target.log
	status=0
	# Leaks are errors (ASan's leak check at the end of every input that
	# grew the heap); the sanitizers stop at the first report.
	TMPDIR=$scratch/tmp-$target \
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		"$bin" "${args[@]}" "$corpus" >"$log" 2>&1 || status=$?
	if [ "$status" = 0 ]; then
		passed=$((passed + 1))
		grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|Done [0-9]+ runs)' "$log" | sed "s/^/fuzz: $target: /" || true
		echo "fuzz: $target: ok"
	else
		failed=$((failed + 1))
		tail -n 60 "$log" >&2
		echo "fuzz: $target: FAILED (exit $status); inputs in $artifacts/" >&2
	fi
	leftover=$(find "$scratch/tmp-$target" -mindepth 1 -maxdepth 1 | head -n 5)
	if [ -n "$leftover" ] && [ "$status" = 0 ]; then
		echo "fuzz: $target left files behind: $leftover" >&2
		passed=$((passed - 1)) failed=$((failed + 1))
	fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ]
