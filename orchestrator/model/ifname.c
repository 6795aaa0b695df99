/* Interface names: 1-15 of [A-Za-z0-9_.-], not "." or "..", and not a word
 * iproute2 or the kernel reads as something else. The kernel takes any byte
 * but '/', ':' and white space (dev_valid_name), but the plan's script and
 * people copying from it hand names to ip(8), bridge(8) and sysctl(8):
 * iproute2's parsers take a keyword where a name was meant (`ip link add up
 * type bridge` makes "bridge0"), and a shell reads most punctuation. */
#define _GNU_SOURCE
#include "model/ifname.h"

#include <string.h>

/* "all" and "default" name net/ipv4/conf's folders of every interface's
 * settings; then the keywords of the commands the script prints (ip link
 * add/set, ip address, ip route, ip neigh, bridge link, bridge fdb). */
#define N_SYSCTL_WORDS 2
const char *const ifname_reserved_words[] = {
	"all", "default",
	"add", "address", "alias", "allmulticast", "any", "arp", "broadcast", "brd", "change",
	"del", "delete", "dev", "down", "dst", "dstport", "dynamic", "group", "hairpin", "help",
	"id", "index", "link", "list", "lladdr", "local", "master", "metric", "mode", "mtu",
	"multicast", "name", "netns", "nolearning", "nomaster", "none", "nud", "off", "on",
	"onlink", "peer", "permanent", "promisc", "proto", "qlen", "remote", "replace", "scope",
	"self", "set", "show", "state", "table", "to", "txqlen", "txqueuelen", "type", "up", "via",
	"vf", "vrf", "xdp",
};
const size_t ifname_n_reserved_words = sizeof(ifname_reserved_words) / sizeof(ifname_reserved_words[0]);

const char *ifname_problem(const char *s)
{
	size_t n = strlen(s);
	if (n == 0)
		return "is empty";
	if (n > TB_IFNAME_MAX)
		return "is longer than 15 bytes, the kernel's limit for interface names";
	if (strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != n)
		return "may hold only letters, digits, '_', '.' and '-'";
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return "is not a valid interface name: the kernel refuses \".\" and \"..\"";
	for (size_t i = 0; i < ifname_n_reserved_words; i++) {
		if (strcmp(s, ifname_reserved_words[i]) != 0)
			continue;
		if (i < N_SYSCTL_WORDS)
			return "names the sysctl folders that hold every interface's settings (net/ipv4/conf/all, "
			       "net/ipv4/conf/default)";
		return "is a keyword of ip(8) and bridge(8), which would read it as that keyword where the "
		       "interface is meant";
	}
	return NULL;
}
