/* Permanent neighbour (ARP) entries on one link: `ip neigh add ADDR lladdr
 * MAC dev DEV nud permanent`, once per entry. vxlan needs them for the
 * other nodes' tunnel ends, the static design (plan_neigh.c) for every
 * member of a segment; permanent entries are not counted against the
 * neighbour table's limit, which all namespaces share. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/msg.h>
#include <netlink/netlink.h>

#include "steps/netlink.h"
#include "steps/step.h"

/* One RTM_NEWNEIGH: header, ndmsg, NDA_DST (4 bytes), NDA_LLADDR (6). */
#define NEIGH_MSG_LEN                                                                                         \
	(NLMSG_LENGTH(sizeof(struct ndmsg)) + RTA_SPACE(4) + RTA_SPACE(6))
/* libnl's sockets have a 32 KiB send buffer; a send must fit in it. */
#define NEIGH_BATCH 256

static bool parse_mac(const char *text, unsigned char mac[6])
{
	unsigned v[6];
	char end;
	if (sscanf(text, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &end) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		mac[i] = (unsigned char)v[i];
	return true;
}

static void put_attr(char **at, unsigned short type, const void *data, size_t len)
{
	struct rtattr *a = (struct rtattr *)*at;
	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	memset(RTA_DATA(a), 0, RTA_ALIGN(len));
	memcpy(RTA_DATA(a), data, len);
	*at += RTA_SPACE(len);
}

/* What `ip neigh add` sends, for entries FIRST..FIRST+N in one buffer: the
 * kernel handles a buffer's requests in order and answers only failures,
 * except for the last one, which asks for an acknowledgement. So the batch
 * is one send and, when all goes well, one answer, where libnl's
 * rtnl_neigh_add waits for an answer after every entry. */
static int send_batch(struct nl_sock *sk, int ifindex, const struct neigh_entry *entries, size_t n, char *buf,
		      unsigned *first_seq, struct tb_err *e)
{
	char *at = buf;
	for (size_t i = 0; i < n; i++) {
		unsigned char mac[6];
		if (!parse_mac(entries[i].mac, mac))
			return tb_fail(e, "\"%s\" is not a MAC address", entries[i].mac);
		struct nlmsghdr *h = (struct nlmsghdr *)at;
		memset(h, 0, NEIGH_MSG_LEN);
		h->nlmsg_len = NEIGH_MSG_LEN;
		h->nlmsg_type = RTM_NEWNEIGH;
		h->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL | (i + 1 == n ? NLM_F_ACK : 0);
		/* Numbered within the batch, not from the socket's sequence:
		 * libnl expects its own requests' answers in its order, and these
		 * answers are all read here. */
		h->nlmsg_seq = *first_seq + (unsigned)i;
		struct ndmsg *nd = NLMSG_DATA(h);
		nd->ndm_family = AF_INET;
		nd->ndm_ifindex = ifindex;
		nd->ndm_state = NUD_PERMANENT;
		at = (char *)nd + NLMSG_ALIGN(sizeof(*nd));
		uint32_t dst = htonl(entries[i].address);
		put_attr(&at, NDA_DST, &dst, sizeof(dst));
		put_attr(&at, NDA_LLADDR, mac, sizeof(mac));
	}
	int rc = nl_sendto(sk, buf, (size_t)(at - buf));
	if (rc < 0)
		return tb_fail_errno(e, nl_errno(rc), "sending %zu neighbour entries: %s", n, nl_geterror(rc));
	return 0;
}

/* Reads answers until the last request's; *FAILED is the first entry the
 * kernel refused (N: none) and *ERR its reason. */
static int read_answers(struct nl_sock *sk, unsigned first_seq, size_t n, size_t *failed, int *err, struct tb_err *e)
{
	unsigned last = first_seq + (unsigned)n - 1;
	*failed = n;
	for (;;) {
		struct sockaddr_nl peer;
		unsigned char *buf = NULL;
		int len = nl_recv(sk, &peer, &buf, NULL);
		if (len <= 0) {
			free(buf);
			/* ENOBUFS: more refusals than the socket could hold. */
			return tb_fail(e, "reading the kernel's answers: %s", len ? nl_geterror(len) : "no answer");
		}
		bool done = false;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; nlmsg_ok(h, len); h = nlmsg_next(h, &len)) {
			if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq - first_seq >= n)
				continue;
			const struct nlmsgerr *x = nlmsg_data(h);
			if (x->error < 0 && *failed == n) {
				*failed = h->nlmsg_seq - first_seq;
				*err = -x->error;
			}
			done = done || h->nlmsg_seq == last;
		}
		free(buf);
		if (done)
			return 0;
	}
}

