"""Validates OpenLineage RunEvents (NDJSON files) against the spec's JSON Schemas.

Usage: validate.py SPEC_DIR EVENTS.ndjson...

SPEC_DIR holds OpenLineage.json and facets/*.json (../shared/fixtures/openlineage/spec,
read from there, never copied). Every event is validated against the core schema (as a
RunEvent), and each facet (run, job, dataset, input and output facets) against its own
schema file, found by the facet's key and kind (the base facet its schema extends: a
run, job, dataset, input or output facet); a facet no schema defines is an error, and so is a
`_schemaURL` naming another version than the file's. Formats are checked (uuid, date-time,
uri). Prints `ok: N events, M facets`, or every error and exits 1.
"""

import json
import pathlib
import sys

import jsonschema
import referencing

RUN_EVENT = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"


def bases(doc, schema):
    """The core facets (RunFacet, DatasetFacet, InputDatasetFacet...) `schema` extends."""
    if "$ref" in schema:
        ref = schema["$ref"]
        if ref.startswith("#/$defs/"):
            return bases(doc, doc["$defs"][ref.rsplit("/", 1)[1]])
        return [ref.rsplit("/", 1)[1]]
    if "allOf" in schema:
        return bases(doc, schema["allOf"][0])
    return [b for s in schema.get("anyOf", []) + schema.get("oneOf", []) for b in bases(doc, s)]


def main(spec_dir, paths):
    spec = pathlib.Path(spec_dir)
    core = json.loads((spec / "OpenLineage.json").read_text())
    docs = [core]
    # (base, key) -> the facet's schema: a key may name facets of several kinds
    # (`ownership` of a job and of a dataset), told apart by the base facet each extends.
    facet_ids = {}
    for f in sorted((spec / "facets").glob("*.json")):
        doc = json.loads(f.read_text())
        docs.append(doc)
        for key, prop in doc.get("properties", {}).items():
            for base in bases(doc, prop):
                facet_ids[(base, key)] = doc["$id"]
    registry = referencing.Registry().with_resources(
        (d["$id"], referencing.Resource.from_contents(d)) for d in docs
    )
    checker = jsonschema.Draft202012Validator.FORMAT_CHECKER

    def validator(ref):
        return jsonschema.Draft202012Validator(
            {"$ref": ref}, registry=registry, format_checker=checker
        )

    core_v = validator(core["$id"] + "#/$defs/RunEvent")
    facet_v = {key: validator(i) for key, i in facet_ids.items()}
    errors, events, facets = [], 0, 0
    for path in paths:
        for n, line in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path}:{n}"
            event = json.loads(line)
            events += 1
            if event.get("schemaURL") != RUN_EVENT:
                errors.append(f"{where}: schemaURL is {event.get('schemaURL')!r}, not {RUN_EVENT}")
            for e in core_v.iter_errors(event):
                errors.append(f"{where}: core schema at {e.json_path}: {e.message}")
            groups = [("run.facets", "RunFacet", event.get("run", {}).get("facets")),
                      ("job.facets", "JobFacet", event.get("job", {}).get("facets"))]
            for side, own, base in (("inputs", "inputFacets", "InputDatasetFacet"),
                                    ("outputs", "outputFacets", "OutputDatasetFacet")):
                for i, d in enumerate(event.get(side) or []):
                    groups.append((f"{side}[{i}].facets", "DatasetFacet", d.get("facets")))
                    groups.append((f"{side}[{i}].{own}", base, d.get(own)))
            for at, base, group in groups:
                for key, facet in (group or {}).items():
                    if (base, key) not in facet_v:
                        errors.append(f"{where}: {at}.{key}: no schema in the spec defines a {base} `{key}`")
                        continue
                    url = facet.get("_schemaURL", "")
                    if not url.startswith(facet_ids[(base, key)] + "#"):
                        errors.append(f"{where}: {at}.{key}: _schemaURL {url!r} is not the spec's {facet_ids[(base, key)]}")
                    for e in facet_v[(base, key)].iter_errors({key: facet}):
                        errors.append(f"{where}: {at}.{key} at {e.json_path}: {e.message}")
                    facets += 1
    if errors:
        print("\n".join(errors))
        return 1
    print(f"ok: {events} events, {facets} facets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
