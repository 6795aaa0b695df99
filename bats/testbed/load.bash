# testbed's bats helpers: bring a lab up for a suite, take it down after,
# and assert what reaches what through `testbed check`.
#
#   bats_load_library testbed        # BATS_LIB_PATH holds $(PREFIX)/lib/bats
#   load /usr/local/lib/bats/testbed/load
#
#   setup_file()    { testbed_up topologies/kubenet-two-nodes.json; }
#   teardown_file() { testbed_teardown; }   # optional when you define none
#   @test "pods talk" { assert_reachable pod-a pod-c; }
#
# Environment: TESTBED (the program; default `testbed` in PATH),
# TESTBED_STATE_DIR and TESTBED_CACHE_DIR (passed on to testbed),
# TESTBED_LAB (the lab the helpers act on; testbed_up sets it).
# Needs jq, bats-support and bats-assert. Failures read like bats-assert's:
# a headline, then what was expected and what happened.

# Load bats-support (fail, batslib_*) and bats-assert unless the suite did:
# through BATS_LIB_PATH first, then Debian's own place for them.
_testbed_load_dep() {
	local name=$1 probe=$2
	declare -F "$probe" >/dev/null && return 0
	bats_load_library_safe "$name" 2>/dev/null && return 0
	[ -f "/usr/lib/bats/$name/load.bash" ] && load "/usr/lib/bats/$name/load.bash" && return 0
	echo "testbed helpers: $name not found (install it, or add its folder to BATS_LIB_PATH)" >&2
	return 1
}
_testbed_load_dep bats-support batslib_print_kv_single_or_multi || return 1
_testbed_load_dep bats-assert assert_success || return 1

: "${TESTBED:=testbed}"
export TESTBED

# Prints a bats-assert style failure and returns 1. Usage:
#   _testbed_fail HEADLINE KEY VALUE [KEY VALUE...]
_testbed_fail() {
	local headline=$1
	shift
	batslib_print_kv_single_or_multi 8 "$@" |
		batslib_decorate "$headline" |
		fail
}

# testbed_up FILE [UP-OPTION...]: for setup_file. Brings the lab up, exports
# TESTBED_LAB (its name) and TESTBED_UP_OUTPUT (a mktemp file holding what
# up printed), and remembers the lab for testbed_teardown. When the suite has
# no teardown_file of its own, one that calls testbed_teardown is defined,
# since bats has no way to register a hook; a suite that defines its own
# teardown_file must call testbed_teardown in it.
testbed_up() {
	local file=$1
	shift || true
	if [ -z "$file" ] || [ ! -r "$file" ]; then
		_testbed_fail "testbed_up: no readable topology FILE" file "${file:-(none)}"
		return
	fi
	# A fresh file (the suite's folder, else TMPDIR): no name a lab could choose.
	local out name status=0
	if ! out=$(TMPDIR=${BATS_FILE_TMPDIR:-${BATS_TEST_TMPDIR:-${TMPDIR:-/tmp}}} mktemp -t testbed-up.XXXXXX); then
		_testbed_fail "testbed_up: mktemp failed" file "$file"
		return
	fi
	# The name as testbed reads it, from the plan of a topology it accepts
	# (its errors are escaped), never from the file's raw text. (jq 1.6 -e
	# exits 0 on no input: an empty name is the refusal.)
	name=$("$TESTBED" plan --format json "$file" 2>"$out" | jq -r '.lab | strings' 2>/dev/null) || name=
	if [ -z "$name" ]; then
		_testbed_fail "testbed_up: testbed refused the topology" file "$file" output "$(cat "$out")"
		return
	fi
	"$TESTBED" up "$@" "$file" >"$out" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		_testbed_fail "testbed_up: testbed up failed" \
			file "$file" lab "$name" status "$status" output "$(cat "$out")"
		return
	fi
	# Recorded only once up succeeded: an up refused because the lab was
	# already up must not make this suite take down a lab it did not build.
	export TESTBED_LAB=$name TESTBED_UP_OUTPUT=$out
	case " ${TESTBED_LABS:-} " in
	*" $name "*) ;;
	*) export TESTBED_LABS="${TESTBED_LABS:+$TESTBED_LABS }$name" ;;
	esac
	# bats defines an empty teardown_file before it reads the suite; only
	# that one is replaced, never the suite's own.
	if [ "$(declare -f teardown_file | tr -d ' \t\n;')" = "teardown_file(){return0}" ]; then
		# shellcheck disable=SC2317 # bats calls it
		teardown_file() { testbed_teardown; }
	fi
}

