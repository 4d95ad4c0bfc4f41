//! What a dbt `manifest.json` (schema v10 to v12, dbt 1.6 and later) says: models, seeds,
//! snapshots, sources, tests, unit tests, analyses, exposures, metrics, semantic models and
//! saved queries, with the edges of `parent_map` (first-order; the queries compute closures).
//!
//! Disabled resources are left out (dbt keeps them apart, under `disabled`). Owners come
//! from `meta.owner` (or `config.meta.owner`), and an exposure's `owner.name` or
//! `owner.email`; tiers from `meta.tier`, or an exposure's maturity (high 1, medium 2, low 3).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::error::{LineageError, Result};
use crate::graph::{Fragment, NodeKind, Origin, RawEdge, RawNode};

/// The manifest schema versions read.
pub const SCHEMA_VERSIONS: std::ops::RangeInclusive<u32> = 10..=12;

#[derive(Deserialize)]
struct Manifest {
    metadata: Metadata,
    nodes: HashMap<String, Resource>,
    #[serde(default)]
    sources: HashMap<String, Resource>,
    #[serde(default)]
    exposures: HashMap<String, Resource>,
    #[serde(default)]
    metrics: HashMap<String, Resource>,
    #[serde(default)]
    semantic_models: HashMap<String, Resource>,
    #[serde(default)]
    saved_queries: HashMap<String, Resource>,
    #[serde(default)]
    unit_tests: HashMap<String, Resource>,
    parent_map: Option<HashMap<String, Vec<String>>>,
}

#[derive(Deserialize)]
struct Metadata {
    dbt_schema_version: Option<String>,
    #[serde(default)]
    adapter_type: Option<String>,
}

#[derive(Deserialize)]
struct Resource {
    resource_type: String,
    name: String,
    #[serde(default)]
    package_name: Option<String>,
    #[serde(default)]
    original_file_path: Option<String>,
    #[serde(default)]
    fqn: Vec<String>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    meta: Option<HashMap<String, Value>>,
    #[serde(default)]
    config: Option<ResourceConfig>,
    #[serde(default)]
    alias: Option<String>,
    #[serde(default)]
    relation_name: Option<String>,
    #[serde(default)]
    source_name: Option<String>,
    #[serde(default)]
    version: Option<Value>,
    #[serde(default)]
    owner: Option<Owner>,
    #[serde(default)]
    maturity: Option<String>,
    #[serde(default, rename = "type")]
    type_: Option<Value>,
    #[serde(default)]
    url: Option<String>,
    /// The model's SQL as `dbt compile` wrote it (column lineage).
    #[serde(default)]
    compiled_code: Option<String>,
    /// Documented columns (for `SELECT *`): their names only.
    #[serde(default)]
    columns: Option<HashMap<String, serde::de::IgnoredAny>>,
}

#[derive(Deserialize)]
struct ResourceConfig {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    meta: Option<HashMap<String, Value>>,
}

#[derive(Deserialize)]
struct Owner {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

/// Reads a manifest file.
pub fn import(path: &Path) -> Result<Fragment> {
    let text = std::fs::read(path).map_err(|source| LineageError::Read {
        what: "dbt manifest",
        path: path.to_path_buf(),
        source,
    })?;
    let mut f = import_bytes(path, &text)?;
    // `dbt docs generate` writes catalog.json beside manifest.json: the warehouse's own
    // columns of every relation, all of them (for `SELECT *` in column lineage).
    let catalog = path.with_file_name("catalog.json");
    if let Some(d) = f.deferred_columns.take() {
        f.deferred_columns = Some(match catalog_schemas(&catalog) {
            Some(schemas) => d.with_schemas(schemas),
            None => d,
        });
    }
    Ok(f)
}

/// The columns of every relation in a dbt `catalog.json` (lower-case `db.schema.name` and
/// `schema.name`), complete; `None` when there is no readable catalog.
fn catalog_schemas(path: &Path) -> Option<super::sql::columns::Schemas> {
    #[derive(Deserialize)]
    struct Catalog {
        #[serde(default)]
        nodes: HashMap<String, Table>,
        #[serde(default)]
        sources: HashMap<String, Table>,
    }
    #[derive(Deserialize)]
    struct Table {
        metadata: TableMeta,
        #[serde(default)]
        columns: HashMap<String, serde::de::IgnoredAny>,
    }
    #[derive(Deserialize)]
    struct TableMeta {
        #[serde(default)]
        database: Option<String>,
        schema: String,
        name: String,
    }
    let bytes = std::fs::read(path).ok()?;
    let catalog: Catalog = match serde_json::from_slice(&bytes) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "catalog.json not read");
            return None;
        }
    };
    let mut schemas = super::sql::columns::Schemas::new();
    schemas.complete = true;
    for t in catalog.nodes.values().chain(catalog.sources.values()) {
        let names: Vec<String> = t.columns.keys().map(|c| c.to_lowercase()).collect();
        let short = format!("{}.{}", t.metadata.schema, t.metadata.name).to_lowercase();
        if let Some(db) = &t.metadata.database {
            schemas.insert(format!("{db}.{short}").to_lowercase(), names.clone());
        }
        schemas.insert(short, names);
    }
    Some(schemas)
}

