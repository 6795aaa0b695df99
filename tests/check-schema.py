#!/usr/bin/env python3
"""Checks topology files against docs/topology.schema.json.

    tests/check-schema.py FILE...

Prints "ok FILE" or each schema error; exits 0 if all pass, 1 if any
fails, 2 on a usage error or an invalid schema.
"""
import json
import os
import sys

import jsonschema

SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "docs", "topology.schema.json")


def main(files):
    if not files:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(SCHEMA) as f:
        schema = json.load(f)
    validator_class = jsonschema.validators.validator_for(schema)
    try:
        validator_class.check_schema(schema)
    except jsonschema.exceptions.SchemaError as e:
        print("invalid schema %s: %s" % (SCHEMA, e.message), file=sys.stderr)
        return 2
    validator = validator_class(schema)
    failed = False
    for path in files:
        try:
            with open(path) as f:
                doc = json.load(f)
        except (OSError, ValueError, RecursionError) as e:
            print("%s: %s" % (path, e))
            failed = True
            continue
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if not errors:
            print("ok %s" % path)
            continue
        failed = True
        for e in errors:
            where = "".join("[%d]" % p if isinstance(p, int) else ".%s" % p for p in e.absolute_path)
            print("%s: %s: %s" % (path, where.lstrip(".") or "(top)", e.message))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
