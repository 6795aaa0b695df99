# testbed images and testbed prune: the cache's trees with their sizes,
# sources and labs; prune removes only what no lab uses, never following a
# link out of a tree. The tests run in order: the first brings lab ic-a up
# (its tree in use) and leaves a second tree no lab uses.
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	# A cache and state of this suite's own: prune empties the cache.
	export TESTBED_STATE_DIR=$BATS_FILE_TMPDIR/state
	export TESTBED_CACHE_DIR=$BATS_FILE_TMPDIR/cache
	export OUTSIDE=$BATS_FILE_TMPDIR/outside
	mkdir -p "$OUTSIDE/dir"
	echo keep >"$OUTSIDE/dir/file"
	# A second image: the pod image plus a link out of the tree and a
	# read-only directory, so that its sha256 differs too.
	local tree=$BATS_FILE_TMPDIR/tree-b
	mkdir -p "$tree"
	tar --zstd -xf "$REPO/images/pod.tar.zst" -C "$tree"
	ln -s "$OUTSIDE/dir" "$tree/escape"
	ln -s "$OUTSIDE" "$tree/escape-up"
	mkdir -p "$tree/ro/sub"
	echo x >"$tree/ro/sub/file"
	chmod 0555 "$tree/ro/sub" "$tree/ro"
	tar --numeric-owner -C "$tree" -cf "$BATS_FILE_TMPDIR/b.tar" .
	lab_file ic-a "$REPO/images/pod.tar.zst"
	lab_file ic-b "$BATS_FILE_TMPDIR/b.tar"
}

teardown_file() {
	"$TESTBED" down ic-a >/dev/null 2>&1 || true
	"$TESTBED" down ic-b >/dev/null 2>&1 || true
	chmod -R u+w "$BATS_FILE_TMPDIR" 2>/dev/null || true
}

# A lab of one host without a server, on image $2.
lab_file() {
	cat >"$BATS_FILE_TMPDIR/$1.json" <<-JSON
	{"name": "$1", "images": {"pod": "$2"}, "hosts": [{"name": "h1", "http": false}]}
	JSON
}

sha_of() { sha256sum "$1" | cut -d' ' -f1; }

# Field $2 of the image $1 in images --json.
image_field() {
	"$TESTBED" images --json | jq -c --arg s "$1" ".images[] | select(.sha256 == \$s) | $2"
}

@test "images lists the tree of a lab that is up: its lab, its source and its size as du counts it" {
	run "$TESTBED" up -q "$BATS_FILE_TMPDIR/ic-b.json"
	assert_success
	run "$TESTBED" down ic-b
	assert_success
	run "$TESTBED" up -q "$BATS_FILE_TMPDIR/ic-a.json"
	assert_success
	sha=$(sha_of "$REPO/images/pod.tar.zst")
	assert_equal "$(image_field "$sha" .labs)" '["ic-a"]'
	assert_equal "$(image_field "$sha" .source)" "\"$(realpath "$REPO/images/pod.tar.zst")\""
	assert_equal "$(image_field "$sha" .bytes)" "$(du -s -B1 "$TESTBED_CACHE_DIR/$sha" | cut -f1)"
	image_field "$sha" .unpacked | grep -qE '^"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z"$'
	run "$TESTBED" images
	assert_success
	assert_line --index 0 --regexp '^IMAGE +SIZE +UNPACKED +SOURCE +LABS$'
	assert_line --regexp "^${sha:0:12} +[0-9.]+ MiB +[0-9-]+ [0-9:]+ +$(realpath "$REPO/images/pod.tar.zst") +ic-a$"
	assert_line --regexp '^2 images, [0-9.]+ MiB; 1 used by no lab \([0-9.]+ MiB\)$'
}

@test "a tree no lab uses is listed with no lab" {
	sha=$(sha_of "$BATS_FILE_TMPDIR/b.tar")
	assert_equal "$(image_field "$sha" .labs)" '[]'
	assert_equal "$(image_field "$sha" .bytes)" "$(du -s -B1 "$TESTBED_CACHE_DIR/$sha" | cut -f1)"
	run "$TESTBED" images
	assert_line --regexp "^${sha:0:12} .* +-$"
}