/// The `N` of `.../manifest/vN.json` in `metadata.dbt_schema_version`.
fn schema_version(m: &Metadata) -> Option<u32> {
    m.dbt_schema_version
        .as_deref()
        .and_then(|u| u.rsplit('/').next())
        .and_then(|f| f.strip_prefix('v'))
        .and_then(|f| f.strip_suffix(".json"))
        .and_then(|n| n.parse::<u32>().ok())
}

/// Reads a manifest's bytes (`path` is for messages).
pub fn import_bytes(path: &Path, bytes: &[u8]) -> Result<Fragment> {
    let bad = |message: String| LineageError::Manifest {
        path: path.to_path_buf(),
        message,
    };
    let too_old = |v: u32| {
        bad(format!(
            "manifest schema v{v} is older than sluice reads (v10 to v12, written by dbt 1.6 and later); run `dbt parse` with a newer dbt to regenerate it"
        ))
    };
    let manifest: Manifest = serde_json::from_slice(bytes).map_err(|e| {
        if e.is_syntax() || e.is_eof() {
            return bad(format!("not valid JSON at line {}, column {}: {e}; is this dbt's target/manifest.json?", e.line(), e.column()));
        }
        // An old manifest lacks fields: say it is old rather than which field is missing.
        #[derive(Deserialize)]
        struct Probe {
            metadata: Metadata,
        }
        match serde_json::from_slice::<Probe>(bytes).ok().and_then(|p| schema_version(&p.metadata)) {
            Some(v) if v < *SCHEMA_VERSIONS.start() => too_old(v),
            _ => bad(format!("not a dbt manifest ({e}); sluice reads manifest.json written by dbt 1.6 or later (schema v10 to v12)")),
        }
    })?;
    match schema_version(&manifest.metadata) {
        Some(v) if v < *SCHEMA_VERSIONS.start() => return Err(too_old(v)),
        Some(v) if v > *SCHEMA_VERSIONS.end() => {
            tracing::warn!(path = %path.display(), version = v, "dbt manifest schema is newer than v12; reading the fields v12 has")
        }
        Some(_) => {}
        None => {
            return Err(bad(
                "metadata.dbt_schema_version is missing or not a dbt manifest schema URL"
                    .to_string(),
            ));
        }
    }
    let Some(parent_map) = manifest.parent_map else {
        return Err(bad(
            "it has no parent_map; write it with `dbt parse` or `dbt compile`, not a partial parse"
                .to_string(),
        ));
    };
    let mut f = Fragment::new(Origin::Dbt);
    let groups = [
        manifest.nodes,
        manifest.sources,
        manifest.exposures,
        manifest.metrics,
        manifest.semantic_models,
        manifest.saved_queries,
        manifest.unit_tests,
    ];
    let mut known = std::collections::HashSet::new();
    let dialect = manifest
        .metadata
        .adapter_type
        .as_deref()
        .and_then(sluice_spec::Dialect::parse)
        .unwrap_or_default();
    let mut compiled: Vec<(String, String)> = Vec::new();
    let mut schemas = super::sql::columns::Schemas::new();
    for group in &groups {
        for r in group.values() {
            if let (Some(rel), Some(cols)) = (&r.relation_name, &r.columns)
                && !cols.is_empty()
            {
                let names: Vec<String> = cols.keys().map(|c| c.to_lowercase()).collect();
                let rel = unquote(rel);
                schemas.insert(rel.to_lowercase(), names.clone());
                if let Some((_, short)) = rel.split_once('.') {
                    schemas.insert(short.to_lowercase(), names);
                }
            }
        }
    }
    for group in groups {
        for (unique_id, r) in group {
            if r.resource_type == "model"
                && let Some(code) = &r.compiled_code
            {
                compiled.push((unique_id.clone(), code.clone()));
            }
            if let Some(node) = raw_node(unique_id, r) {
                known.insert(node.id.clone());
                f.nodes.push(node);
            }
        }
    }
    f.nodes.sort_by(|a, b| a.id.cmp(&b.id));
    let mut children: Vec<(&String, &Vec<String>)> = parent_map.iter().collect();
    children.sort();
    for (child, parents) in children {
        if !known.contains(child) {
            continue;
        }
        for p in parents {
            if known.contains(p) {
                f.edges.push(RawEdge {
                    from: p.clone(),
                    to: child.clone(),
                });
            }
        }
    }
    // Column lineage from each model's compiled SQL, in the adapter's dialect: computed
    // when a column question is first asked, on every core. A model whose SQL does not
    // parse keeps its table-level edges (from `parent_map`).
    compiled.retain(|(id, _)| known.contains(id));
    if !compiled.is_empty() {
        f.deferred_columns = Some(crate::columns::Deferred::new(move |catalog| {
            column_edges(&compiled, dialect, catalog.unwrap_or(&schemas))
        }));
    }
    Ok(f)
}

