/* The topology model: what a lab file says, parsed and validated, with the
 * addresses IPAM assigned. Nothing here touches the system; the format is
 * documented in docs/topology.md and docs/topology.schema.json.
 *
 * The model owns its strings and keeps no JSON: the document is freed once
 * the file is parsed, validated and given addresses. For errors found later
 * each entity keeps the lines it was written on (0: unknown, or for an
 * optional key, not given). */
#ifndef TESTBED_TOPOLOGY_H
#define TESTBED_TOPOLOGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/ifname.h"
#include "model/ports.h"
#include "util/ipv4.h"

struct diag;
struct json_doc;

#define TB_LAB_NAME_MAX 12
#define TB_DEFAULT_HTTP_PORT 8000
/* A machine's writable layer ("disk"): bounded, so that a pod cannot fill
 * the host's memory. */
#define TB_DEFAULT_DISK (256ULL << 20)
#define TB_MIN_DISK (4ULL << 20)
#define TB_MAX_DISK (64ULL << 30)

/* Names the CLI uses for targets that are not topology entities. */
#define TB_TARGET_LAB "lab"
#define TB_TARGET_GATEWAY "gateway"
/* Interfaces testbed names itself in the lab namespace start with this, so
 * bridges may not. */
#define TB_RESERVED_IFNAME_PREFIX "tb-"

enum tb_routing {
	TB_ROUTING_GATEWAY, /* the article's default gateway (figure 3.3) */
	TB_ROUTING_HOST_GW,
	TB_ROUTING_VXLAN,
};

/* How the lab's machines learn each other's MAC addresses (see
 * docs/neighbours.md): by ARP as the article shows, or from permanent
 * neighbour entries the plan writes, which the kernel's shared neighbour
 * table does not count. AUTO picks one from the lab's size (plan_neigh.c). */
enum tb_neighbours {
	TB_NEIGH_AUTO,
	TB_NEIGH_LEARNED,
	TB_NEIGH_STATIC,
};

struct tb_image {
	char *name;
	char *path;     /* as written */
	char *resolved; /* relative paths resolved against the file's folder */
	int line;
};

/* Kubernetes names testbed gives or reads. */
#define TB_DEFAULT_NAMESPACE "default"
#define TB_LABEL_NAMESPACE_NAME "kubernetes.io/metadata.name"
#define TB_LABEL_HOSTNAME "kubernetes.io/hostname"
/* The external machine a cluster has when "external" names none. */
#define TB_DEFAULT_EXTERNAL "internet"
/* The kubelet's default clusterDomain. */
#define TB_DEFAULT_CLUSTER_DOMAIN "cluster.local"

struct tb_iface {
	char *name;
	struct ipv4_prefix address;
	int line;
	bool linked; /* some link creates it */
};

struct tb_host {
	char *name;
	char *image;
	struct tb_port *ports; /* what its server listens on */
	size_t n_ports;
	unsigned long long disk; /* bytes of writable layer */
	struct tb_iface *ifaces;
	size_t n_ifaces;
	int line, name_line;
	int image_line; /* 0: no "image", the default one */
};

struct tb_bridge {
	char *name;
	bool has_address;
	struct ipv4_prefix address;
	int line, name_line, address_line;
};

enum tb_endpoint_kind { TB_ENDPOINT_HOST, TB_ENDPOINT_BRIDGE };

struct tb_endpoint {
	enum tb_endpoint_kind kind;
	size_t index;       /* into hosts or bridges; set by validation */
	char *text;         /* as written: "host:interface" or "bridge" */
	const char *ifname; /* the host's interface, inside text; NULL for a bridge */
	int line;
};

struct tb_link {
	struct tb_endpoint ends[2];
	int line;
};

struct tb_label {
	char *key;
	char *value;
};

/* A namespace: declared by a Namespace object, or "default", which every
 * lab has. Its labels include kubernetes.io/metadata.name, as the API
 * server adds it. */
struct tb_namespace {
	char *name;
	struct tb_label *labels;
	size_t n_labels;
	int line; /* 0: not declared (default) */
};

/* Where an object was written, for messages: "k8s/web.yaml:14:7:
 * Deployment shop/web: ..." (FILE is owned by the topology's files). */
