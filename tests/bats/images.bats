# The rootfs images: what they hold, and that it runs with the image as
# root inside new mount and PID namespaces (and the scratch network one).
bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	require_lab_sandbox
	for kind in pod node; do
		mkdir -p "$BATS_FILE_TMPDIR/$kind"
		tar --zstd -xf "$REPO/images/$kind.tar.zst" -C "$BATS_FILE_TMPDIR/$kind"
		mkdir -p "$BATS_FILE_TMPDIR/$kind/proc"
	done
}

# Runs a shell script inside the image, as PID 1's child with /proc mounted.
in_image() {
	local kind=$1
	shift
	unshare --mount --pid --fork --mount-proc=/proc \
		--root="$BATS_FILE_TMPDIR/$kind" /bin/sh -c "$*"
}

# 18 MB for the stand-in pods' python and busybox, 6 more for the cluster's
# own servers run from it (dnsmasq, nginx, and the libraries and iproute2
# their packages depend on).
@test "the pod image is under 26 MB compressed" {
	size=$(stat -c %s "$REPO/images/pod.tar.zst")
	[ "$size" -lt $((26 * 1024 * 1024)) ]
}

@test "pod image: busybox tools run" {
	run in_image pod 'sh -c "echo from-sh" && ip link show lo && ping -c 1 127.0.0.1 >/dev/null && echo ping-ok && ps | head -2 && nc --help 2>&1 | head -1'
	assert_success
	assert_line "from-sh"
	assert_line "ping-ok"
	assert_output --regexp "PID +USER +(TIME +)?COMMAND"
}

@test "pod image: python3 -m http.server serves a file fetched with busybox wget" {
	run in_image pod '
		echo hello-from-pod > /tmp/index.txt
		cd /tmp && python3 -m http.server 8081 >/dev/null 2>&1 &
		for i in $(seq 50); do timeout 1 wget -q -O - http://127.0.0.1:8081/index.txt 2>/dev/null && exit 0; sleep 0.1; done
		exit 1'
	assert_success
	assert_output "hello-from-pod"
}

@test "pod image: testbed-http answers /hostname, /clientip, / and 404" {
	run in_image pod '
		testbed-http --port 8082 --name web-1 --node node-7 2>/dev/null &
		for i in $(seq 50); do timeout 1 wget -q -O /dev/null http://127.0.0.1:8082/hostname 2>/dev/null && break; sleep 0.1; done
		echo "hostname=$(timeout 2 wget -q -O - http://127.0.0.1:8082/hostname)"
		echo "clientip=$(timeout 2 wget -q -O - http://127.0.0.1:8082/clientip)"
		timeout 2 wget -q -O - http://127.0.0.1:8082/ | python3 -c "import json,sys; d=json.load(sys.stdin); print(\"json=\" + d[\"name\"] + \" \" + d[\"node\"] + \" \" + d[\"address\"] + \" \" + d[\"client\"].split(\":\")[0])"
		timeout 2 wget -q -O - http://127.0.0.1:8082/nope 2>&1 | grep -q "404" && echo "missing=404"'
	assert_success
	assert_line "hostname=web-1"
	assert_line --regexp '^clientip=127\.0\.0\.1:[0-9]+$'
	assert_line "json=web-1 node-7 127.0.0.1 127.0.0.1"
	assert_line "missing=404"
}

@test "node image: iproute2, ping, nft, iptables and tcpdump run" {
	run in_image node 'ip -V && ping -V && nft --version && iptables --version && tcpdump --version 2>&1 | head -1'
	assert_success
	assert_output --partial "iproute2"
	assert_output --partial "nftables"
	assert_output --regexp "iptables v[0-9.]+ \(nf_tables\)"
	assert_output --partial "tcpdump version"
}

@test "node image: nft and iptables work on a network namespace of their own" {
	run unshare --net --mount --pid --fork --mount-proc=/proc \
		--root="$BATS_FILE_TMPDIR/node" /bin/sh -c '
		nft add table inet probe && nft list ruleset && iptables -A INPUT -p tcp --dport 9 -j DROP && iptables -S INPUT'
	assert_success
	assert_output --partial "table inet probe"
	assert_output --partial "-A INPUT -p tcp -m tcp --dport 9 -j DROP"
}