@test "prune --dry-run says what it would remove and removes nothing" {
	mkdir -p "$TESTBED_CACHE_DIR/.unpack-Ab12Cd/usr"
	ln -s "$OUTSIDE/dir" "$TESTBED_CACHE_DIR/.unpack-Ab12Cd/usr/lib"
	before=$(cd "$TESTBED_CACHE_DIR" && find . | sort)
	a=$(sha_of "$REPO/images/pod.tar.zst")
	b=$(sha_of "$BATS_FILE_TMPDIR/b.tar")
	bytes=$(( $(image_field "$b" .bytes) + $(du -s -B1 "$TESTBED_CACHE_DIR/.unpack-Ab12Cd" | cut -f1) ))
	run "$TESTBED" prune --dry-run
	assert_success
	assert_line --regexp "^would remove $b \([0-9.]+ MiB, $BATS_FILE_TMPDIR/b.tar\)$"
	assert_line --regexp '^would remove leftover \.unpack-Ab12Cd '
	assert_line --regexp "^would free [0-9.]+ MiB \($bytes bytes\)$"
	refute_output --partial "$a"
	assert_equal "$(cd "$TESTBED_CACHE_DIR" && find . | sort)" "$before"
}

@test "prune removes only the tree no lab uses, without following its links out" {
	a=$(sha_of "$REPO/images/pod.tar.zst")
	b=$(sha_of "$BATS_FILE_TMPDIR/b.tar")
	run "$TESTBED" prune
	assert_success
	assert_line --regexp "^removed $b "
	assert_line --regexp '^removed leftover \.unpack-Ab12Cd '
	assert_line --regexp '^freed '
	refute_output --partial "$a"
	[ ! -e "$TESTBED_CACHE_DIR/$b" ] && [ ! -e "$TESTBED_CACHE_DIR/$b.json" ]
	[ -d "$TESTBED_CACHE_DIR/$a/bin" ] && [ -f "$TESTBED_CACHE_DIR/$a.json" ]
	run bash -c "ls -A '$TESTBED_CACHE_DIR' | grep unpack"
	assert_output ""
	assert_equal "$(cat "$OUTSIDE/dir/file")" keep
	# The lab still runs on its tree.
	run "$TESTBED" exec ic-a h1 -- cat /etc/hostname
	assert_success
	assert_output h1
}

@test "while a lab's images are unknown, prune keeps every tree and says why" {
	fake=$(printf 'f%.0s' $(seq 64))
	mkdir -m 0755 "$TESTBED_CACHE_DIR/$fake"
	# As an up leaves it between writing its state and saving its plan.
	mkdir -m 0700 "$TESTBED_STATE_DIR/ic-c"
	run "$TESTBED" prune
	assert_success
	assert_line --regexp '^lab ic-c: its images are unknown \(.*\), so prune keeps every tree$'
	assert_line "freed 0 B (0 bytes)"
	[ -d "$TESTBED_CACHE_DIR/$fake" ]
	rmdir "$TESTBED_STATE_DIR/ic-c"
	run "$TESTBED" prune
	assert_success
	assert_line --regexp "^removed $fake \(4.0 KiB, source unknown\)$"
	[ ! -e "$TESTBED_CACHE_DIR/$fake" ]
}

@test "after down, prune removes the rest and the cache holds only its lock" {
	a=$(sha_of "$REPO/images/pod.tar.zst")
	run "$TESTBED" down ic-a
	assert_success
	run "$TESTBED" prune
	assert_success
	assert_line --regexp "^removed $a "
	run ls -A "$TESTBED_CACHE_DIR"
	assert_output .lock
	run "$TESTBED" images
	assert_success
	assert_output "no images cached in $TESTBED_CACHE_DIR"
	run "$TESTBED" images --json
	assert_equal "$(jq -c .images <<<"$output")" '[]'
}

@test "images and prune take no operands; not as root they say they need root" {
	run "$TESTBED" images extra
	assert_failure 2
	run "$TESTBED" prune --bogus
	assert_failure 2
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TESTBED" images
	assert_failure 2
	assert_output --regexp '^testbed images: needs root .*Permission denied'
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TESTBED" prune --dry-run
	assert_failure 2
	assert_output --partial "testbed prune: needs root"
}