# testbed_down [NAME]: takes NAME (default TESTBED_LAB) down; a lab that is
# not up is no failure, as with testbed down itself.
testbed_down() {
	local name=${1:-${TESTBED_LAB:-}} out status=0
	if [ -z "$name" ]; then
		_testbed_fail "testbed_down: which lab? (no NAME, and TESTBED_LAB is unset)" lab "(none)"
		return
	fi
	out=$("$TESTBED" down "$name" 2>&1) || status=$?
	if [ "$status" -ne 0 ]; then
		_testbed_fail "testbed_down: testbed down failed" lab "$name" status "$status" output "$out"
		return
	fi
}

# testbed_teardown: for teardown_file. Takes down every lab testbed_up
# brought up in this suite, trying them all even when one fails.
testbed_teardown() {
	local name rc=0
	for name in ${TESTBED_LABS:-}; do
		testbed_down "$name" || rc=1
	done
	return "$rc"
}

# testbed_exec TARGET CMD...: runs CMD in TARGET (a pod, node, host,
# "gateway" or "lab") of TESTBED_LAB and returns its exit code. Plain, so
# that the suite chooses: `run testbed_exec pod-a hostname` for bats' run.
testbed_exec() {
	if [ $# -lt 2 ]; then
		_testbed_fail "testbed_exec: usage: testbed_exec TARGET CMD..." arguments "$*"
		return
	fi
	local target=$1
	shift
	"$TESTBED" exec "${TESTBED_LAB:?testbed_exec: TESTBED_LAB is unset; call testbed_up first}" "$target" -- "$@"
}

# _testbed_probe FROM TO PROTO PORT RESULT CLIENTIP [MORE]: runs one probe
# through `testbed check` with a one-expectation copy of the lab's own
# topology and sets _tb_probe (the probe's JSON object), _tb_status
# (check's exit code) and _tb_err (check's stderr). PORT, RESULT and
# CLIENTIP may be empty; MORE is a JSON object of further fields.
_testbed_probe() {
	local from=$1 to=$2 proto=$3 port=$4 result=$5 clientip=$6 more=${7:-"{}"} lab=${TESTBED_LAB:-} topo err
	_tb_probe='' _tb_status=0 _tb_err=''
	if [ -z "$lab" ]; then
		_tb_err="TESTBED_LAB is unset; call testbed_up first" _tb_status=2
		return
	fi
	# check takes the topology the lab was brought up from, as status
	# reports it; its relative image paths are made absolute since the
	# copy is read from a pipe (resolved against the working directory).
	if ! topo=$("$TESTBED" status --json "$lab" 2>&1 | jq -er '.labs[0].topology | strings' 2>/dev/null); then
		_tb_err="lab $lab is not up (testbed status knows no topology for it)" _tb_status=2
		return
	fi
	err=$(mktemp)
	_tb_probe=$("$TESTBED" check --format json --output /dev/stdout --quiet <(
		jq --arg dir "$(dirname "$topo")" --arg from "$from" --arg to "$to" --arg proto "$proto" \
			--arg port "$port" --arg result "$result" --arg clientip "$clientip" --argjson more "$more" '
			.images |= ((. // {}) | map_values(if startswith("/") then . else $dir + "/" + . end))
			| .expect = [{from: $from, to: $to, proto: $proto}
				+ (if $port == "" then {} else {port: ($port | tonumber)} end)
				+ (if $result == "" then {} else {result: $result} end)
				+ (if $clientip == "" then {} else {clientIP: $clientip} end)
				+ $more]' "$topo"
	) 2>"$err" | jq -c '.probes[0] // empty' 2>/dev/null) || true
	# The pipeline's status is jq's; check's own is read from the report.
	_tb_err=$(cat "$err")
	rm -f "$err"
	if [ -z "$_tb_probe" ]; then
		_tb_status=2
	elif [ "$(jq -r .ok <<<"$_tb_probe")" != true ]; then
		_tb_status=1
	fi
}

# PROTO[:PORT] into _tb_proto and _tb_port; http when empty.
_testbed_proto() {
	_tb_proto=${1:-http} _tb_port=''
	case $_tb_proto in
	*:*) _tb_port=${_tb_proto#*:} _tb_proto=${_tb_proto%%:*} ;;
	esac
	case $_tb_proto in
	http | tcp | udp) ;;
	ping) [ -z "$_tb_port" ] || { _tb_err="ping takes no port" && return 1; } ;;
	*) _tb_err="testbed check probes http, tcp, udp or ping, not \"$_tb_proto\"" && return 1 ;;
	esac
	case $_tb_port in
	'' | [1-9] | [1-9][0-9] | [1-9][0-9][0-9] | [1-9][0-9][0-9][0-9] | [1-9][0-9][0-9][0-9][0-9]) ;;
	*) _tb_err="bad port \"$_tb_port\"" && return 1 ;;
	esac
}

