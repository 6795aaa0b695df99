/* The plan: the lab's contract. `up` compiles a validated topology into a
 * plan (plan_compile.h: IPAM's addresses, machines, and an ordered list of
 * typed steps), saves it in the lab's state before touching the kernel
 * (plan_json.c), and walks its steps through the executors (one file per
 * step kind: steps/step_*.c, through plan/step_ops.h). Everything that
 * looks at a running lab afterwards (down, status, check, trace, graph,
 * plan) reads the saved plan, never the topology file. This header is the
 * plan's data and the functions that build, find and free it (plan.c).
 *
 * Pure data: building, saving and loading make no system calls besides
 * file I/O, so plans are unit-tested and printed (`testbed plan`). */
#ifndef TESTBED_PLAN_H
#define TESTBED_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ipv4.h"
#include "model/names.h"
#include "model/topology.h"
#include "plan/plan_policy.h"
#include "util/util.h"

/* Bumped whenever a saved plan's meaning changes: a lab saved with another
 * format is refused by the commands that read it. */
#define PLAN_FORMAT 1
#define PLAN_NONE SIZE_MAX
#define PLAN_IFNAME 16 /* IFNAMSIZ */

/* flannel's vxlan backend: VNI 1, Linux's default port (not IANA's 4789),
 * a device per node called flannel.1, 50 bytes of encapsulation. */
#define PLAN_VXLAN_DEVICE "flannel.1"
#define PLAN_VXLAN_VNI 1
#define PLAN_VXLAN_PORT 8472
#define PLAN_UNDERLAY_MTU 1500
#define PLAN_VXLAN_OVERHEAD 50

/* The pod server inside the bundled pod image. */
#define POD_SERVER_PATH "/usr/local/bin/testbed-http"

enum machine_kind {
	MACHINE_LAB,     /* the lab namespace: plays the article's host */
	MACHINE_GATEWAY, /* the default gateway on the underlay */
	MACHINE_NODE,
	MACHINE_HOST, /* the article's plain namespaces (section 1) */
	MACHINE_POD,
	MACHINE_EXTERNAL, /* outside the cluster, behind the gateway: "the internet" */
};

struct plan_image {
	char *name;
	char *path;      /* absolute path of the tarball */
	char sha256[65]; /* "" until up has read it */
};

/* A file `up` writes into a machine's own root (its overlay's upper layer:
 * the image in the cache stays as it is) before its workload starts: a
 * pod's /etc/resolv.conf, the DNS server's configuration. Only machines
 * with an image have one. */
struct plan_file {
	char *path;    /* absolute, without "." or ".." components (plan_file_path_problem) */
	char *content;
	unsigned mode; /* permission bits only: 0644 */
};

#define PLAN_FILE_MAX_CONTENT (16u << 20)

struct plan_machine {
	enum machine_kind kind;
	/* How the lab names it: a pod is NAME where no other machine of the
	 * lab is, else NAMESPACE/NAME; every other machine its name. Unique. */
	char *name;
	char *namespace; /* pods; NULL for other machines */
	size_t parent;      /* pods: their node; PLAN_NONE otherwise */
	size_t image;       /* index into images; PLAN_NONE: the host's files */
	char **argv;        /* the workload; NULL: none (NULL-terminated) */
	struct tb_port *ports; /* what its workload listens on: up waits for them, checks probe them */
	size_t n_ports;
	struct tb_label *labels; /* a pod's, for selectors */
	size_t n_labels;
	struct tb_host_port *host_ports; /* a pod's hostPort mappings on its node */
	size_t n_host_ports;
	bool pod_server;    /* the workload is the pod HTTP server (answers /hostname) */
	bool host_network;  /* a pod in its node's network namespace (hostNetwork) */
	/* A pod's spec.hostname and spec.subdomain (a StatefulSet's pods:
	 * their name and its serviceName), for cluster DNS; NULL: none. The
	 * kernel hostname stays the pod's name. */
	char *hostname, *subdomain;
	uint32_t address;   /* the address to show and to reach it by; 0: none */
	unsigned long long disk; /* bytes of writable layer (machines with an image) */
	struct plan_file *files; /* written into its root by up, in this order */
	size_t n_files;
};