# Hostile and broken image tarballs, unpacked by up into a cache of the
# test's own: every refusal names the image and why, and leaves nothing in
# the cache. (Image and cache failures happen inside up: exit 3.)

# A lab of one host whose pod image is the tarball $1.
image_lab() {
	use_lab_dirs
	cat >"$BATS_TEST_TMPDIR/lab.json" <<-JSON
	{"name": "imgs", "images": {"pod": "$1"}, "hosts": [{"name": "h1", "http": false}]}
	JSON
}

# Asserts that the cache holds no unpacked tree and no temporary directory.
assert_cache_empty() {
	run bash -c "ls -A '$TESTBED_CACHE_DIR' 2>/dev/null | grep -vx '\.lock'"
	assert_output ""
}

# A tarball of the pod image's tree, written with GNU tar: $1 the output,
# the rest tar options.
pod_tarball() {
	local out=$1
	shift
	tar --numeric-owner -C "$BATS_FILE_TMPDIR/pod" "$@" -cf "$out" .
}

teardown() {
	"$TESTBED" down imgs >/dev/null 2>&1 || true
}

@test "a truncated zstd tarball is refused naming the image and libarchive's reason" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	head -c 200000 "$REPO/images/pod.tar.zst" >"$BATS_TEST_TMPDIR/cut.tar.zst"
	image_lab "$BATS_TEST_TMPDIR/cut.tar.zst"
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "image $BATS_TEST_TMPDIR/cut.tar.zst: "
	assert_output --regexp "[Tt]runcated|[Dd]amaged|[Pp]remature end"
	refute_output --partial "(null)"
	assert_cache_empty
}

@test "a truncated gzip tarball is refused naming the image and libarchive's reason" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	mkdir "$BATS_TEST_TMPDIR/tree"
	head -c 300000 /dev/urandom >"$BATS_TEST_TMPDIR/tree/blob"
	tar -C "$BATS_TEST_TMPDIR/tree" -czf "$BATS_TEST_TMPDIR/full.tar.gz" .
	head -c 100000 "$BATS_TEST_TMPDIR/full.tar.gz" >"$BATS_TEST_TMPDIR/cut.tar.gz"
	image_lab "$BATS_TEST_TMPDIR/cut.tar.gz"
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "image $BATS_TEST_TMPDIR/cut.tar.gz: "
	assert_output --regexp "[Tt]runcated|[Dd]amaged|[Pp]remature end"
	refute_output --partial "(null)"
	assert_cache_empty
}

@test "a tarball that expands past TESTBED_IMAGE_MAX_BYTES is refused and leaves no cache entry" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	mkdir "$BATS_TEST_TMPDIR/tree"
	head -c $((8 * 1024 * 1024)) /dev/zero >"$BATS_TEST_TMPDIR/tree/zeros"
	tar -C "$BATS_TEST_TMPDIR/tree" -czf "$BATS_TEST_TMPDIR/bomb.tar.gz" .
	[ "$(stat -c %s "$BATS_TEST_TMPDIR/bomb.tar.gz")" -lt 100000 ]
	image_lab "$BATS_TEST_TMPDIR/bomb.tar.gz"
	TESTBED_IMAGE_MAX_BYTES=1048576 run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "image $BATS_TEST_TMPDIR/bomb.tar.gz: "
	assert_output --partial "1048576 bytes"
	assert_output --partial "TESTBED_IMAGE_MAX_BYTES"
	assert_cache_empty
}

@test "a sparse file and hard links count towards TESTBED_IMAGE_MAX_BYTES" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	mkdir "$BATS_TEST_TMPDIR/sparse" "$BATS_TEST_TMPDIR/links"
	truncate -s 1G "$BATS_TEST_TMPDIR/sparse/hole"
	tar -C "$BATS_TEST_TMPDIR/sparse" --sparse -czf "$BATS_TEST_TMPDIR/sparse.tar.gz" .
	image_lab "$BATS_TEST_TMPDIR/sparse.tar.gz"
	TESTBED_IMAGE_MAX_BYTES=1M run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "TESTBED_IMAGE_MAX_BYTES"
	assert_cache_empty
	# 400 KB stored once, linked four times: 1.6 MB as unpacked.
	head -c 400000 /dev/urandom >"$BATS_TEST_TMPDIR/links/a"
	for n in b c d; do ln "$BATS_TEST_TMPDIR/links/a" "$BATS_TEST_TMPDIR/links/$n"; done
	tar -C "$BATS_TEST_TMPDIR/links" -czf "$BATS_TEST_TMPDIR/links.tar.gz" .
	image_lab "$BATS_TEST_TMPDIR/links.tar.gz"
	TESTBED_IMAGE_MAX_BYTES=1M run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "TESTBED_IMAGE_MAX_BYTES"
	assert_cache_empty
}