struct tb_origin {
	const char *file; /* NULL: the topology file */
	int line, column;
	char *what; /* "Deployment shop/web"; NULL: an inline pod */
};

/* How a pod's /etc/resolv.conf is made (spec.dnsPolicy), as the kubelet
 * makes it: plan/plan_dns.c. */
enum tb_dns_policy { TB_DNS_CLUSTER_FIRST, TB_DNS_CLUSTER_FIRST_WITH_HOST_NET, TB_DNS_DEFAULT, TB_DNS_NONE };
struct tb_dns_option {
	char *name;
	char *value; /* NULL: none */
};
/* spec.dnsConfig */
struct tb_dns_config {
	char **nameservers;
	size_t n_nameservers;
	char **searches;
	size_t n_searches;
	struct tb_dns_option *options;
	size_t n_options;
};

/* spec.hostAliases: lines the kubelet adds to a pod's /etc/hosts. */
struct tb_host_alias {
	char *ip;
	char **hostnames;
	size_t n_hostnames;
};

struct tb_pod {
	char *name;
	char *namespace; /* "default" unless given */
	int namespace_line;
	char *image;
	struct tb_label *labels;
	size_t n_labels;
	struct tb_port *ports; /* what its server or command listens on */
	size_t n_ports;
	unsigned long long disk; /* bytes of writable layer */
	char **command;   /* NULL-terminated; NULL: run the pod HTTP server */
	size_t n_command;
	uint32_t address; /* IPAM: from the node's pod CIDR */
	struct tb_host_port *host_ports; /* hostPort mappings on its node */
	size_t n_host_ports;
	bool host_network; /* runs in its node's network namespace, on the node's address */
	/* spec.hostname and spec.subdomain (a StatefulSet's pods: their name
	 * and spec.serviceName), for DNS only: NULL when not given. */
	char *hostname, *subdomain;
	enum tb_dns_policy dns_policy;
	struct tb_dns_config dns_config;
	struct tb_host_alias *host_aliases;
	size_t n_host_aliases;
	struct tb_origin origin; /* the object it stands in for; what is NULL inline */
	int line, name_line;
	int image_line; /* 0: no "image", the default one */
	int ports_line; /* 0: no "ports" */
};

/* A workload object, before the scheduler places its pods: a Pod, or the
 * replicas of a Deployment, ReplicaSet, StatefulSet, or a DaemonSet's pod
 * per matching node (schedule.c names and places them). */
enum tb_workload_kind { TB_WORKLOAD_POD, TB_WORKLOAD_DEPLOYMENT, TB_WORKLOAD_REPLICASET, TB_WORKLOAD_STATEFULSET,
			TB_WORKLOAD_DAEMONSET };
struct tb_workload {
	enum tb_workload_kind kind;
	char *name;
	int replicas;      /* not for Pod and DaemonSet */
	int ordinal_start; /* StatefulSet: spec.ordinals.start */
	char *template_hash; /* Deployment: its pods' pod-template-hash label */
	char *service_name;  /* StatefulSet: spec.serviceName, its pods' subdomain; NULL: none */
	struct tb_pod pod;   /* the template: namespace, labels, ports, host ports, hostNetwork, origin */
	char *node_name;     /* spec.nodeName; NULL: the scheduler picks */
	struct tb_label *node_selector; /* spec.nodeSelector */
	size_t n_node_selector;
};

/* A Service, as its object says (k8s_service.c); IPAM gives it a cluster
 * IP and node ports where it asks for none, the compiler its endpoints. */
