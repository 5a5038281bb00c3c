#!/usr/bin/env python3
"""Writes crates/wire/models/<service>.json from botocore's installed service models.

Each output holds only what request validation needs: every operation's input shape, and
every shape reachable from an input with its type, members (in model order), required
members, constraints (min, max, pattern, enum), the sensitive flag, and the member/key/
value shapes of lists and maps. Of the outputs it keeps one fact: which operations' outputs
can hold a sensitive shape (`sensitiveOutputs`), whose replies the server zeroizes once
sent. Documentation, output shapes and errors are left out.

Usage: python3 scripts/gen-models.py [service ...]   (default: kms secretsmanager ssm)
The generated files are data: commit them, and re-run this script to refresh them.
"""

import gzip
import json
import os
import sys

import botocore

SERVICES = ["kms", "secretsmanager", "ssm"]
OUT_DIR = os.path.join(os.path.dirname(__file__), "..", "crates", "wire", "models")

# The shape types the validator understands; anything else must be taught to it first.
SCALARS = {"string", "integer", "long", "boolean", "blob", "timestamp"}
CONTAINERS = {"structure", "list", "map"}


def load_model(service):
    """Reads the newest API version of `service` from botocore's data directory."""
    root = os.path.join(os.path.dirname(botocore.__file__), "data", service)
    version = sorted(os.listdir(root))[-1]
    with gzip.open(os.path.join(root, version, "service-2.json.gz"), "rt") as f:
        return json.load(f)


def reachable_from_inputs(model):
    """Names of every shape an operation input can contain, found by a walk from each input."""
    return reachable(model, [op["input"]["shape"] for op in model["operations"].values() if "input" in op])


def reachable(model, starts):
    """Names of every shape the shapes `starts` can contain, themselves included."""
    shapes = model["shapes"]
    seen = set()
    stack = list(starts)
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        shape = shapes[name]
        stack.extend(m["shape"] for m in shape.get("members", {}).values())
        stack.extend(shape[k]["shape"] for k in ("member", "key", "value") if k in shape)
    return seen


def compact_shape(shape):
    """The validation-relevant part of one botocore shape."""
    kind = shape["type"]
    if kind not in SCALARS | CONTAINERS:
        raise SystemExit(f"unsupported shape type {kind!r}: teach crates/wire/src/model first")
    out = {"type": kind}
    if kind == "structure":
        # Member order is kept: the validator derives AWS's reporting order from it.
        out["members"] = {name: m["shape"] for name, m in shape["members"].items()}
        if shape.get("required"):
            out["required"] = list(shape["required"])
    for key in ("member", "key", "value"):
        if key in shape:
            out[key] = shape[key]["shape"]
    for key in ("min", "max", "pattern", "enum"):
        if key in shape:
            out[key] = shape[key]
    if shape.get("sensitive"):
        out["sensitive"] = True
    return out


def sensitive_outputs(model):
    """The operations whose output can contain a sensitive shape, sorted."""
    shapes = model["shapes"]
    return [
        name
        for name, op in sorted(model["operations"].items())
        if "output" in op
        and any(shapes[s].get("sensitive") for s in reachable(model, [op["output"]["shape"]]))
    ]


def compact_model(service, model):
    meta = model["metadata"]
    keep = reachable_from_inputs(model)
    return {
        "_source": {
            "generatedBy": "scripts/gen-models.py",
            "from": f"botocore {botocore.__version__} data/{service}/{meta['apiVersion']}"
            "/service-2.json.gz",
            "license": "Apache-2.0 (botocore's service models); regenerate, do not edit",
        },
        "service": service,
        "apiVersion": meta["apiVersion"],
        "targetPrefix": meta.get("targetPrefix"),
        "operations": {
            name: op["input"]["shape"] if "input" in op else None
            for name, op in sorted(model["operations"].items())
        },
        "sensitiveOutputs": sensitive_outputs(model),
        "shapes": {name: compact_shape(model["shapes"][name]) for name in sorted(keep)},
    }


def main(services):
    os.makedirs(OUT_DIR, exist_ok=True)
    for service in services:
        compact = compact_model(service, load_model(service))
        path = os.path.join(OUT_DIR, f"{service}.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(compact, f, indent=1, ensure_ascii=False)
            f.write("\n")
        print(f"{path}: {len(compact['operations'])} operations, {len(compact['shapes'])} shapes")


if __name__ == "__main__":
    main(sys.argv[1:] or SERVICES)