@test "a tarball with more entries than TESTBED_IMAGE_MAX_ENTRIES is refused and leaves no cache entry" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	mkdir "$BATS_TEST_TMPDIR/tree"
	touch "$BATS_TEST_TMPDIR"/tree/f{1..100}
	tar -C "$BATS_TEST_TMPDIR/tree" -czf "$BATS_TEST_TMPDIR/many.tar.gz" .
	image_lab "$BATS_TEST_TMPDIR/many.tar.gz"
	TESTBED_IMAGE_MAX_ENTRIES=50 run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "image $BATS_TEST_TMPDIR/many.tar.gz: "
	assert_output --partial "50 entries"
	assert_output --partial "TESTBED_IMAGE_MAX_ENTRIES"
	assert_cache_empty
}

@test "limits that are not positive numbers are refused naming the variable" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	image_lab "$REPO/images/pod.tar.zst"
	for bad in abc 0 -5 12Q 99999999999999999999999; do
		TESTBED_IMAGE_MAX_BYTES=$bad run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
		assert_failure 3
		assert_output --partial "TESTBED_IMAGE_MAX_BYTES"
		assert_output --partial "\"$bad\""
		TESTBED_IMAGE_MAX_ENTRIES=$bad run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
		assert_failure 3
		assert_output --partial "TESTBED_IMAGE_MAX_ENTRIES"
	done
	assert_cache_empty
}

@test "a '.' entry cannot change the mode, owner or times of the cache or the unpacked root" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	mkdir -m 0700 "$TESTBED_CACHE_DIR"
	# (Its mtime changes, of course: up adds entries to it.)
	cache_before=$(stat -c '%a %u %g' "$TESTBED_CACHE_DIR")
	cp -a "$BATS_FILE_TMPDIR/pod" "$BATS_TEST_TMPDIR/root"
	chmod 0777 "$BATS_TEST_TMPDIR/root"
	chown 4321:4321 "$BATS_TEST_TMPDIR/root"
	touch -d '1999-09-09' "$BATS_TEST_TMPDIR/root"
	tar --numeric-owner -C "$BATS_TEST_TMPDIR/root" --zstd -cf "$BATS_TEST_TMPDIR/dot.tar.zst" .
	tar --zstd -tvf "$BATS_TEST_TMPDIR/dot.tar.zst" | head -1 | grep -q '^drwxrwxrwx 4321/4321 .* \./$'
	image_lab "$BATS_TEST_TMPDIR/dot.tar.zst"
	run "$TESTBED" up -q "$BATS_TEST_TMPDIR/lab.json"
	assert_success
	assert_equal "$(stat -c '%a %u %g' "$TESTBED_CACHE_DIR")" "$cache_before"
	hash=$(sha256sum "$BATS_TEST_TMPDIR/dot.tar.zst" | cut -d' ' -f1)
	assert_equal "$(stat -c '%a %u %g' "$TESTBED_CACHE_DIR/$hash")" "755 0 0"
	[ "$(stat -c %Y "$TESTBED_CACHE_DIR/$hash")" -gt "$(date -d 2000-01-01 +%s)" ]
	run tbx imgs h1 ls -ld /
	assert_output --regexp '^drwxr-xr-x +[0-9]+ root +root '
	"$TESTBED" down imgs
}