/* Step kinds, in the order `up` applies them: a step may only depend on
 * steps of its own kind before it or on kinds before its own. */
enum step_kind {
	STEP_MACHINE,  /* a machine: namespaces, root filesystem, lo, its workload (started last) */
	STEP_BRIDGE,   /* a Linux bridge */
	STEP_VETH,     /* a veth pair, one end possibly a bridge port */
	STEP_VXLAN,    /* a vxlan device on an underlay link */
	STEP_ADDRESS,  /* an IPv4 address on a link */
	STEP_ROUTE,    /* a route in some table */
	STEP_NEIGH,    /* a permanent neighbour (ARP) entry */
	STEP_FDB,      /* a forwarding database entry (vxlan: MAC -> remote) */
	STEP_SYSCTL,   /* a /proc/sys/net setting of the machine's namespace */
	STEP_NFT,      /* an nftables rule set, applied atomically */
	STEP_KIND_COUNT,
};

/* "aa:bb:cc:dd:ee:ff" and its NUL; "" where the kernel picks one. */
#define PLAN_MAC 18

struct step_bridge {
	char name[PLAN_IFNAME];
	int mtu; /* 0: the kernel's default */
	/* Fixed (static neighbours): else a bridge takes its lowest port's
	 * MAC, which changes as ports join, and entries naming it go stale. */
	char mac[PLAN_MAC];
};

struct step_veth {
	char name[PLAN_IFNAME]; /* in the step's machine */
	size_t peer_machine;
	char peer_name[PLAN_IFNAME];
	char master[PLAN_IFNAME]; /* bridge for this end; "" for none */
	bool hairpin;             /* hairpin mode on this end's bridge port */
	int mtu;                  /* both ends; 0: default */
	char mac[PLAN_MAC], peer_mac[PLAN_MAC]; /* "": the kernel's random one */
};

struct step_vxlan {
	char name[PLAN_IFNAME];
	uint32_t vni;
	uint16_t port;
	uint32_t local;             /* the node's underlay address */
	char dev[PLAN_IFNAME];      /* the underlay link */
	char mac[18];               /* fixed, so that other nodes' entries can name it */
	int mtu;
};

struct step_address {
	char ifname[PLAN_IFNAME];
	struct ipv4_prefix prefix;
};

enum route_scope { ROUTE_SCOPE_UNIVERSE, ROUTE_SCOPE_LINK };

struct step_route {
	uint32_t table; /* 254: main */
	struct ipv4_prefix dst;
	uint32_t via;           /* 0: directly connected */
	char dev[PLAN_IFNAME];  /* "": the kernel picks it from via */
	enum route_scope scope;
	bool onlink;            /* via is reachable on dev without an address in its subnet */
	/* Equal-cost paths besides via (a load balancer's address announced by
	 * several nodes); owned. */
	uint32_t *also_via;
	size_t n_also_via;
};

struct neigh_entry {
	uint32_t address;
	char mac[PLAN_MAC];
};

/* Permanent entries on one link of one machine: applied as one batch, so
 * that a pod's entries for all its peers cost one netlink round trip. */
struct step_neigh {
	char dev[PLAN_IFNAME];
	struct neigh_entry *entries; /* owned */
	size_t n_entries, cap_entries;
};

struct step_fdb {
	char dev[PLAN_IFNAME];
	char mac[18];
	uint32_t dst; /* the remote end (vxlan): an underlay address */
};

/* Kinds that own strings or arrays are freed by plan_free(). */
struct step_sysctl {
	char *key; /* under /proc/sys, with '/' separators: "net/ipv4/ip_forward" */
	char *value;
};

