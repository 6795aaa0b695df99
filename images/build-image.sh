#!/usr/bin/env bash
# Builds a rootfs image tarball from the distribution's packages:
#   images/build-image.sh pod|node OUT.tar.zst
# The mirror and suite are the ones this machine's apt already uses (the main
# archive entry of /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list
# for this release), or MIRROR= and SUITE= when set. Nothing else is fetched.
set -euo pipefail

kind=${1:-}
out=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
case "$kind" in
pod | node) ;;
*)
	echo "usage: $0 pod|node OUT.tar.zst" >&2
	exit 2
	;;
esac
[ -n "$out" ] || { echo "usage: $0 pod|node OUT.tar.zst" >&2; exit 2; }
for tool in mmdebstrap zstd apt-cache; do
	command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (run: make deps)" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "build-image: run as root (mmdebstrap --mode=root)" >&2; exit 2; }

. /etc/os-release
codename=${VERSION_CODENAME:-}

# The first main-archive entry for this release in apt's sources: deb822
# stanzas first (Debian 12, Ubuntu 24.04), then one-line sources.list.
find_mirror() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk -v suite="$codename" '
			function flush() {
				if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ") &&
				    (" " comps " ") ~ / main / && uris != "") { split(uris, u, " "); print u[1]; found = 1; exit }
				types = suites = comps = uris = ""
			}
			/^[ \t]*$/ { flush(); next }
			/^[Tt]ypes:/ { sub(/^[^:]*:[ \t]*/, ""); types = $0 }
			/^URIs:/ { sub(/^[^:]*:[ \t]*/, ""); uris = $0 }
			/^Suites:/ { sub(/^[^:]*:[ \t]*/, ""); suites = $0 }
			/^Components:/ { sub(/^[^:]*:[ \t]*/, ""); comps = $0 }
			END { if (!found) flush() }' "$f" | head -n 1
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk -v suite="$codename" '
			$1 == "deb" {
				i = 2; if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; i++ }
				if ($(i + 1) != suite) next
				for (j = i + 2; j <= NF; j++) if ($j == "main") { print $i; exit }
			}' "$f" | head -n 1
	done
}

suite=${SUITE:-$codename}
mirror=${MIRROR:-$(find_mirror | head -n 1)}
if [ -z "$suite" ] || [ -z "$mirror" ]; then
	echo "build-image: cannot tell the mirror or suite from apt's configuration; set MIRROR= and SUITE=" >&2
	exit 2
fi

# The release's python3 (3.11 on Debian 12, 3.10 on Ubuntu 22.04, ...): the
# versioned packages, not the python3-minimal metapackage, which pulls dpkg in.
python=${PYTHON:-$(apt-cache depends python3-minimal 2>/dev/null |
	sed -n 's/.*Depends: \(python3\.[0-9]*\)-minimal$/\1/p' | head -n 1)}
[ -n "$python" ] || { echo "build-image: cannot tell the python3 version; set PYTHON=python3.X" >&2; exit 2; }

case "$kind" in
# The pod image also carries the cluster's own servers, each run by pods of
# their own: dnsmasq answers cluster DNS, nginx is the ingress controller.
pod) packages="busybox-static,$python-minimal,lib$python-stdlib,media-types,dnsmasq-base,nginx" ;;
node) packages="busybox-static,dash,iproute2,iputils-ping,nftables,iptables,tcpdump,netbase" ;;
esac

echo "build-image: $kind from $suite at $mirror: $packages"
tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
mmdebstrap --quiet --mode=root --variant=extract --format=tar \
	--include="$packages" \
	--extract-hook="\"$here/extract-hook.sh\" \"\$1\" $kind \"$here\"" \
	"$suite" - "$mirror" | zstd -q -15 -T0 -o "$tmp"
mv -f "$tmp" "$out"
trap - EXIT
echo "build-image: $out ($(du -h "$out" | cut -f1))"
