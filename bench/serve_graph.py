#!/usr/bin/env python3
"""Writes a large dbt manifest for the `sluice serve` load test (bench/serve_load.sh), and
the impact queries to ask about it.

    python3 bench/serve_graph.py OUT_DIR [--nodes 1000000] [--layers 30] [--seed 42]

The graph is the lineage benchmark's shape (crates/sluice-lineage/examples/bench_lineage.rs):
a layered random DAG, each node after the first layer with 3 parents from the previous 1-3
layers. Every node is a dbt model (`model.big.m<layer>_<i>`), with an owner and a tier in
`meta` so that impact reports have people to notify. Three models carry the names of the
datasets of examples/orders, so they merge with them: `orders` is a root (layer 0),
`customers` sits mid-graph (layer 15) and `events` is a leaf (last layer); the breakers of
those datasets then block (and are blocked by) real parts of the graph.

Writes OUT_DIR/manifest.json (schema v12, only the fields sluice reads) and
OUT_DIR/impact.txt: request paths, one a line, for the load test's impact queries:
  - downstream of a node in the last five layers (no depth limit: a small blast radius);
  - downstream of any node, depth 2;
  - upstream of any node, depth 3;
  - what `orders` feeds directly (depth 1).
"""
import argparse
import json
import os
import random

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--nodes", type=int, default=1_000_000)
ap.add_argument("--layers", type=int, default=30)
ap.add_argument("--seed", type=int, default=42)
a = ap.parse_args()
rng = random.Random(a.seed)
per = a.nodes // a.layers
layers = [[f"m{l}_{i}" for i in range(per)] for l in range(a.layers)]
renamed = {(0, 0): "orders", (a.layers // 2, 0): "customers", (a.layers - 1, 0): "events"}
for (l, i), name in renamed.items():
    layers[l][i] = name
uid = lambda name: f"model.big.{name}"
owners = [f"team-{k}" for k in range(40)]

os.makedirs(a.out, exist_ok=True)
with open(os.path.join(a.out, "manifest.json"), "w") as f:
    f.write('{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "project_name": "big"},\n"nodes": {')
    first = True
    for l, names in enumerate(layers):
        for name in names:
            meta = {"owner": owners[rng.randrange(len(owners))], "tier": 1 + rng.randrange(3)}
            node = {"resource_type": "model", "name": name, "package_name": "big",
                    "fqn": ["big", f"layer{l}", name], "meta": meta}
            f.write(("" if first else ",\n") + json.dumps(uid(name)) + ": " + json.dumps(node, separators=(",", ":")))
            first = False
    f.write('},\n"parent_map": {')
    first = True
    for l, names in enumerate(layers):
        for name in names:
            parents = []
            if l > 0:
                for _ in range(3):
                    pl = max(0, l - 1 - rng.randrange(3))
                    parents.append(uid(layers[pl][rng.randrange(per)]))
            f.write(("" if first else ",\n") + json.dumps(uid(name)) + ": " + json.dumps(sorted(set(parents))))
            first = False
    f.write("}}\n")

pick = lambda lo, hi: layers[rng.randrange(lo, hi)][rng.randrange(per)]
with open(os.path.join(a.out, "impact.txt"), "w") as f:
    for _ in range(800):
        f.write(f"/api/impact/{pick(a.layers - 5, a.layers)}\n")
    for _ in range(600):
        f.write(f"/api/impact/{pick(0, a.layers)}?depth=2\n")
    for _ in range(400):
        f.write(f"/api/impact/{pick(0, a.layers)}?direction=upstream&depth=3\n")
    for _ in range(200):
        f.write("/api/impact/orders?depth=1\n")
print(f"{a.out}/manifest.json: {per * a.layers} models in {a.layers} layers")