struct step_nft {
	char *table;   /* "family name", for messages: "ip testbed-services" */
	char *ruleset; /* the text for `nft -f -` */
};

struct step {
	enum step_kind kind;
	size_t machine; /* where the step applies */
	char *note;     /* the article's section or why this step exists; may be NULL */
	union {
		struct step_bridge bridge;
		struct step_veth veth;
		struct step_vxlan vxlan;
		struct step_address address;
		struct step_route route;
		struct step_neigh neigh;
		struct step_fdb fdb;
		struct step_sysctl sysctl;
		struct step_nft nft;
	} u;
};

/* An expectation, kept with the plan so that `check NAME` needs nothing
 * but the saved plan. Targets are as the topology wrote them: check.c
 * finds their machines (model/names.h, model/selector.h). */
struct plan_expect {
	char *from, *to; /* a machine's name, a pod's NAMESPACE/NAME, a selector, "gateway" or "*" */
	enum tb_proto proto;
	int port; /* 0: the target's HTTP port, or the default one */
	char *port_name; /* the port of this name on each target; NULL: by number */
	bool expect_pass;
	enum tb_client_ip client_ip;
	char *client_name;       /* TB_CLIENT_IP_NAMED: a machine's name or an address */
	enum tb_failure failure; /* expect_pass false: how the probe must fail */
	char **answered_by;      /* names and selectors of the pods that must answer */
	size_t n_answered_by;
	bool has_answered_by;
	int requests;            /* 0: not given (one) */
	int status;              /* http: the status the answer must have; 0: not given */
	enum tb_dns_type dns_type; /* dns: the record type asked */
	char **answers;          /* dns: "addresses" (A) or "records" (SRV, TARGET:PORT) the answer must hold */
	size_t n_answers;
	bool has_answers;
	int line; /* in the topology file; 0 when not known */
	/* Where from, to and the other fields were written, for messages; 0:
	 * on LINE. Not saved. */
	int from_line, to_line, port_line, client_line, answered_by_line, requests_line, status_line, answers_line;
};

/* How long each phase of `up` took, in milliseconds (-1: not measured).
 * RULES is the part of NETWORK spent loading nftables rule sets (kube-proxy's
 * tables, egress, host ports), over every node: what Services cost. */
struct plan_timings {
	double images, machines, network, servers, total, rules;
};

/* The neighbour design the plan carries out (plan_neigh.c). */
struct plan_neighbours {
	enum tb_neighbours design; /* LEARNED or STATIC, never AUTO */
	enum tb_neighbours asked;  /* what the topology said (AUTO by default) */
	/* Learned entries a full mesh on the lab's segments could need: every
	 * addressed member of a segment learning every other one. */
	size_t full_mesh;
};

/* Services, as kube-proxy sees them (Service and EndpointSlice objects,
 * endpoints computed): what the rule builder (kubeproxy.c) turns into each
 * node's nft table, and what check and trace look up. */
enum plan_service_type { PLAN_SERVICE_CLUSTER_IP, PLAN_SERVICE_NODE_PORT, PLAN_SERVICE_LOAD_BALANCER,
			 PLAN_SERVICE_EXTERNAL_NAME };

struct plan_service_port {
	char *name;  /* "" for none */
	enum tb_protocol protocol;
	uint16_t port;      /* the service's */
	uint16_t node_port; /* 0: none */
};

/* An endpoint: a pod (or an address an EndpointSlice gives) and, per port
 * of its service, the port it serves that service port on (0: it has no
 * such port, so it is no endpoint of that one). */
struct plan_endpoint {
	size_t machine;    /* the pod; PLAN_NONE for an address of an EndpointSlice only */
	uint32_t address;
	size_t node;       /* its node machine; PLAN_NONE when not known */
	uint16_t *ports;   /* per service port */
	bool ready, serving, terminating; /* EndpointSlice conditions */
	/* Its name under a headless Service in cluster DNS (an EndpointSlice
	 * endpoint's hostname: a pod's spec.hostname when its spec.subdomain
	 * is the Service's name); NULL: none. */
	char *hostname;
};

