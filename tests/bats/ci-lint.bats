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