/// The column edges of models' compiled SQL, the models split over the cores.
fn column_edges(
    compiled: &[(String, String)],
    dialect: sluice_spec::Dialect,
    schemas: &super::sql::columns::Schemas,
) -> Vec<crate::columns::RawColumnEdge> {
    let one = |(unique_id, code): &(String, String)| -> Vec<crate::columns::RawColumnEdge> {
        match super::sql::select_columns(code, dialect, schemas) {
            Ok(edges) => edges
                .into_iter()
                .map(
                    |(from, from_column, to_column, role)| crate::columns::RawColumnEdge {
                        from: format!("{}{}", crate::columns::BY_NAME, from),
                        from_column,
                        to: unique_id.clone(),
                        to_column,
                        role,
                    },
                )
                .collect(),
            Err(e) => {
                tracing::debug!(model = %unique_id, error = %e.message, "no column lineage");
                vec![]
            }
        }
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let chunk = compiled.len().div_ceil(threads).max(1);
    std::thread::scope(|s| {
        let handles: Vec<_> = compiled
            .chunks(chunk)
            .map(|part| s.spawn(move || part.iter().flat_map(one).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

fn raw_node(unique_id: String, r: Resource) -> Option<RawNode> {
    let kind = match r.resource_type.as_str() {
        "model" => NodeKind::Model,
        "seed" => NodeKind::Seed,
        "snapshot" => NodeKind::Snapshot,
        "source" => NodeKind::Source,
        "test" => NodeKind::Test,
        "unit_test" => NodeKind::UnitTest,
        "analysis" => NodeKind::Analysis,
        "exposure" => NodeKind::Exposure,
        "metric" => NodeKind::Metric,
        "semantic_model" => NodeKind::SemanticModel,
        "saved_query" => NodeKind::SavedQuery,
        // Hooks (`operation`), macros, docs: not lineage.
        _ => return None,
    };
    if r.config.as_ref().and_then(|c| c.enabled) == Some(false) {
        return None;
    }
    let meta = |key: &str| -> Option<&Value> {
        r.meta.as_ref().and_then(|m| m.get(key)).or_else(|| {
            r.config
                .as_ref()
                .and_then(|c| c.meta.as_ref())
                .and_then(|m| m.get(key))
        })
    };
    let owner = meta("owner").and_then(value_text).or_else(|| {
        r.owner
            .as_ref()
            .and_then(|o| o.name.clone().or_else(|| o.email.clone()))
    });
    let tier = meta("tier")
        .and_then(value_tier)
        .or(match r.maturity.as_deref() {
            Some("high") => Some(1),
            Some("medium") => Some(2),
            Some("low") => Some(3),
            _ => None,
        });
    let name = match (&r.source_name, kind, &r.version) {
        (Some(src), NodeKind::Source, _) => format!("{src}.{}", r.name),
        (_, _, Some(v)) if !v.is_null() => {
            format!("{}.v{}", r.name, value_text(v).unwrap_or_default())
        }
        _ => r.name.clone(),
    };
    let mut alias_names = Vec::new();
    if kind.is_data() {
        if let Some(a) = &r.alias
            && *a != r.name
        {
            alias_names.push(a.clone());
        }
        if let Some(rel) = &r.relation_name {
            let rel = unquote(rel);
            // `schema.table` as well as `database.schema.table`.
            if let Some((_, rest)) = rel.split_once('.')
                && rest.contains('.')
            {
                alias_names.push(rest.to_string());
            }
            alias_names.push(rel);
        }
    }
    let subkind = match kind {
        NodeKind::Exposure => r.type_.as_ref().and_then(value_text),
        _ => None,
    };
    Some(RawNode {
        id: unique_id.clone(),
        name,
        kind: Some(kind),
        owner,
        tier,
        tags: r.tags.unwrap_or_default(),
        fqn: r.fqn,
        package: r.package_name,
        source_name: r.source_name,
        path: r.original_file_path,
        alias_names,
        unique_id: Some(unique_id),
        subkind,
        url: r.url,
        self_reads: vec![],
    })
}

/// `"DB"."schema".table` -> `DB.schema.table`.
fn unquote(relation: &str) -> String {
    relation
        .chars()
        .filter(|c| !matches!(c, '"' | '`' | '[' | ']'))
        .collect()
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Object(o) => o
            .get("name")
            .or_else(|| o.get("email"))
            .and_then(value_text),
        Value::Array(a) => a.first().and_then(value_text),
        _ => None,
    }
}

/// `1`, `"1"`, `"tier1"`, `"tier_1"`, `"T1"`.
fn value_tier(v: &Value) -> Option<u8> {
    match v {
        Value::Number(n) => n.as_u64().map(|t| t.clamp(1, 255) as u8),
        Value::String(s) => {
            let digits: String = s.chars().filter(char::is_ascii_digit).collect();
            digits.parse::<u8>().ok().map(|t| t.max(1))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(body: &str) -> String {
        format!(
            r#"{{"metadata": {{"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v11.json"}}, {body}}}"#
        )
    }

    #[test]
    fn reads_owners_tiers_and_edges() {
        let m = manifest(
            r#""nodes": {
                "model.p.orders": {"resource_type": "model", "name": "orders", "fqn": ["p", "orders"], "package_name": "p",
                    "meta": {"owner": "analytics", "tier": "tier1"}, "relation_name": "\"db\".\"main\".\"orders\"", "alias": "orders",
                    "config": {"enabled": true}},
                "model.p.off": {"resource_type": "model", "name": "off", "fqn": ["p", "off"], "config": {"enabled": false}},
                "operation.p.hook": {"resource_type": "operation", "name": "hook"}
            },
            "sources": {"source.p.raw.orders": {"resource_type": "source", "name": "orders", "source_name": "raw", "fqn": ["p", "raw", "orders"],
                "config": {"meta": {"owner": {"name": "ingest"}}}}},
            "exposures": {"exposure.p.revenue": {"resource_type": "exposure", "name": "revenue", "type": "dashboard",
                "owner": {"name": null, "email": "fin@x.com"}, "maturity": "high", "url": "https://bi/1"}},
            "parent_map": {"model.p.orders": ["source.p.raw.orders"], "exposure.p.revenue": ["model.p.orders", "model.p.off"],
                "model.p.off": []}"#,
        );
        let f = import_bytes(Path::new("m.json"), m.as_bytes()).unwrap();
        let ids: Vec<&str> = f.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "exposure.p.revenue",
                "model.p.orders",
                "source.p.raw.orders"
            ]
        );
        let by = |id: &str| f.nodes.iter().find(|n| n.id == id).unwrap();
        assert_eq!(by("model.p.orders").owner.as_deref(), Some("analytics"));
        assert_eq!(by("model.p.orders").tier, Some(1));
        assert_eq!(
            by("model.p.orders").alias_names,
            ["main.orders", "db.main.orders"]
        );
        assert_eq!(by("source.p.raw.orders").name, "raw.orders");
        assert_eq!(by("source.p.raw.orders").owner.as_deref(), Some("ingest"));
        let e = by("exposure.p.revenue");
        assert_eq!(
            (e.owner.as_deref(), e.tier, e.subkind.as_deref()),
            (Some("fin@x.com"), Some(1), Some("dashboard"))
        );
        let edges: Vec<(&str, &str)> = f
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str()))
            .collect();
        assert_eq!(
            edges,
            [
                ("model.p.orders", "exposure.p.revenue"),
                ("source.p.raw.orders", "model.p.orders")
            ]
        );
    }

    #[test]
    fn bad_manifests_say_what_is_wrong() {
        let err = |text: &str| {
            import_bytes(Path::new("m.json"), text.as_bytes())
                .unwrap_err()
                .to_string()
        };
        assert!(
            err("{\"nodes\": ").contains("m.json: not valid JSON at line 1, column 10"),
            "{}",
            err("{\"nodes\": ")
        );
        assert!(err("[1]").contains("not a dbt manifest"));
        let old = r#"{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v7.json"}, "nodes": {}}"#;
        assert!(
            err(old).contains("manifest schema v7 is older than sluice reads"),
            "{}",
            err(old)
        );
        assert!(err(&manifest(r#""nodes": {}"#)).contains("it has no parent_map"));
    }
}