enum tb_service_type { TB_SERVICE_CLUSTER_IP, TB_SERVICE_NODE_PORT, TB_SERVICE_LOAD_BALANCER, TB_SERVICE_EXTERNAL_NAME };
struct tb_service_port {
	char *name; /* "" for none */
	enum tb_protocol protocol;
	int port;
	int target_port;        /* 0: by name */
	char *target_port_name; /* NULL: by number */
	int node_port;          /* 0: none yet (IPAM allocates for NodePort and LoadBalancer) */
};
struct tb_service {
	char *name, *namespace;
	enum tb_service_type type;
	bool has_selector; /* none: its endpoints are EndpointSlice objects' */
	/* type ExternalName: spec.externalName, a CNAME in cluster DNS; no
	 * address, no endpoints, no rules. NULL for other types. */
	char *external_name;
	struct tb_label *selector;
	size_t n_selector;
	bool headless;          /* clusterIP: None */
	uint32_t cluster_ip;    /* given, or from IPAM */
	bool cluster_ip_given;
	struct tb_service_port *ports;
	size_t n_ports;
	uint32_t *external_ips;
	size_t n_external_ips;
	uint32_t *load_balancer_ips; /* status.loadBalancer.ingress */
	size_t n_load_balancer_ips;
	struct ipv4_prefix *source_ranges;
	size_t n_source_ranges;
	bool affinity;        /* sessionAffinity: ClientIP */
	int affinity_timeout; /* seconds */
	bool external_local, internal_local, publish_not_ready;
	bool allocate_node_ports; /* allocateLoadBalancerNodePorts (LoadBalancer) */
	/* Where its load balancer's address was written when not in its
	 * object: "cluster.ingress.loadBalancerIP" (the ingress controller's). */
	const char *load_balancer_ip_key;
	struct tb_origin origin;
};

/* An EndpointSlice, for a Service without a selector. */
struct tb_slice_port {
	char *name;
	enum tb_protocol protocol;
	int port;
};
struct tb_slice_endpoint {
	uint32_t *addresses;
	size_t n_addresses;
	bool ready, serving, terminating;
	char *node_name; /* NULL: not given */
	char *hostname;  /* NULL: not given */
};
struct tb_endpoint_slice {
	char *name, *namespace;
	char *service; /* its kubernetes.io/service-name label */
	/* endpointslice.kubernetes.io/managed-by is the controller's: for a
	 * Service with a selector, testbed computes this slice itself. */
	bool controller_managed;
	struct tb_slice_port *ports;
	size_t n_ports;
	struct tb_slice_endpoint *endpoints;
	size_t n_endpoints;
	struct tb_origin origin;
};

/* Ingress (k8s_ingress.c): networking.k8s.io/v1 Ingress and IngressClass
 * objects, as written; model/ingress.c decides which the lab's controller
 * (ingress-nginx) serves and adds its pod and Service. */
#define TB_INGRESS_NAMESPACE "ingress-nginx"
#define TB_INGRESS_CONTROLLER "ingress-nginx-controller" /* its pod's and its Service's name */
#define TB_INGRESS_CONTROLLER_CLASS "k8s.io/ingress-nginx" /* IngressClass spec.controller */
#define TB_INGRESS_DEFAULT_CLASS "nginx" /* the IngressClass the upstream manifests install */
#define TB_INGRESS_DEFAULT_NODE_PORT 30080
enum tb_path_type { TB_PATH_EXACT, TB_PATH_PREFIX, TB_PATH_IMPLEMENTATION_SPECIFIC };
struct tb_ingress_backend {
	char *service;   /* NULL: none given */
	int port;        /* 0: by name */
	char *port_name; /* NULL: by number */
};
struct tb_ingress_path {
	char *path; /* "" for none (ImplementationSpecific only): "/" */
	enum tb_path_type type;
	struct tb_ingress_backend backend;
};
struct tb_ingress_rule {
	char *host; /* NULL: every host; "*.example.com": one label of it */
	struct tb_ingress_path *paths;
	size_t n_paths;
};
struct tb_ingress {
	char *name, *namespace;
	char *class_name;         /* spec.ingressClassName, else the legacy annotation; NULL: none */
	bool class_by_annotation; /* kubernetes.io/ingress.class */
	char *created;            /* metadata.creationTimestamp ("": none): ingress-nginx's order */
	struct tb_ingress_backend default_backend;
	struct tb_ingress_rule *rules;
	size_t n_rules;
	bool served; /* by the lab's controller (model/ingress.c) */
	struct tb_origin origin;
};
struct tb_ingress_class {
	char *name;
	char *controller; /* spec.controller */
	bool is_default;  /* ingressclass.kubernetes.io/is-default-class: "true" */
	struct tb_origin origin;
};
/* cluster.ingress: how the controller's Service is exposed. */
struct tb_ingress_settings {
	enum tb_service_type type; /* NodePort (default) or LoadBalancer */
	int node_port;             /* 0: TB_INGRESS_DEFAULT_NODE_PORT, or the range's first when outside it */
	uint32_t load_balancer_ip; /* LoadBalancer: its status.loadBalancer.ingress ip */
	int line;                  /* 0: not given */
};

