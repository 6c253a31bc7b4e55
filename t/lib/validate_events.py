# SPDX-License-Identifier: BSD-2-Clause
"""Validates every event (one JSON document per line on stdin) against the
mailhook event schema; prints each failure and exits 1 if there was one."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)
failures = 0
count = 0
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    count += 1
    for error in validator.iter_errors(json.loads(line)):
        failures += 1
        print(f"event {count}: {error.json_path}: {error.message}")
print(f"validated {count} events, {failures} failures")
sys.exit(1 if failures else 0)
