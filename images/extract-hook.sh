#!/bin/sh
# mmdebstrap --variant=extract runs no maintainer scripts: this hook does the
# little they would have done that the images need. $1 is the new rootfs,
# $2 the image kind, $3 the repository's images/ folder. It only adds files;
# it must not remove etc/apt or var/lib/apt (mmdebstrap still needs them).
set -eu
root=$1 kind=$2 src=$3

# Debian's static busybox shell runs its own applets before programs on
# PATH, so where real tools are installed (the node image) /bin/sh must be
# dash, or `sh -c "ip ..."` would run busybox's ip instead of iproute2's.
if [ -e "$root/bin/dash" ] && [ ! -e "$root/bin/sh" ]; then
	ln -s dash "$root/bin/sh"
fi

# busybox applets (sh, ip, ping, wget, nc, ps, ...) as links; files from
# real packages (iproute2's ip, for example) are kept.
chroot "$root" /bin/busybox --install -s /bin

# The alternatives and links postinst scripts would create.
[ -e "$root/usr/bin/python3" ] || for p in "$root"/usr/bin/python3.[0-9]*; do
	case "$p" in *[0-9]) ln -s "${p##*/}" "$root/usr/bin/python3"; break ;; esac
done
if [ -e "$root/usr/sbin/xtables-nft-multi" ]; then
	for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
		[ -e "$root/usr/sbin/$t" ] || ln -s xtables-nft-multi "$root/usr/sbin/$t"
	done
fi

# A root user, so tools print names instead of numbers; tcpdump drops its
# privileges to a user of its own, which its postinst would have created.
[ -e "$root/etc/passwd" ] || echo 'root:x:0:0:root:/root:/bin/sh' > "$root/etc/passwd"
[ -e "$root/etc/group" ] || echo 'root:x:0:' > "$root/etc/group"
if [ -e "$root/usr/bin/tcpdump" ] && ! grep -q '^tcpdump:' "$root/etc/passwd"; then
	echo 'tcpdump:x:101:101:tcpdump:/nonexistent:/usr/sbin/nologin' >> "$root/etc/passwd"
	echo 'tcpdump:x:101:' >> "$root/etc/group"
fi
# dnsmasq and nginx drop their privileges to users their packages' scripts
# would have made; nginx also needs its state folders.
if [ -e "$root/usr/sbin/dnsmasq" ] && ! grep -q '^dnsmasq:' "$root/etc/passwd"; then
	echo 'dnsmasq:x:102:65534:dnsmasq:/nonexistent:/usr/sbin/nologin' >> "$root/etc/passwd"
	grep -q '^nogroup:' "$root/etc/group" || echo 'nogroup:x:65534:' >> "$root/etc/group"
fi
if [ -e "$root/usr/sbin/nginx" ]; then
	grep -q '^www-data:' "$root/etc/passwd" || echo 'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin' >> "$root/etc/passwd"
	grep -q '^www-data:' "$root/etc/group" || echo 'www-data:x:33:' >> "$root/etc/group"
	mkdir -p "$root/var/lib/nginx" "$root/var/log/nginx"
fi
mkdir -p "$root/root" "$root/tmp"
chmod 1777 "$root/tmp"

# Documentation, manuals and translations are never read in a lab; they are
# a sixth of the image.
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" \
	"$root/usr/share/locale" "$root/usr/share/lintian"

if [ "$kind" = pod ]; then
	install -D -m 0755 "$src/pod/testbed-http.py" "$root/usr/local/bin/testbed-http"
	# The servers' start (see server-start.c), built with this machine's
	# compiler for the release the image is of; it must load in the image.
	mkdir -p "$root/usr/local/lib/testbed-http"
	${CC:-cc} -std=c17 -O2 -fPIC -shared -Wall -Wextra -Werror \
		-o "$root/usr/local/lib/testbed-http/server-start.so" "$src/pod/server-start.c"
	chroot "$root" /usr/bin/python3 -c \
		'import ctypes; ctypes.PyDLL("/usr/local/lib/testbed-http/server-start.so").tb_start_servers'
	# Bytecode, as Debian's postinst (py3compile) would have made it: without
	# it every interpreter compiles its imports from source at each start.
	# unchecked-hash: valid whatever times the unpacked files get. Packages
	# a lab's python rarely imports stay source only, to keep the image small.
	skip='/(test|tests|idlelib|lib2to3|pydoc_data|asyncio|unittest|multiprocessing|xml|xmlrpc|ensurepip|distutils|tkinter|turtledemo|venv|curses|sqlite3|dbm|wsgiref|concurrent)/'
	for lib in "$root"/usr/lib/python3.[0-9]*; do
		chroot "$root" "/usr/bin/${lib##*/}" -m compileall -q -x "$skip" \
			--invalidation-mode unchecked-hash "/usr/lib/${lib##*/}" >/dev/null
	done
fi