# jq's esc: control characters (C0, DEL, C1) as \xNN per byte of their
# UTF-8, as the CLI's str_escape writes them. testbed check's JSON already
# holds answers and errors escaped that way, so this only guards against a
# control character that reaches the helpers otherwise: jq -r would write a
# \u001b as ESC on the terminal. Backslashes stay as they are, so that the
# CLI's own escapes are not escaped twice.
# shellcheck disable=SC2016 # jq's $h, not the shell's
_tb_jq_esc='def hex: "0123456789abcdef" as $h | $h[(. / 16 | floor):(. / 16 | floor) + 1] + $h[. % 16:. % 16 + 1];
	def esc: tostring | explode | map(
		if . < 32 or . == 127 then "\\x" + hex
		elif . >= 128 and . < 160 then "\\xc2\\x" + hex
		else [.] | implode end) | join("");'

# A probe's field, empty for null, escaped.
_tb_field() {
	jq -r --arg k "$1" "$_tb_jq_esc"' .[$k] // "" | esc' <<<"$_tb_probe"
}

# What the probe found, in words: "pass (answered by pod-c, 1.2 ms)", escaped.
_tb_got() {
	[ -n "$_tb_probe" ] || { echo "no probe ran"; return; }
	jq -r "$_tb_jq_esc"' .got + (if .error then ": " + .error else "" end)
		+ (if .answeredBy then " (answered by " + .answeredBy + ")" else "" end)
		+ (if .dns.name then " (resolved " + .dns.name + ": " + (.dns.answer | join(", ")) + ")" else "" end)
		| esc' <<<"$_tb_probe"
}

# A failure from a probe that never ran (bad lab, refused FILE): check's words.
_tb_fail_nonrun() {
	local what=$1
	shift
	_testbed_fail "$what: testbed check could not run the probe" "$@" \
		lab "${TESTBED_LAB:-(unset)}" reason "$_tb_err"
}

# assert_reachable FROM TO [PROTO[:PORT]]: one probe (http by default, tcp,
# udp or ping) from FROM to TO must pass, as testbed check judges it: http
# needs TO itself to answer GET /hostname, udp a "hostname" datagram. FROM
# and TO are names as expectations write them (NAME, NAMESPACE/NAME, or TO
# as service:, nodeport:, ip: or a DNS name: web.shop, dns:web, which FROM
# resolves first; http to a name goes to port 80, as a URL's).
assert_reachable() {
	_testbed_reach assert_reachable pass "$@"
}

# refute_reachable FROM TO [PROTO[:PORT]]: the same probe must fail.
refute_reachable() {
	_testbed_reach refute_reachable fail "$@"
}

_testbed_reach() {
	local fn=$1 want=$2 from=${3:-} to=${4:-}
	if [ -z "$from" ] || [ -z "$to" ]; then
		_testbed_fail "$fn: usage: $fn FROM TO [PROTO[:PORT]]" arguments "${*:3}"
		return
	fi
	_testbed_proto "${5:-}" || { _testbed_fail "$fn: $_tb_err" proto "${5:-}"; return; }
	_testbed_probe "$from" "$to" "$_tb_proto" "$_tb_port" "$want" ""
	local proto=$_tb_proto${_tb_port:+:$_tb_port}
	if [ "$_tb_status" -eq 2 ]; then
		_tb_fail_nonrun "$fn" from "$from" to "$to" proto "$proto"
		return
	fi
	[ "$_tb_status" -eq 0 ] && return 0
	local expected=reachable
	[ "$want" = pass ] || expected=unreachable
	_testbed_fail "$fn: $from -> $to ($proto) is not $expected" \
		from "$from" to "$to" proto "$proto" expected "$expected ($want)" got "$(_tb_got)"
}

