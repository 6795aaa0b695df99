/* The YAML front end: a YAML stream, read with libyaml, as the same form
 * jsondoc.h makes of JSON (struct json_doc: a cJSON tree, and the line and
 * column where each value starts), so that docwalk.h and every parser walk
 * both alike. Manifests are what it reads: Kubernetes objects, one or many
 * per file.
 *
 * The document's root is an array of the stream's documents in order;
 * documents that are empty or null are left out, as kubectl leaves them
 * out. Each document is what kubectl makes of it: sigs.k8s.io/yaml decodes
 * with (its fork of) go-yaml v2 and converts the result to JSON, so
 *
 *  - a plain scalar resolves as go-yaml v2's resolve.go has it (YAML 1.1):
 *      null   ~ null Null NULL, and nothing at all
 *      true   y Y yes Yes YES true True TRUE on On ON
 *      false  n N no No NO false False FALSE off Off OFF
 *      int    strconv.ParseInt(s, 0, 64) once every '_' is gone: a sign,
 *             then decimal, 0x hex, 0o or leading-0 octal, 0b binary
 *             (0x1F 31, 012 10, 0b101 5, 1_000 1000, +7 7)
 *      float  [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)? (again
 *             without '_'), .5, 1e3, 08 (8: no octal digit), and .inf
 *             .Inf .INF, each also with + or -, .nan .NaN .NAN
 *             (infinities and NaN are refused as values: JSON has none,
 *             and kubectl's conversion fails on them)
 *      string anything else, timestamps (2001-12-14) included; and so is
 *             every quoted or block scalar;
 *    an unsigned integer past 64 bits in hex, octal or binary is a number
 *    too (the fork's big.Int), one out of a float's range a string;
 *  - the tags !!str, !!int, !!float, !!bool, !!null, !!seq, !!map and the
 *    non-specific ! are honoured ("!!int "12"" is 12; "!!int x" an error),
 *    any other (!!binary, !!timestamp, !local, %TAG'd) is an error naming it;
 *  - mapping keys become strings as sigs.k8s.io/yaml makes them: 80 "80",
 *    true "true", 1.5 "1.5" (a float32's shortest form); a null key, a
 *    collection as a key or a key past int64 is an error, and so is a key
 *    repeated in one mapping (naming both places);
 *  - an alias is a copy of its anchor's node, with that node's positions;
 *    an anchor may be defined again (the latest counts), an alias inside
 *    the node it names is an error;
 *  - a merge key "<<" (plain, or tagged !!merge) takes a mapping, an alias
 *    of one or a sequence of them: their keys join the mapping unless it
 *    has them itself (explicit keys win wherever "<<" stands; go-yaml v2
 *    lets a "<<" after a key override it), earlier mappings in the
 *    sequence before later ones;
 *  - strings holding U+0000 are refused, as jsondoc.c refuses them.
 *
 * Untrusted input stays within bounds: at most JSON_DOC_MAX_BYTES of text,
 * which must be UTF-8 (libyaml would also take UTF-16; kubectl's manifests
 * are UTF-8), nesting no deeper than CJSON_NESTING_LIMIT, and a stream of
 * N bytes expands to at most YAML_DOC_VALUES_BASE + N values, aliases
 * included: text alone cannot reach that, so only an alias bomb does, and
 * it is refused as soon as it passes the limit.
 *
 * Messages name the file, the line and the column ("web.yaml:3:7: ..."),
 * with libyaml's own words for syntax errors. */
#ifndef TESTBED_YAMLDOC_H
#define TESTBED_YAMLDOC_H

#include <stddef.h>

struct diag;
struct json_doc;

/* Beyond one value per byte of the stream: room for aliases that repeat a
 * few blocks, as hand-written manifests do, not for a billion laughs. */
#define YAML_DOC_VALUES_BASE ((size_t)100000)

/* Reads FILE ("-": standard input) as a YAML stream. NULL after reporting
 * through D (under FILE's name, as json_doc_file_name gives it). */
struct json_doc *json_doc_load_yaml(const char *file, struct diag *d);
/* Parses TEXT as a YAML stream read from FILE (tests, fuzzing). */
struct json_doc *json_doc_parse_yaml(const char *file, const char *text, struct diag *d);

/* A manifest file in the same shape whatever its syntax: a name ending in
 * ".json" is read as JSON (jsondoc.h) and its document becomes the root
 * array's one element (none when it is null), with repeated keys refused
 * as YAML refuses them; anything else is read as YAML. */
struct json_doc *json_doc_load_manifest(const char *file, struct diag *d);

#endif
