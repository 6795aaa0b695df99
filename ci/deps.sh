#!/usr/bin/env bash
# Installs what testbed needs to build, build its images and run its tests,
# from the distribution's own archive (Debian 12, Ubuntu 22.04 or 24.04).
# Idempotent: does nothing when everything is installed already.
set -euo pipefail

packages=(
	# build
	build-essential pkg-config
	libnl-3-dev libnl-route-3-dev libcjson-dev libarchive-dev libnftables-dev libssl-dev
	# rootfs images
	mmdebstrap zstd
	# runtime and tests
	nftables iproute2 util-linux procps python3 python3-jsonschema
	bats bats-support bats-assert bats-file jq libxml2-utils tcpdump graphviz
	# report parsers the check suites use: prove (perl) for TAP, python-markdown
	perl python3-markdown
)
# mmdebstrap checks signatures with the distribution's keyring.
. /etc/os-release
case "${ID:-}" in
ubuntu) packages+=(ubuntu-keyring) ;;
*) packages+=(debian-archive-keyring) ;;
esac

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$status" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing ${missing[*]}; run as root (sudo make deps) to install them" >&2
	exit 2
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "deps: done"