struct plan_service {
	char *namespace, *name;
	enum plan_service_type type;
	uint32_t cluster_ip; /* 0: headless (clusterIP None), or ExternalName */
	/* ExternalName: the name cluster DNS answers with (a CNAME); such a
	 * Service has no address, endpoints or rules. NULL for other types. */
	char *external_name;
	struct plan_service_port *ports;
	size_t n_ports;
	uint32_t *external_ips;
	size_t n_external_ips;
	uint32_t *load_balancer_ips; /* status.loadBalancer.ingress */
	size_t n_load_balancer_ips;
	struct ipv4_prefix *source_ranges; /* loadBalancerSourceRanges; none: every source */
	size_t n_source_ranges;
	bool affinity;          /* sessionAffinity ClientIP */
	int affinity_timeout;   /* seconds (default 10800) */
	bool external_local;    /* externalTrafficPolicy Local */
	bool internal_local;    /* internalTrafficPolicy Local */
	bool publish_not_ready; /* publishNotReadyAddresses: DNS names not-ready endpoints too */
	struct plan_endpoint *endpoints;
	size_t n_endpoints;
};

/* KubeProxyConfiguration's settings that change the rules. */
struct plan_kube_proxy {
	bool masquerade_all;
	bool has_cluster_cidr;             /* "": no local-traffic detector */
	struct ipv4_prefix cluster_cidr;   /* traffic from here is the cluster's own */
	struct ipv4_prefix *node_port_addresses; /* none: each node's primary address */
	size_t n_node_port_addresses;
};

/* The lab's ingress controller (plan_ingress.c, ingress_nginx.c): the
 * servers and locations of its nginx.conf, as ingress-nginx makes them
 * from the Ingresses it serves. check and trace read them back to tell
 * which Service a Host and path reach. */
enum plan_match { PLAN_MATCH_PREFIX, PLAN_MATCH_EXACT };

struct plan_location {
	char *path;            /* nginx's: a Prefix "/foo" is "/foo/" and an Exact "= /foo" beside it */
	enum plan_match match;
	char *ingress;         /* "NAMESPACE/NAME" of the Ingress that made it; "": the controller's own */
	char *service;         /* the backend Service, "NAMESPACE/NAME"; "": none (the default backend) */
	char *port;            /* its port as the Ingress names it: a number or a name; "" none */
	size_t backend;        /* index into services; PLAN_NONE: no such Service (503) or none */
	uint16_t service_port; /* the resolved port of that Service; 0: none */
	int status;            /* 0: proxied to the Service; else what nginx answers itself (404, 503) */
};

struct plan_ingress_server {
	char *host; /* "_": the catch-all (unknown hosts); "*.example.com": one label */
	struct plan_location *locations;
	size_t n_locations;
};

struct plan_ingress {
	size_t controller; /* its pod */
	size_t service;    /* its Service, in services */
	struct plan_ingress_server *servers; /* none: the lab has no controller */
	size_t n_servers;
};