# assert_answered_by FROM TO NAME [PORT]: an HTTP GET /hostname from FROM to
# TO was answered by NAME (TO itself, or whoever serves in its place).
assert_answered_by() {
	local from=${1:-} to=${2:-} name=${3:-} port=${4:-}
	if [ -z "$from" ] || [ -z "$to" ] || [ -z "$name" ]; then
		_testbed_fail "assert_answered_by: usage: assert_answered_by FROM TO NAME [PORT]" arguments "$*"
		return
	fi
	_testbed_proto "http${port:+:$port}" || { _testbed_fail "assert_answered_by: $_tb_err" port "$port"; return; }
	_testbed_probe "$from" "$to" http "$_tb_port" "" ""
	if [ "$_tb_status" -eq 2 ]; then
		_tb_fail_nonrun assert_answered_by from "$from" to "$to" proto "http${port:+:$port}"
		return
	fi
	local by got=
	by=$(_tb_field answeredBy)
	[ "$by" = "$name" ] && return 0
	got="no answer"
	[ -z "$by" ] || got="answered by $by"
	# check's reason only when its probe failed: it tells why no one answered.
	local -a why=()
	[ "$_tb_status" -eq 0 ] || why=(reason "$(_tb_got)")
	_testbed_fail "assert_answered_by: $from -> $to was not answered by $name" \
		from "$from" to "$to" proto "http${port:+:$port}" expected "answered by $name" \
		got "$got" "${why[@]}"
}

# assert_client_ip FROM TO [EXPECTED_IP]: the HTTP server at TO saw the
# connection come from FROM's own address (no NAT on the way), or from
# EXPECTED_IP when given.
assert_client_ip() {
	local from=${1:-} to=${2:-} want=${3:-}
	if [ -z "$from" ] || [ -z "$to" ]; then
		_testbed_fail "assert_client_ip: usage: assert_client_ip FROM TO [EXPECTED_IP]" arguments "$*"
		return
	fi
	# check's "preserved" compares with the address the connection left
	# with, which is what "FROM's own address" means; EXPECTED_IP is
	# compared here, with whatever address the server reported.
	_testbed_probe "$from" "$to" http "" "" preserved
	if [ "$_tb_status" -eq 2 ]; then
		_tb_fail_nonrun assert_client_ip from "$from" to "$to" proto http
		return
	fi
	local client seen
	client=$(_tb_field client)
	seen=${client%:*}
	if [ -n "$want" ]; then
		[ -n "$client" ] && [ "$seen" = "$want" ] && return 0
	else
		[ "$_tb_status" -eq 0 ] && return 0
	fi
	local expected="$from's own address (no NAT)" got="no client address reported"
	[ -z "$want" ] || expected=$want
	[ -z "$client" ] || got="server saw $client"
	local -a why=()
	[ "$_tb_status" -eq 0 ] || why=(reason "$(_tb_got)")
	_testbed_fail "assert_client_ip: the server at $to did not see $expected" \
		from "$from" to "$to" expected "$expected" got "$got" "${why[@]}"
}

# assert_resolves FROM NAME [ADDRESS...]: NAME, asked by FROM's own resolver
# (its /etc/resolv.conf: search list, ndots) as testbed check's proto dns
# asks it, has an A record; with ADDRESSes, exactly those.
assert_resolves() {
	local from=${1:-} name=${2:-}
	if [ -z "$from" ] || [ -z "$name" ]; then
		_testbed_fail "assert_resolves: usage: assert_resolves FROM NAME [ADDRESS...]" arguments "$*"
		return
	fi
	shift 2
	local more='{}' expected="an address"
	if [ $# -gt 0 ]; then
		more=$(jq -cn '{addresses: $ARGS.positional}' --args "$@")
		expected="exactly $*"
	fi
	_testbed_probe "$from" "$name" dns "" "" "" "$more"
	if [ "$_tb_status" -eq 2 ]; then
		_tb_fail_nonrun assert_resolves from "$from" name "$name"
		return
	fi
	[ "$_tb_status" -eq 0 ] && return 0
	_testbed_fail "assert_resolves: $from does not resolve $name to $expected" \
		from "$from" name "$name" expected "$expected" got "$(_tb_got)"
}

# refute_resolves FROM NAME: NAME, asked by FROM's own resolver, resolves to
# no address (NXDOMAIN with every name of its search list, or no A record).
refute_resolves() {
	local from=${1:-} name=${2:-}
	if [ -z "$from" ] || [ -z "$name" ]; then
		_testbed_fail "refute_resolves: usage: refute_resolves FROM NAME" arguments "$*"
		return
	fi
	_testbed_probe "$from" "$name" dns "" "" "" '{"failure": "nxdomain"}'
	if [ "$_tb_status" -eq 2 ]; then
		_tb_fail_nonrun refute_resolves from "$from" name "$name"
		return
	fi
	[ "$_tb_status" -eq 0 ] && return 0
	_testbed_fail "refute_resolves: $from resolves $name, or fails otherwise" \
		from "$from" name "$name" expected "NXDOMAIN" got "$(_tb_got)"
}