/* A machine outside the cluster, behind the gateway (the lab's own
 * "internet"): the stand-in server on an address of its own. */
struct tb_external {
	char *name;
	uint32_t address; /* given, or from IPAM (cluster.externalCIDR) */
	bool address_given;
	int line;
};

struct tb_node {
	char *name;
	char *image;
	bool pod_cidr_given;
	unsigned long long disk; /* bytes of writable layer */
	struct ipv4_prefix pod_cidr; /* given, or assigned by IPAM */
	struct tb_label *labels; /* kubernetes.io/hostname included, as the kubelet adds it */
	size_t n_labels;
	struct tb_pod *pods;
	size_t n_pods;
	uint32_t bridge_address;   /* IPAM: cbr0, the first of the pod CIDR */
	uint32_t underlay_address; /* IPAM: eth0 on the underlay */
	int line, name_line;
	int image_line;   /* 0: no "image", the default one */
	int pod_cidr_line; /* 0: no "podCIDR" */
	int pods_line;     /* 0: no "pods" */
};

/* Expectations (`expect`, parsed by expect.c, which compile.c runs beside
 * topology_parse): what `testbed check` probes. Targets are machines by
 * name, pods by selector, or what a packet addresses without naming a
 * machine: a Service, a node's NodePort, any address. */
enum tb_proto { TB_PROTO_HTTP, TB_PROTO_TCP, TB_PROTO_PING, TB_PROTO_UDP, TB_PROTO_DNS };

/* What a dns probe asks: A records (addresses) or SRV records (targets and ports). */
enum tb_dns_type { TB_DNS_A, TB_DNS_SRV };

/* What an http or udp probe's server must see as the client's address. */
enum tb_client_ip {
	TB_CLIENT_IP_ANY,       /* not checked */
	TB_CLIENT_IP_PRESERVED, /* the source's own address: no NAT on the way */
	TB_CLIENT_IP_REWRITTEN, /* some other address: SNAT or masquerade */
	TB_CLIENT_IP_NAMED,     /* an address, or any of a machine's (client_name) */
	/* Any address of the source's node: the default model's egress
	 * probes (a pod's traffic leaves the cluster masqueraded). Never
	 * written in a topology. */
	TB_CLIENT_IP_SOURCE_NODE,
};

/* How a probe expected to fail must fail: REFUSED, something answered at
 * once that nothing is there (a TCP reset, an ICMP port, host or network
 * unreachable or administratively prohibited: what a REJECT sends);
 * TIMEOUT, nothing came back (a DROP). */
enum tb_failure { TB_FAILURE_ANY, TB_FAILURE_REFUSED, TB_FAILURE_TIMEOUT, TB_FAILURE_NXDOMAIN, TB_FAILURE_SERVFAIL };
/* NXDOMAIN: a name that resolves to no address (no such name with any
 * search domain, or a name with no record of the type asked); SERVFAIL:
 * the nameserver could not answer (SERVFAIL, REFUSED). Only probes that
 * resolve a name fail so. */

enum tb_target_kind {
	TB_KIND_POD,
	TB_KIND_NODE,
	TB_KIND_HOST,
	TB_KIND_GATEWAY,  /* the default gateway of routing "gateway" */
	TB_KIND_ALL_PODS, /* "*" */
	TB_KIND_SELECTOR, /* "NAMESPACE/SELECTOR" or "*"/SELECTOR: the pods it matches (selector.h) */
	TB_KIND_EXTERNAL, /* a machine outside the cluster ("internet") */
	TB_KIND_SERVICE,  /* "service:NAMESPACE/NAME" or "service:NAME" (namespace default) */
	TB_KIND_NODEPORT, /* "nodeport:NODE:PORT": the node's address, that port */
	TB_KIND_ADDRESS,  /* "ip:ADDRESS:PORT", or "ip:ADDRESS" for ping */
	TB_KIND_INGRESS,  /* "ingress:HOST/PATH": the ingress controller's Service, asked with that Host and path */
	TB_KIND_DNS,      /* "dns:NAME", or a NAME with a dot: resolved by the probing pod's resolver */
};