struct plan {
	char *lab;
	char *topology; /* the file it was compiled from, as an absolute path when known */
	char *version;  /* of the testbed that compiled it */
	enum tb_routing routing;
	struct plan_neighbours neighbours;
	struct ipv4_prefix pod_cidr, service_cidr, underlay;
	struct plan_image *images;
	size_t n_images, cap_images;
	struct plan_machine *machines;
	size_t n_machines, cap_machines;
	struct step *steps;
	size_t n_steps, cap_steps;
	struct plan_service *services;
	size_t n_services;
	struct plan_kube_proxy kube_proxy;
	/* Cluster DNS: the kubelet's clusterDomain ("cluster.local") and the
	 * kube-dns Service's address, which pods' resolv.conf names (0: the
	 * lab runs no cluster DNS). The server is the pod kube-system/coredns,
	 * the Service kube-system/kube-dns one of SERVICES (plan_dns.c). */
	char *cluster_domain;
	uint32_t dns_address;
	struct plan_ingress ingress;
	/* NetworkPolicy (plan_policy.h): every namespace of the lab with its
	 * labels (which namespaceSelector matches), and the policies. */
	struct plan_namespace *namespaces;
	size_t n_namespaces;
	struct plan_policy *policies;
	size_t n_policies;
	bool has_expect; /* false: the Kubernetes model is checked */
	struct plan_expect *expects;
	size_t n_expects;
	struct plan_timings timings;
};

void plan_free(struct plan *p);
void plan_service_free(struct plan_service *s);
void plan_ingress_free(struct plan_ingress *in);

/* The port default probes use (the TCP port named "http", else the first
 * TCP port), or 0. */
int plan_machine_http_port(const struct plan_machine *m);
/* The machine's own name, without its namespace: a pod's hostname, and
 * what its server answers to /hostname. */
const char *plan_machine_object_name(const struct plan_machine *m);
/* NAME as a file or network namespace name: '/' becomes '_', which no
 * Kubernetes name holds, so that two machines never share one (malloc'd). */
char *plan_machine_file_name(const struct plan_machine *m);

const char *machine_kind_name(enum machine_kind kind);
bool machine_kind_parse(const char *name, enum machine_kind *kind);
/* Index of the machine called NAME, or PLAN_NONE. */
size_t plan_find(const struct plan *p, const char *name);
/* The machine NAME means, by the one rule of model/names.h: its name as
 * the lab shows it, a pod's NAMESPACE/NAME, or a pod's NAME where no other
 * machine has it. NAME_AMBIGUOUS sets *WHY (malloc'd). */
enum name_found plan_resolve(const struct plan *p, const char *name, size_t *machine, char **why);

/* Appending, for the compiler and for readers of saved plans. The plan owns
 * copies of every string it is given. */
size_t plan_add_machine(struct plan *p, const struct plan_machine *m);
/* Adds (or replaces, by path) a file of machine M, which has an image;
 * PATH must pass plan_file_path_problem. */
void plan_machine_add_file(struct plan_machine *m, const char *path, const char *content, unsigned mode);
/* PATH is absolute, of components that are neither empty, "." nor "..",
 * at most 4095 bytes, printable, and outside /proc, /sys and /dev (which
 * are the kernel's, mounted over the image); NULL, else why not. */
const char *plan_file_path_problem(const char *path);
struct step *plan_add_step(struct plan *p, enum step_kind kind, size_t machine, const char *note);
size_t plan_add_image(struct plan *p, const char *name, const char *path);

/* P's expectations become the N in EXPECTS (copied; those P had are
 * freed): the topology's, or those `check --expect FILE` brings. */
void plan_set_expects(struct plan *p, const struct tb_expect *expects, size_t n);

/* Appends ADDRESS -> MAC to a neigh step. */
void plan_neigh_append(struct step_neigh *n, uint32_t address, const char *mac);

/* Iterating steps of one kind: for (s = plan_next(p, NULL, K); s; s = plan_next(p, s, K)). */
const struct step *plan_next(const struct plan *p, const struct step *after, enum step_kind kind);

/* The saved form (plan_json.c): JSON, documented in docs/plan.md. */
char *plan_to_json(const struct plan *p, bool with_state);
/* Reads a saved plan. A plan of another format is refused naming both
 * testbed versions; E says why. */
int plan_from_json(const char *text, struct plan *p, struct tb_err *e);
/* The plan minus what differs between two builds of one lab (timings,
 * image hashes, the topology's path, expectations): equal strings mean
 * the same lab. */
char *plan_shape(const struct plan *p);

#endif