@test "leftover .unpack-* directories are removed by the next up without following symlinks" {
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	mkdir -p "$BATS_TEST_TMPDIR/outside/dir" "$BATS_TEST_TMPDIR/outside2"
	echo keep >"$BATS_TEST_TMPDIR/outside/dir/file"
	echo keep >"$BATS_TEST_TMPDIR/outside2/file"
	mkdir -m 0700 "$TESTBED_CACHE_DIR"
	# As a killed up leaves them: a half-unpacked tree, here with links out.
	mkdir -p "$TESTBED_CACHE_DIR/.unpack-Ab12Cd/usr/lib" "$TESTBED_CACHE_DIR/.unpack-Zz99Yy"
	ln -s "$BATS_TEST_TMPDIR/outside/dir" "$TESTBED_CACHE_DIR/.unpack-Ab12Cd/usr/lib/escape"
	ln -s "$BATS_TEST_TMPDIR/outside" "$TESTBED_CACHE_DIR/.unpack-Ab12Cd/root"
	echo x >"$TESTBED_CACHE_DIR/.unpack-Ab12Cd/usr/lib/partial"
	chmod 0000 "$TESTBED_CACHE_DIR/.unpack-Ab12Cd/usr"
	ln -s "$BATS_TEST_TMPDIR/outside2" "$TESTBED_CACHE_DIR/.unpack-Link00"
	image_lab "$REPO/images/pod.tar.zst"
	run "$TESTBED" up -q "$BATS_TEST_TMPDIR/lab.json"
	assert_success
	run bash -c "ls -A '$TESTBED_CACHE_DIR' | grep unpack"
	assert_output ""
	assert_equal "$(cat "$BATS_TEST_TMPDIR/outside/dir/file")" keep
	assert_equal "$(cat "$BATS_TEST_TMPDIR/outside2/file")" keep
	"$TESTBED" down imgs
	# With the image already cached, the next up still sweeps.
	mkdir "$TESTBED_CACHE_DIR/.unpack-Qq11Rr"
	ln -s "$BATS_TEST_TMPDIR/outside" "$TESTBED_CACHE_DIR/.unpack-Qq11Rr/out"
	run "$TESTBED" up -q "$BATS_TEST_TMPDIR/lab.json"
	assert_success
	[ ! -e "$TESTBED_CACHE_DIR/.unpack-Qq11Rr" ]
	[ -f "$BATS_TEST_TMPDIR/outside/dir/file" ]
	"$TESTBED" down imgs
}

@test "a cache directory writable by others, owned by nobody, or a symlink is refused" {
	image_lab "$REPO/images/pod.tar.zst"
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/cache
	mkdir -m 0777 "$TESTBED_CACHE_DIR"
	chmod 0777 "$TESTBED_CACHE_DIR"
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "cache directory $TESTBED_CACHE_DIR: "
	assert_output --partial "writable"
	assert_output --partial "chmod go-w $TESTBED_CACHE_DIR"
	assert_cache_empty

	chmod 0755 "$TESTBED_CACHE_DIR"
	chown nobody "$TESTBED_CACHE_DIR"
	run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "cache directory $TESTBED_CACHE_DIR: "
	assert_output --partial "owned by uid $(id -u nobody)"
	assert_output --partial "chown root: $TESTBED_CACHE_DIR"
	assert_cache_empty

	# The parent too: whoever may write there could swap the cache.
	chown root "$TESTBED_CACHE_DIR"
	mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
	chmod 0777 "$BATS_TEST_TMPDIR/open"
	mkdir -m 0700 "$BATS_TEST_TMPDIR/open/cache"
	TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/open/cache run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "cache directory $BATS_TEST_TMPDIR/open/cache: "
	assert_output --partial "$BATS_TEST_TMPDIR/open: writable by others"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/open/cache")" ]

	ln -s "$TESTBED_CACHE_DIR" "$BATS_TEST_TMPDIR/link"
	TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/link run "$TESTBED" up "$BATS_TEST_TMPDIR/lab.json"
	assert_failure 3
	assert_output --partial "cache directory $BATS_TEST_TMPDIR/link: "
	assert_output --partial "symbolic link"
	assert_cache_empty
	[ ! -e "$TESTBED_STATE_DIR" ]
}

@test "a cache directory testbed creates is root's own, mode 0700, parent included" {
	image_lab "$REPO/images/pod.tar.zst"
	export TESTBED_CACHE_DIR=$BATS_TEST_TMPDIR/var/testbed/images
	umask 0
	run "$TESTBED" up -q "$BATS_TEST_TMPDIR/lab.json"
	assert_success
	assert_equal "$(stat -c '%a %u' "$TESTBED_CACHE_DIR")" "700 0"
	assert_equal "$(stat -c '%a %u' "$BATS_TEST_TMPDIR/var/testbed")" "700 0"
	"$TESTBED" down imgs
}