/* Target kinds a packet addresses rather than a machine: only "to". */
static inline bool tb_target_kind_is_address(enum tb_target_kind k)
{
	return k == TB_KIND_SERVICE || k == TB_KIND_NODEPORT || k == TB_KIND_ADDRESS || k == TB_KIND_INGRESS ||
	       k == TB_KIND_DNS;
}

struct tb_target {
	enum tb_target_kind kind;
	char *name; /* as written: NAME, NAMESPACE/NAME, a selector, "service:..."; NULL for TB_KIND_ALL_PODS */
	int line;
};

/* Most requests one expectation may repeat its probe. */
#define TB_MAX_REQUESTS 10000

struct tb_expect {
	struct tb_target from, to;
	enum tb_proto proto;
	int port; /* 0: the target's HTTP port, or the default one; ping: 0 */
	char *port_name; /* the target's port of this name (a Service's port's); NULL: by number */
	bool expect_pass;
	enum tb_client_ip client_ip;
	char *client_name;       /* TB_CLIENT_IP_NAMED: a machine's name, or an address */
	enum tb_failure failure; /* expect_pass false: how it must fail */
	char **answered_by;      /* pods (names, NAMESPACE/NAME, selectors) that must answer */
	size_t n_answered_by;
	bool has_answered_by;
	int requests;            /* 0: not given, one request */
	int status;              /* http: the status the answer must have; 0: not given (200) */
	enum tb_dns_type dns_type; /* dns: "type" */
	char **answers;          /* dns: "addresses" (type A) or "records" (SRV, TARGET:PORT), as written */
	size_t n_answers;
	bool has_answers;        /* given (it may be empty: no record) */
	int line;
	int port_line; /* 0: no "port" */
	int answers_line; /* 0: not given */
	int client_line, answered_by_line, requests_line, status_line; /* 0: not given */
};

/* cluster.dns: AUTO runs cluster DNS when the lab declares a Service. */
enum tb_cluster_dns { TB_CLUSTER_DNS_AUTO, TB_CLUSTER_DNS_ON, TB_CLUSTER_DNS_OFF };

/* KubeProxyConfiguration's settings that change the rules. */
struct tb_kube_proxy {
	bool masquerade_all;
	bool has_cluster_cidr;           /* "" means no local-traffic detector */
	struct ipv4_prefix cluster_cidr; /* default: cluster.podCIDR */
	struct ipv4_prefix *node_port_addresses; /* none: each node's primary address */
	size_t n_node_port_addresses;
};

struct tb_cluster {
	struct ipv4_prefix pod_cidr;
	struct ipv4_prefix service_cidr;
	struct ipv4_prefix underlay;
	struct ipv4_prefix external_cidr; /* where external machines live (203.0.113.0/24) */
	int node_port_min, node_port_max; /* nodePortRange */
	struct tb_kube_proxy kube_proxy;
	struct tb_ingress_settings ingress;
	bool kube_proxy_cidr_given; /* else clusterCIDR is podCIDR */
	enum tb_routing routing;
	enum tb_cluster_dns dns;      /* "dns": AUTO when not given */
	char cluster_domain[254];     /* clusterDomain: "cluster.local" */
	int dns_line, cluster_domain_line; /* 0: not given */
	uint32_t gateway_address; /* IPAM: the underlay's first address */
	int line; /* 0: the file has no "cluster" */
	/* 0: the range is not given, so it is the default */
	int pod_cidr_line, service_cidr_line, underlay_line;
};

struct tb_policy; /* model/netpol.h */
/* Frees N policies and the array (k8s_netpol.c, which knows their shape:
 * this header cannot include netpol.h, which needs it). */
void tb_policies_free(struct tb_policy *policies, size_t n);

