//! The sources merged into one graph: `examples/lineage/` (sluice.yaml with stage SQL in a
//! file, the dbt project's manifest, OpenLineage events) and small configs written here for
//! the identity rules and every way a source can be wrong.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sluice_lineage::{
    Direction, ImpactOptions, Lineage, LineageError, NodeKind, Origin, Sources, impact, load,
};
use sluice_spec::{Config, Vars};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn config(path: &Path) -> Config {
    sluice_spec::load(path, &Vars::isolated(BTreeMap::new())).unwrap_or_else(|e| panic!("{e:?}"))
}

fn example() -> (Config, Lineage) {
    let c = config(&repo().join("examples/lineage/sluice.yaml"));
    let l = load(&Sources::new(Some(&c), &[], &[])).expect("the example loads");
    (c, l)
}

/// Writes `files` into a temporary folder and loads its `sluice.yaml`.
fn try_load(files: &[(&str, &str)]) -> (tempfile::TempDir, Result<Lineage, LineageError>) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let c = config(&dir.path().join("sluice.yaml"));
    let r = load(&Sources::new(Some(&c), &[], &[]));
    (dir, r)
}

fn downstream(l: &Lineage, name: &str) -> Vec<(String, u32)> {
    let root = l.find(name).unwrap();
    let imp = impact(
        l,
        root,
        ImpactOptions {
            direction: Direction::Downstream,
            max_depth: None,
            include_tests: false,
        },
    );
    imp.hits
        .iter()
        .map(|h| (l.node(h.node).name.clone(), h.depth))
        .collect()
}

fn names(l: &Lineage, name: &str) -> Vec<String> {
    let mut v: Vec<String> = downstream(l, name).into_iter().map(|(n, _)| n).collect();
    v.sort();
    v
}

#[test]
fn example_merges_config_sql_dbt_and_openlineage() {
    let (_, l) = example();
    // The dataset `revenue_daily` and the dbt model of that name are one node, with the
    // config's kind and owner first and both origins.
    let rd = l.node(l.find("revenue_daily").unwrap());
    assert_eq!(rd.kind, NodeKind::Dataset);
    assert!(rd.is(NodeKind::Model));
    assert_eq!(rd.origins, [Origin::Config, Origin::Sql, Origin::Dbt]);
    assert_eq!(
        rd.unique_id.as_deref(),
        Some("model.sluice_shop.revenue_daily")
    );
    // The dbt source shop.orders is the OpenLineage dataset duckdb://warehouse/sluice_shop.shop.orders
    // (its relation name), written by the ingestion job.
    let src = l.node(l.find("shop.orders").unwrap());
    assert_eq!(src.origins, [Origin::Dbt, Origin::OpenLineage]);
    assert!(
        src.ids
            .iter()
            .any(|i| i == "ol:duckdb://warehouse/sluice_shop.shop.orders"),
        "{:?}",
        src.ids
    );
    // The mapping names the landing file's OpenLineage id as the dataset landing_orders.
    let landing = l.node(l.find("landing_orders").unwrap());
    assert!(
        landing.ids.iter().any(|i| i == "ol:s3://landing/orders/"),
        "{:?}",
        landing.ids
    );
    // The stage's SQL file says what it reads and writes.
    let stage = l.find("forecast_revenue").unwrap();
    assert_eq!(l.node(stage).origins, [Origin::Config]);
    let (ups, downs): (Vec<String>, Vec<String>) = (
        l.graph
            .neighbors_directed(stage, petgraph::Direction::Incoming)
            .map(|n| l.node(n).name.clone())
            .collect(),
        l.graph
            .neighbors_directed(stage, petgraph::Direction::Outgoing)
            .map(|n| l.node(n).name.clone())
            .collect(),
    );
    let mut ups = ups;
    ups.sort();
    assert_eq!(ups, ["calendar", "revenue_daily"]);
    assert_eq!(downs, ["revenue_forecast"]);
    let e = l
        .graph
        .find_edge(stage, l.find("revenue_forecast").unwrap())
        .unwrap();
    assert_eq!(l.graph[e].origins, [Origin::Sql]);
    // The failed run of ingest.load_orders wrote a scratch table; the latest COMPLETE run
    // wins, so the scratch table has no edge; it stays a node (impact on it: nothing now).
    let scratch = l.find("sluice_shop.shop.orders_scratch").unwrap();
    assert_eq!(
        l.graph
            .edges_directed(scratch, petgraph::Direction::Incoming)
            .count(),
        0
    );
    assert_eq!(
        l.graph
            .edges_directed(scratch, petgraph::Direction::Outgoing)
            .count(),
        0
    );
}

#[test]
fn example_impact_crosses_every_source_with_data_depths() {
    let (_, l) = example();
    let hits: BTreeMap<String, u32> = downstream(&l, "landing_orders").into_iter().collect();
    // job and what it writes share a depth; dbt steps count one each; stage + output share one.
    for (name, depth) in [
        ("ingest.load_orders", 1),
        ("shop.orders", 1),
        ("stg_orders", 2),
        ("orders", 3),
        ("ops_alerting", 4),
        ("revenue_daily", 4),
        ("forecast_revenue", 5),
        ("revenue_forecast", 5),
        ("cfo_forecast_deck", 6),
        ("reverse_etl.sync_customers", 5),
        ("Account", 5),
    ] {
        assert_eq!(hits.get(name), Some(&depth), "{name}: {hits:?}");
    }
    // Exposures first, most critical first.
    let order: Vec<String> = downstream(&l, "landing_orders")
        .into_iter()
        .take(4)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        order,
        [
            "revenue_dashboard",
            "cfo_forecast_deck",
            "ops_alerting",
            "churn_model"
        ]
    );
}

