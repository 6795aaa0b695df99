#!/usr/bin/env python3
"""Validates testbed's JSON outputs against their schemas (docs/schemas).

    tests/validate-json.py SCHEMA FILE...   FILE "-" is stdin
    tests/validate-json.py --check-schema SCHEMA...

SCHEMA is a path, or a name under docs/schemas ("status", "check",
"trace"). Every schema is first checked against the draft 2020-12
metaschema. Prints "ok FILE" or each error with where it is; exits 0 if
all pass, 1 if a document fails, 2 on a usage error or an invalid schema,
3 when this jsonschema has no draft 2020-12 (python3-jsonschema < 4).
"""
import json
import os
import sys

import jsonschema

SCHEMAS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "schemas")


def schema_path(arg):
    if os.sep in arg or arg.endswith(".json"):
        return arg
    return os.path.join(SCHEMAS, arg + ".schema.json")


def no_duplicates(pairs):
    # json.load keeps the last of two equal keys silently; a streamed
    # writer that repeated a field would then pass unseen.
    keys = [k for k, _ in pairs]
    for k in keys:
        if keys.count(k) > 1:
            raise ValueError("duplicate key %r" % k)
    return dict(pairs)


def load(path):
    if path == "-":
        return json.loads(sys.stdin.buffer.read().decode("utf-8"), object_pairs_hook=no_duplicates)
    with open(path, "rb") as f:
        return json.loads(f.read().decode("utf-8"), object_pairs_hook=no_duplicates)


def where(error):
    return "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in error.absolute_path).lstrip(".")


def short(message):
    # Messages quote the whole failing instance first, then say what is
    # wrong: a trace's hops run long, so cut from the middle.
    return message if len(message) <= 400 else message[:150] + " ... " + message[-250:]


def checked_validator(path, cls):
    """The validator for the schema at PATH, or None (reported) if invalid."""
    try:
        schema = load(path)
        cls.check_schema(schema)
    except (OSError, ValueError) as e:
        print("%s: %s" % (path, e), file=sys.stderr)
        return None
    except jsonschema.exceptions.SchemaError as e:
        print("invalid schema %s: %s: %s" % (path, where(e) or "(top)", e.message), file=sys.stderr)
        return None
    if schema.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
        print("%s: $schema is not draft 2020-12" % path, file=sys.stderr)
        return None
    # Formats (ipv4) are only annotations unless a checker is given.
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def main(args):
    cls = getattr(jsonschema, "Draft202012Validator", None)
    if cls is None:
        print("validate-json: this jsonschema has no draft 2020-12 validator", file=sys.stderr)
        return 3
    if len(args) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if args[0] == "--check-schema":
        bad = [p for p in map(schema_path, args[1:]) if checked_validator(p, cls) is None]
        for p in map(schema_path, args[1:]):
            if p not in bad:
                print("ok %s" % p)
        return 2 if bad else 0
    validator = checked_validator(schema_path(args[0]), cls)
    if validator is None:
        return 2
    failed = False
    for path in args[1:]:
        try:
            doc = load(path)
        except (OSError, ValueError, RecursionError) as e:
            print("%s: %s" % (path, e))
            failed = True
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
        if not errors:
            print("ok %s" % path)
            continue
        failed = True
        for e in errors:
            # oneOf's own message names no cause: add its likeliest branch's.
            why = " (%s)" % jsonschema.exceptions.best_match(e.context).message if e.context else ""
            print("%s: %s: %s" % (path, where(e) or "(top)", short(e.message + why)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