struct tb_topology {
	char *text; /* the file as read: `up` records it, `check FILE` compares it */
	char *dir; /* absolute folder of the topology file (as given if it does not exist) */
	char *name;
	struct tb_image *images;
	size_t n_images;
	struct tb_host *hosts;
	size_t n_hosts;
	struct tb_bridge *bridges;
	size_t n_bridges;
	struct tb_link *links;
	size_t n_links;
	struct tb_cluster cluster;
	enum tb_neighbours neighbours; /* as the file asks; AUTO when not given */
	int neighbours_line;           /* 0: not given */
	struct tb_node *nodes;
	size_t n_nodes;
	size_t n_pods; /* over all nodes */
	struct tb_namespace *namespaces; /* "default" first */
	size_t n_namespaces;
	struct tb_workload *workloads; /* from objects: schedule.c turns them into nodes' pods */
	size_t n_workloads;
	struct tb_service *services;
	size_t n_services_objects;
	/* Cluster DNS (model/cluster_dns.c): on, its Service's address (the
	 * service range's tenth) and its pod (kube-system/coredns, on the first
	 * node, after every other pod there); 0 when off. */
	uint32_t dns_address;
	struct tb_endpoint_slice *slices;
	size_t n_slices;
	struct tb_ingress *ingresses;
	size_t n_ingresses;
	struct tb_ingress_class *ingress_classes;
	size_t n_ingress_classes;
	struct tb_policy *policies; /* NetworkPolicy objects (k8s_netpol.c) */
	size_t n_policy_objects;
	struct tb_external *externals; /* a cluster's: "internet" unless "external" says */
	size_t n_externals;
	bool externals_given;
	char **files; /* manifests read, named in origins */
	size_t n_files;
	char **notes; /* for `validate`: what objects' fields the pod server stands in for */
	size_t n_notes;
	struct tb_expect *expects;
	size_t n_expects;
	bool has_expect; /* the file has "expect" (even empty) */
	/* Reserved for later features: checked to be arrays of objects,
	 * counted, not kept. */
	size_t n_services, n_ingress, n_policies;
};

/* The model DOC describes, its structure checked: types, required and
 * unknown keys, the shape of each value. NULL after reporting every error
 * found through D (messages name D's file). DIR resolves relative image
 * paths. The first of three passes: compile.h runs validation and IPAM on
 * what it returns. */
struct tb_topology *topology_parse(const struct json_doc *doc, const char *dir, struct diag *d);
void topology_free(struct tb_topology *t);
/* What a pod owns (for the scheduler's copies). */
void tb_pod_free(struct tb_pod *pod);
void tb_dns_config_free(struct tb_dns_config *c);
void tb_dns_config_copy(struct tb_dns_config *dst, const struct tb_dns_config *src);
void tb_host_aliases_free(struct tb_host_alias *a, size_t n);
struct tb_host_alias *tb_host_aliases_copy(const struct tb_host_alias *a, size_t n);

const char *tb_routing_name(enum tb_routing r);
const char *tb_proto_name(enum tb_proto p);
/* "refused", "timeout", "nxdomain", "servfail"; "" for ANY. */
const char *tb_failure_name(enum tb_failure f);
/* The namespace called NAME, or NULL. */
const struct tb_namespace *topology_find_namespace(const struct tb_topology *t, const char *name);
const char *tb_neighbours_name(enum tb_neighbours n);
/* The design called NAME; false when there is none. */
bool tb_neighbours_parse(const char *name, enum tb_neighbours *n);
/* 1-12 of [a-z0-9-], starting with a letter: also a safe directory name. */
bool topology_is_lab_name(const char *s);
/* 1-63 of a-z, 0-9 and '-', a letter or digit at both ends: machine names. */
bool topology_is_dns_label(const char *s);
/* DNS labels joined by '.', at most 253 in all: what Kubernetes allows for
 * most objects' names (a pod's among them). */
bool topology_is_dns_subdomain(const char *s);
/* A name a DNS query can ask (a probe's target by name): labels of 1-63
 * letters, digits, '-' or '_' (SRV's "_http._tcp"), joined by '.', at most
 * 253 in all, with an optional trailing dot (absolute). */
bool topology_is_dns_name(const char *s);

/* The lookup the plan needs. */
const struct tb_image *topology_find_image(const struct tb_topology *t, const char *name);

#endif