static int apply(struct exec_ctx *ctx, const struct step *s, struct tb_err *e)
{
	const struct step_neigh *n = &s->u.neigh;
	const char *machine = ctx->plan->machines[s->machine].name;
	struct nl_sock *sk = exec_sock(ctx, s->machine, e);
	if (!sk)
		return -1;
	int ifindex = nl_need_ifindex(sk, n->dev, e);
	if (ifindex < 0)
		return tb_context(e, "%s: neighbours on %s", machine, n->dev);
	autofree char *buf = xmalloc(NEIGH_BATCH * NEIGH_MSG_LEN);
	for (size_t at = 0; at < n->n_entries; at += NEIGH_BATCH) {
		size_t count = n->n_entries - at < NEIGH_BATCH ? n->n_entries - at : NEIGH_BATCH;
		unsigned first_seq = 1;
		size_t failed;
		int err = 0;
		if (send_batch(sk, ifindex, n->entries + at, count, buf, &first_seq, e) < 0 ||
		    read_answers(sk, first_seq, count, &failed, &err, e) < 0)
			return tb_context(e, "%s: adding neighbours on %s", machine, n->dev);
		if (failed < count) {
			const struct neigh_entry *x = &n->entries[at + failed];
			char a[IPV4_PREFIX_STRLEN];
			return tb_fail_errno(e, err, "%s: adding neighbour %s lladdr %s dev %s: %s", machine,
				       ipv4_addr_format(x->address, a), x->mac, n->dev, strerror(err));
		}
	}
	return 0;
}

static void render(const struct render_ctx *r, const struct step *s)
{
	const struct step_neigh *n = &s->u.neigh;
	char a[IPV4_PREFIX_STRLEN];
	for (size_t i = 0; i < n->n_entries; i++)
		render_cmd(r, "ip", "-n", render_ns(r, s->machine), "neigh", "add", ipv4_addr_format(n->entries[i].address, a),
			   "lladdr", n->entries[i].mac, "dev", n->dev, "nud", "permanent", NULL);
}

/* One entry keeps the flat form vxlan's steps always had; several are a
 * list. */
static void to_json(const struct plan *p, const struct step *s, cJSON *o)
{
	(void)p;
	const struct step_neigh *n = &s->u.neigh;
	json_put_str(o, "dev", n->dev);
	if (n->n_entries == 1) {
		json_put_addr(o, "address", n->entries[0].address);
		json_put_str(o, "mac", n->entries[0].mac);
		return;
	}
	cJSON *list = cJSON_AddArrayToObject(o, "entries");
	for (size_t i = 0; i < n->n_entries; i++) {
		cJSON *x = cJSON_CreateObject();
		json_put_addr(x, "address", n->entries[i].address);
		json_put_str(x, "mac", n->entries[i].mac);
		cJSON_AddItemToArray(list, x);
	}
}

static int read_entry(const cJSON *o, struct step_neigh *n, struct tb_err *e)
{
	struct neigh_entry x;
	unsigned char mac[6];
	if (json_get_addr(o, "address", &x.address, true, e) < 0 || json_get_mac(o, "mac", x.mac, true, e) < 0)
		return -1;
	if (!parse_mac(x.mac, mac))
		return tb_fail(e, "\"mac\": \"%s\" is not a MAC address", x.mac);
	plan_neigh_append(n, x.address, x.mac);
	return 0;
}

static int from_json(const struct plan *p, const cJSON *o, struct step *s, struct tb_err *e)
{
	(void)p;
	struct step_neigh *n = &s->u.neigh;
	if (json_get_ifname(o, "dev", n->dev, true, e) < 0)
		return -1;
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(o, "entries");
	if (!list)
		return read_entry(o, n, e);
	if (!cJSON_IsArray(list) || !list->child)
		return tb_fail(e, "\"entries\": expected a non-empty array");
	size_t i = 0;
	for (const cJSON *x = list->child; x; x = x->next, i++)
		if (read_entry(x, n, e) < 0)
			return tb_context(e, "entries[%zu]", i);
	return 0;
}

const struct step_ops step_neigh_ops = {
	.name = "neigh",
	.apply = apply,
	.render = render,
	.to_json = to_json,
	.from_json = from_json,
};