#[test]
fn sql_tables_merge_with_datasets_and_mappings_join_other_names() {
    // `orders` is a dataset here and a table in two stages' SQL: one node.
    let (_d, l) = try_load(&[(
        "sluice.yaml",
        "version: 1\ndatasets:\n  orders: { path: o.csv }\n  totals: { path: t.csv }\nstages:\n  \
         sum:\n    sql: INSERT INTO totals SELECT sum(x) FROM Orders\n",
    )]);
    let l = l.unwrap();
    assert_eq!(names(&l, "orders"), ["sum", "totals"]);
    assert_eq!(
        l.len(),
        3,
        "the SQL's tables merged with the datasets (case-insensitively)"
    );

    // A table the SQL calls by another name joins the dataset through `mapping`.
    let (_d, l) = try_load(&[(
        "sluice.yaml",
        "version: 1\ndatasets:\n  orders: { path: o.csv }\n  totals: { path: t.csv }\nstages:\n  \
         sum:\n    sql: INSERT INTO totals SELECT sum(x) FROM legacy.orders_v1\nlineage:\n  mapping:\n    \
         orders: [table:legacy.orders_v1]\n",
    )]);
    let l = l.unwrap();
    assert_eq!(names(&l, "orders"), ["sum", "totals"]);
    assert!(
        l.find("legacy.orders_v1").is_err(),
        "no separate node for the mapped table"
    );
}

#[test]
fn a_mapping_to_an_unknown_id_is_an_error_with_its_location() {
    let (_d, r) = try_load(&[(
        "sluice.yaml",
        "version: 1\ndatasets:\n  a: { path: a.csv }\nlineage:\n  mapping:\n    a: [model.shop.nope]\n",
    )]);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("sluice.yaml:6:5"), "{e}");
    assert!(e.contains("model.shop.nope"), "{e}");
}

#[test]
fn unknown_depends_on_is_located_and_suggests() {
    let (_d, r) = try_load(&[(
        "sluice.yaml",
        "version: 1\ndatasets:\n  orders_clean: { path: a.csv }\nexposures:\n  dash:\n    depends_on: [orders_clen]\n",
    )]);
    let e = r.unwrap_err().to_string();
    assert!(
        e.contains("sluice.yaml:5:3: exposure `dash` depends_on `orders_clen`"),
        "{e}"
    );
    assert!(e.contains("did you mean `orders_clean`?"), "{e}");
}

#[test]
fn unparseable_sql_points_at_the_line_in_the_config_or_the_file() {
    let (_d, r) = try_load(&[(
        "sluice.yaml",
        "version: 1\ndatasets:\n  a: { path: a.csv }\nstages:\n  s:\n    sql: |\n      INSERT INTO b\n      SELECT * FROM a\n      WHERE x = = 1\n",
    )]);
    let e = r.unwrap_err().to_string();
    assert!(
        e.ends_with(
            "sluice.yaml:9:17: stage `s`: its SQL does not parse as generic SQL: Expected: an expression, found: =; if it is written for one database, name it with `dialect:` (postgres, snowflake, bigquery, redshift, mysql, mssql, hive, databricks, duckdb, sqlite, clickhouse)"
        ),
        "{e}"
    );
    let (_d, r) = try_load(&[
        (
            "sluice.yaml",
            "version: 1\ndatasets:\n  a: { path: a.csv }\nstages:\n  s: { sql_file: sql/s.sql }\n",
        ),
        ("sql/s.sql", "-- load b\nINSERT INTO b\nSELEC * FROM a;\n"),
    ]);
    let e = r.unwrap_err().to_string();
    assert!(e.contains("sql/s.sql:3:1: stage `s`"), "{e}");
}

#[test]
fn a_cycle_names_its_nodes() {
    let (_d, r) = try_load(&[(
        "sluice.yaml",
        "version: 1\ndatasets:\n  a: { path: a.csv }\n  b: { path: b.csv }\nstages:\n  \
         s1: { inputs: [a], outputs: [b] }\n  s2: { sql: INSERT INTO a SELECT * FROM b }\n",
    )]);
    let e = r.unwrap_err();
    assert!(matches!(e, LineageError::Cycle { .. }), "{e}");
    assert!(e.to_string().contains("a -> s1 -> b -> s2 -> a"), "{e}");
}

#[test]
fn bad_source_files_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("manifest.json");
    let e = load(&Sources::new(None, std::slice::from_ref(&missing), &[])).unwrap_err();
    assert!(e.is_io(), "{e}");
    assert!(e.to_string().contains("manifest.json"), "{e}");

    std::fs::write(&missing, r#"{"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v4.json"}}"#).unwrap();
    let e = load(&Sources::new(None, std::slice::from_ref(&missing), &[]))
        .unwrap_err()
        .to_string();
    assert!(e.contains("v4"), "{e}");

    let events = dir.path().join("events.ndjson");
    std::fs::write(&events, "{\"producer\":\"p\",\"schemaURL\":\"s\",\"eventType\":\"COMPLETE\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"run\":{\"runId\":\"r\"},\"job\":{\"namespace\":\"a\",\"name\":\"b\"}}\nnot json\n").unwrap();
    let e = load(&Sources::new(None, &[], std::slice::from_ref(&events)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("events.ndjson:2: not valid JSON"), "{e}");
}
