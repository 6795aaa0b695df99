# make lint's own checks of the workflows (ci/lint/action.py): actions from
# other repositories pinned by commit, and no host path in a container job,
# where ${{ github.workspace }} is the host's (actions/runner#2058). The
# repository's own files pass; each check refuses what it is about. No lab.
bats_require_minimum_version 1.5.0
load helpers

SHA=ea165f8d65b6e75b540449e92b4886f43607fa02

# Lints action.yml with WORKFLOW (a file).
lint() {
	run "$REPO/ci/lint/action.py" check "$REPO/action.yml" "$@"
}

@test "the repository's workflows and action.yml pass" {
	lint "$REPO"/.github/workflows/*.yml
	assert_success
	assert_output ''
}

@test "an action from another repository must be pinned by a full commit SHA, its tag in a comment" {
	cat >"$BATS_TEST_TMPDIR/wf.yml" <<-YML
		on: push
		jobs:
		  j:
		    runs-on: ubuntu-latest
		    steps:
		      - uses: actions/checkout@v4
		      - name: no tag
		        uses: actions/upload-artifact@$SHA
		      - name: pinned
		        uses: actions/upload-artifact@$SHA # v4.6.2
		      - uses: ./
		      - name: image
		        uses: docker://debian:12
		  call:
		    uses: someone/repo/.github/workflows/w.yml@main
	YML
	lint "$BATS_TEST_TMPDIR/wf.yml"
	assert_failure
	assert_line --partial 'line 6: uses actions/checkout@v4: not pinned by a full commit SHA'
	assert_line --partial "line 8: uses actions/upload-artifact@$SHA: no # vX.Y.Z comment"
	assert_line --partial 'line 13: uses docker://debian:12: not pinned by its image'
	assert_line --partial 'line 15: uses someone/repo/.github/workflows/w.yml@main: not pinned'
	assert_equal "${#lines[@]}" 4
}

@test "a container job may not name github.workspace, runner.workspace or runner.temp; a plain job may" {
	cat >"$BATS_TEST_TMPDIR/wf.yml" <<-'YML'
		on: push
		jobs:
		  boxed:
		    runs-on: ubuntu-latest
		    container:
		      image: ${{ matrix.image }}
		    env:
		      OUT: ${{ github.workspace }}/build
		    steps:
		      - run: echo "$GITHUB_WORKSPACE" "$RUNNER_TEMP"
		      - run: echo ${{ runner.temp }}
		      - uses: ./
		        with:
		          path: ${{ runner.workspace }}/x
		  plain:
		    runs-on: ubuntu-latest
		    env:
		      OUT: ${{ github.workspace }}/build
		    steps:
		      - run: echo "$OUT"
	YML
	lint "$BATS_TEST_TMPDIR/wf.yml"
	assert_failure
	assert_line --partial 'jobs.boxed.env.OUT: ${{ github.workspace }} is the host'"'"'s path in a container job'
	assert_line --partial 'jobs.boxed.steps[1].run: ${{ runner.temp }} is the host'
	assert_line --partial 'jobs.boxed.steps[2].with.path: ${{ runner.workspace }} is the host'
	assert_equal "${#lines[@]}" 3
}

# ci/lint/layers.py (make lint): orchestrator/'s includes point down its
# layers and close no circle. The repository passes; a planted upward
# include and a planted circle, in a copy, are each found and named.
@test "layers: the repository's includes point down and close no circle" {
	run "$REPO/ci/lint/layers.py"
	assert_success
	assert_output ''
}

@test "layers: an include that points up the layers is refused, naming both" {
	cp -r "$REPO/orchestrator" "$BATS_TEST_TMPDIR/tree"
	sed -i '0,/#include "lab\/cgroup.h"/s//#include "lab\/cgroup.h"\n#include "check\/check.h"/' "$BATS_TEST_TMPDIR/tree/lab/cgroup.c"
	sed -i 's|#include "model/topology.h"|#include "plan/plan.h"|' "$BATS_TEST_TMPDIR/tree/model/validate.c"
	run "$REPO/ci/lint/layers.py" "$BATS_TEST_TMPDIR/tree"
	assert_failure 1
	assert_line --regexp '/tree/lab/cgroup\.c:[0-9]+: lab includes check, a layer above it'
	assert_line --regexp '/tree/model/validate\.c:[0-9]+: model includes plan, a layer above it'
	assert_equal "${#lines[@]}" 2
}

@test "layers: an include circle is refused, with its path" {
	cp -r "$REPO/orchestrator" "$BATS_TEST_TMPDIR/tree"
	# Within one layer: outfile.h includes util.h, which now includes it.
	sed -i 's|#define TESTBED_UTIL_H|#define TESTBED_UTIL_H\n#include "util/outfile.h"|' "$BATS_TEST_TMPDIR/tree/util/util.h"
	run "$REPO/ci/lint/layers.py" "$BATS_TEST_TMPDIR/tree"
	assert_failure 1
	assert_output --regexp 'an include circle: util/outfile -> util/util -> util/outfile'
}

@test "layers: an include without its layer, and a folder that is no layer, are refused" {
	cp -r "$REPO/orchestrator" "$BATS_TEST_TMPDIR/tree"
	sed -i 's|#include "util/util.h"|#include "util.h"|' "$BATS_TEST_TMPDIR/tree/util/outfile.h"
	mkdir "$BATS_TEST_TMPDIR/tree/k8s"
	run "$REPO/ci/lint/layers.py" "$BATS_TEST_TMPDIR/tree"
	assert_failure 1
	assert_output --partial '"util.h": name the header'"'"'s layer'
	assert_output --partial 'k8s: a folder that is no layer'
}
