//! Validates OpenLineage events against the spec's JSON Schemas, read from
//! `../shared/fixtures/openlineage/spec/` (beside the repository; never copied in) or the
//! folder `SLUICE_OPENLINEAGE_SPEC` names: the core schema (`OpenLineage.json`, RunEvent),
//! and each facet against its own schema file, found by the facet's key (`parent`,
//! `dataQualityAssertions`…). A facet without a schema file fails the test, and so does a
//! `_schemaURL` naming another version of the facet than the file's.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use jsonschema::{Registry, Validator};
use serde_json::{Value, json};

/// `../shared/fixtures/openlineage/spec`, or `SLUICE_OPENLINEAGE_SPEC`.
pub fn spec_dir() -> PathBuf {
    let dir = std::env::var_os("SLUICE_OPENLINEAGE_SPEC")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/fixtures/openlineage/spec")
        });
    assert!(
        dir.join("OpenLineage.json").is_file(),
        "the OpenLineage JSON Schemas are not at {}; check out the shared folder next to the repository or set SLUICE_OPENLINEAGE_SPEC",
        dir.display()
    );
    dir
}

/// A facet's schema: its validator and `$id`.
struct FacetSchema {
    validator: Validator,
    id: String,
}

/// The compiled schemas.
pub struct Schemas {
    core: Validator,
    facets: HashMap<String, FacetSchema>,
}

fn read(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

impl Schemas {
    /// Reads and compiles the core schema and every facet schema (offline: every `$ref`
    /// resolves to a file of the spec, by `$id`), with format validation on (`uuid`,
    /// `date-time`, `uri`).
    pub fn load() -> Schemas {
        let dir = spec_dir();
        let core = read(&dir.join("OpenLineage.json"));
        let mut docs = vec![core.clone()];
        let mut facet_files = Vec::new();
        for entry in std::fs::read_dir(dir.join("facets")).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "json") {
                let doc = read(&path);
                docs.push(doc.clone());
                facet_files.push(doc);
            }
        }
        let mut registry = Registry::new();
        for doc in &docs {
            let id = doc["$id"].as_str().expect("every schema has an $id").to_string();
            registry = registry.add(id, doc.clone()).expect("a schema resource");
        }
        let registry = registry.prepare().expect("the schemas resolve");
        let compile = |schema: &Value| {
            jsonschema::options()
                .with_registry(&registry)
                .should_validate_formats(true)
                .build(schema)
                .unwrap_or_else(|e| panic!("schema does not compile: {e}"))
        };
        let core = compile(&json!({ "$ref": core["$id"] }));
        let mut facets = HashMap::new();
        for doc in facet_files {
            let id = doc["$id"].as_str().unwrap().to_string();
            for key in doc["properties"].as_object().into_iter().flatten().map(|(k, _)| k) {
                facets.insert(
                    key.clone(),
                    FacetSchema {
                        validator: compile(&json!({ "$ref": id })),
                        id: id.clone(),
                    },
                );
            }
        }
        Schemas { core, facets }
    }

    /// Validates `event` (a RunEvent) against the core schema and each of its facets
    /// against the facet's schema; panics listing every error. Returns how many facets
    /// were validated.
    pub fn validate(&self, event: &Value) -> usize {
        let mut errors: Vec<String> = self
            .core
            .iter_errors(event)
            .map(|e| format!("core schema at {}: {e}", e.instance_path()))
            .collect();
        assert_eq!(
            event["schemaURL"],
            "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
            "the event names the schema it follows"
        );
        let mut groups: Vec<(String, &Value)> = vec![
            ("run.facets".into(), &event["run"]["facets"]),
            ("job.facets".into(), &event["job"]["facets"]),
        ];
        for side in ["inputs", "outputs"] {
            for (i, d) in event[side].as_array().into_iter().flatten().enumerate() {
                groups.push((format!("{side}[{i}].facets"), &d["facets"]));
                let own = if side == "inputs" { "inputFacets" } else { "outputFacets" };
                groups.push((format!("{side}[{i}].{own}"), &d[own]));
            }
        }
        let mut validated = 0;
        for (at, facets) in groups {
            for (key, facet) in facets.as_object().into_iter().flatten() {
                let Some(schema) = self.facets.get(key) else {
                    errors.push(format!("{at}.{key}: no schema in the spec has a facet called `{key}`"));
                    continue;
                };
                let url = facet["_schemaURL"].as_str().unwrap_or_default();
                if !url.starts_with(&format!("{}#", schema.id)) {
                    errors.push(format!(
                        "{at}.{key}: _schemaURL `{url}` is not the spec's {}",
                        schema.id
                    ));
                }
                let wrapped = json!({ key: facet });
                errors.extend(
                    schema
                        .validator
                        .iter_errors(&wrapped)
                        .map(|e| format!("{at}.{key} at {}: {e}", e.instance_path())),
                );
                validated += 1;
            }
        }
        assert!(
            errors.is_empty(),
            "the event does not follow the OpenLineage schemas:\n{}\n{}",
            errors.join("\n"),
            serde_json::to_string_pretty(event).unwrap()
        );
        validated
    }
}

/// The events of an NDJSON file, in order.
pub fn events(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}
