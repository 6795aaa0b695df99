/* Kubernetes objects in a topology: "objects" inline (as `kubectl get -o
 * json` prints them, or a kind: List) and, from files, "manifests". Each
 * object is checked as the API server checks it (kubectl's strict
 * validation: an unknown field is an error), and every field falls in one
 * of three classes: used (what shapes the network: names, labels, ports,
 * placement), stood in for (images, commands, probes, volumes: the pod
 * server replaces them; `validate` notes it once per object) and refused
 * (what would change the network and is not built: an error naming its
 * path). A kind testbed does not know is an error naming it.
 *
 * Objects become the model's namespaces and workloads (topology.h);
 * schedule.c then turns workloads into pods on nodes. */
#ifndef TESTBED_K8S_H
#define TESTBED_K8S_H

#include <cjson/cJSON.h>

#include "model/docwalk.h"
#include "model/topology.h"

/* What objects a topology's documents hold, gathered across them: the
 * objects seen so far (for repeats) and the notes for `validate`. */
struct k8s_objects;

struct k8s_objects *k8s_objects_new(struct tb_topology *t);
/* Reads the objects in ARR (a JSON array of objects, at PATH of W's
 * document), adding what they declare to the topology. FILE names W's
 * document in origins (NULL: the topology file). */
void k8s_read_objects(struct k8s_objects *o, struct docwalk *w, const cJSON *arr, const char *path, const char *file);
/* Reads the documents of a manifest (a json_doc's root array, each an
 * object or a kind: List), FILE naming it in origins. */
void k8s_read_documents(struct k8s_objects *o, struct docwalk *w, const cJSON *documents, const char *file);
/* Ends the reading: the notes go to the topology; frees O. */
void k8s_objects_done(struct k8s_objects *o);

#endif
