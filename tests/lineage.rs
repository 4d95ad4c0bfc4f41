//! End-to-end tests of `sluice impact` and `sluice lineage select|show`: what the on-call
//! engineer sees on the lineage example (text, JSON, Mermaid, dot), snapshotted with insta,
//! the JSON contracts, `--dbt-manifest` without any sluice.yaml, and the errors (exit 2 for
//! what the user got wrong, 4 for files that cannot be read).

mod common;

use std::path::PathBuf;

use common::{repo, sluice, transcript};

fn example() -> String {
    repo()
        .join("examples/lineage/sluice.yaml")
        .display()
        .to_string()
}

fn manifest() -> String {
    repo()
        .join("tests/fixtures/dbt_project/manifest.json")
        .display()
        .to_string()
}

/// Runs sluice in `dir` (the repository by default) and returns its normalised transcript.
fn run_in(dir: &std::path::Path, args: &[&str]) -> String {
    let out = sluice().args(args).current_dir(dir).output().unwrap();
    transcript(&out, &repo())
}

fn run(args: &[&str]) -> String {
    run_in(&repo(), args)
}

fn stdout_json(transcript: &str) -> serde_json::Value {
    serde_json::from_str(transcript.split("--- stdout\n").nth(1).unwrap()).unwrap()
}

/// A folder with no sluice.yaml in it, so nothing is discovered.
fn empty_dir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

#[test]
fn impact_text_on_the_example() {
    insta::assert_snapshot!(run(&["impact", "landing_orders", "-c", &example()]));
}

#[test]
fn impact_upstream_with_depth() {
    insta::assert_snapshot!(run(&[
        "impact",
        "cfo_forecast_deck",
        "--upstream",
        "--depth",
        "2",
        "-c",
        &example()
    ]));
}

#[test]
fn impact_json_is_the_documented_contract() {
    // With --paths: every field of the contract (`path` is only given when asked for).
    let out = run(&[
        "impact",
        "shop.orders",
        "-c",
        &example(),
        "--format",
        "json",
        "--paths",
    ]);
    insta::assert_snapshot!(out);
    let j = stdout_json(&out);
    assert_eq!(j["root"], "shop.orders");
    assert_eq!(j["direction"], "downstream");
    let impacted = j["impacted"].as_array().unwrap();
    for hit in impacted {
        for key in ["name", "kind", "depth", "path", "owner", "tier"] {
            assert!(hit.get(key).is_some(), "{key} missing in {hit}");
        }
        let path = hit["path"].as_array().unwrap();
        assert_eq!(path[0], "shop.orders");
        assert_eq!(path.last().unwrap(), &hit["name"]);
    }
    // Exposures first.
    let first_non_exposure = impacted
        .iter()
        .position(|h| h["kind"] != "exposure")
        .unwrap();
    assert!(
        impacted[first_non_exposure..]
            .iter()
            .all(|h| h["kind"] != "exposure")
    );
    let notify = j["notify"].as_array().unwrap();
    assert_eq!(notify[0]["owner"], "finance");
    assert_eq!(
        j["summary"]["total"].as_u64().unwrap() as usize,
        impacted.len()
    );
}

#[test]
fn impact_json_names_each_hits_parent_and_gives_paths_only_on_request() {
    let out = run(&["impact", "shop.orders", "-c", &example(), "-f", "json"]);
    insta::assert_snapshot!(out);
    let j = stdout_json(&out);
    let with_paths = stdout_json(&run(&[
        "impact",
        "shop.orders",
        "-c",
        &example(),
        "-f",
        "json",
        "--paths",
    ]));
    let impacted = j["impacted"].as_array().unwrap();
    let by_name: std::collections::HashMap<&str, &serde_json::Value> = impacted
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h))
        .collect();
    for (hit, full) in impacted
        .iter()
        .zip(with_paths["impacted"].as_array().unwrap())
    {
        assert!(hit.get("path").is_none(), "a path without --paths: {hit}");
        // The same hits in the same order; `via` is the node before the hit on its path.
        assert_eq!(hit["name"], full["name"]);
        let path = full["path"].as_array().unwrap();
        assert_eq!(hit["via"], path[path.len() - 2], "{hit}");
        // Following `via` rebuilds that path, back to the root.
        let mut back = vec![hit["name"].as_str().unwrap()];
        let mut at = hit;
        while at["via"] != j["root"] {
            let via = at["via"].as_str().unwrap();
            back.push(via);
            at = by_name[via];
        }
        back.push(j["root"].as_str().unwrap());
        back.reverse();
        assert_eq!(serde_json::json!(back), full["path"]);
    }
}

#[test]
fn impact_mermaid_and_dot() {
    insta::assert_snapshot!(
        "impact_mermaid",
        run(&["impact", "revenue_daily", "-c", &example(), "-f", "mermaid"])
    );
    insta::assert_snapshot!(
        "impact_dot",
        run(&["impact", "revenue_daily", "-c", &example(), "-f", "dot"])
    );
}

#[test]
fn show_the_whole_example_graph() {
    insta::assert_snapshot!("show_text", run(&["lineage", "show", "-c", &example()]));
    insta::assert_snapshot!(
        "show_mermaid",
        run(&["lineage", "show", "-c", &example(), "-f", "mermaid"])
    );
}

#[test]
fn show_a_selected_subgraph() {
    insta::assert_snapshot!(run(&[
        "lineage",
        "show",
        "-c",
        &example(),
        "-s",
        "+revenue_forecast"
    ]));
}

#[test]
fn select_with_a_manifest_and_no_config() {
    let dir = empty_dir();
    let m = manifest();
    insta::assert_snapshot!(
        "select_text",
        run_in(
            dir.path(),
            &[
                "lineage",
                "select",
                "stg_orders+",
                "--exclude",
                "customers+",
                "--dbt-manifest",
                &m
            ]
        )
    );
    let out = run_in(
        dir.path(),
        &[
            "lineage",
            "select",
            "source:shop+1",
            "--resource-type",
            "model",
            "--dbt-manifest",
            &m,
            "-f",
            "json",
        ],
    );
    insta::assert_snapshot!("select_json", out);
    let j = stdout_json(&out);
    for n in j.as_array().unwrap() {
        assert_eq!(
            n.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["name", "unique_id", "kind"]
        );
        assert_eq!(n["kind"], "model");
    }
}

#[test]
fn impact_output_file_is_written_whole() {
    let dir = empty_dir();
    let file = dir.path().join("impact.json");
    let out = run(&[
        "impact",
        "orders",
        "-c",
        &example(),
        "-f",
        "json",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert!(out.starts_with("exit: 0\n"), "{out}");
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(j["root"], "orders");
}

#[test]
fn lineage_errors() {
    let dir = empty_dir();
    let m = manifest();
    let bad_events = PathBuf::from(dir.path()).join("events.ndjson");
    std::fs::write(&bad_events, "{\"eventType\": \"COMPLETE\"}\n").unwrap();
    let cases: Vec<(&str, Vec<&str>)> = vec![
        (
            "unknown node",
            vec!["impact", "stg_ordrs", "--dbt-manifest", &m],
        ),
        ("no lineage source", vec!["impact", "orders"]),
        (
            "missing manifest",
            vec![
                "impact",
                "orders",
                "--dbt-manifest",
                "nowhere/manifest.json",
            ],
        ),
        (
            "bad events",
            vec![
                "impact",
                "orders",
                "--openlineage",
                bad_events.to_str().unwrap(),
            ],
        ),
        (
            "unsupported selector method",
            vec!["lineage", "select", "state:modified", "--dbt-manifest", &m],
        ),
        (
            "bad selector",
            vec!["lineage", "select", "1+@orders", "--dbt-manifest", &m],
        ),
        (
            "bad depth",
            vec!["impact", "orders", "--depth", "-1", "--dbt-manifest", &m],
        ),
    ];
    let mut all = String::new();
    for (what, args) in cases {
        let t = run_in(dir.path(), &args).replace(&dir.path().display().to_string(), "[TMP]");
        all.push_str(&format!(
            "### {what}: sluice {}\n{t}\n",
            args.join(" ")
                .replace(&m, "[MANIFEST]")
                .replace(&dir.path().display().to_string(), "[TMP]")
        ));
    }
    insta::assert_snapshot!(all);
}

#[test]
fn a_cycle_and_bad_sql_in_the_config() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  a: { path: a.csv }\n  b: { path: b.csv }\nstages:\n  \
         s1: { inputs: [a], outputs: [b] }\n  s2: { sql: INSERT INTO a SELECT * FROM b }\n",
    )
    .unwrap();
    for cmd in [&["impact", "a"][..], &["validate"]] {
        let t = run_in(dir.path(), cmd);
        assert!(t.starts_with("exit: 2\n"), "{t}");
        assert!(t.contains("a -> s1 -> b -> s2 -> a"), "{t}");
    }
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  a: { path: a.csv }\nstages:\n  s:\n    sql: |\n      INSERT INTO b\n      SELECT * FROM a WHERE\n",
    )
    .unwrap();
    // `lineage` and `impact` answer for the rest of the graph, saying what is missing.
    let t = run_in(dir.path(), &["lineage", "show"]);
    assert!(t.starts_with("exit: 0\n"), "{t}");
    assert!(
        t.contains("warning: stage `s` is left out of this answer, so its edges are missing"),
        "{t}"
    );
    let t = run_in(dir.path(), &["impact", "a", "-f", "json"]);
    assert!(t.starts_with("exit: 0\n"), "{t}");
    let json: serde_json::Value =
        serde_json::from_str(t.split("--- stdout\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["partial"], true, "{json}");
    assert_eq!(json["missing"][0]["source"], "stage `s`");
    assert!(
        json["missing"][0]["at"]
            .as_str()
            .unwrap()
            .starts_with("sluice.yaml:8:")
    );
    // `validate` checks the lineage too.
    let t = run_in(dir.path(), &["validate"]);
    assert!(t.starts_with("exit: 2\n"), "{t}");
    assert!(
        t.contains("sluice.yaml:8:28: stage `s`: its SQL does not parse"),
        "{t}"
    );
}

#[test]
fn stage_sql_is_read_in_its_dialect_and_a_self_read_is_kept_without_a_cycle() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  events: { path: e.csv }\n  dim: { path: d.csv }\nlineage:\n  dialect: hive\nstages:\n  \
         refresh:\n    sql: |\n      INSERT OVERWRITE TABLE events PARTITION (ds = '2026-11-30')\n      SELECT * FROM events JOIN dim ON events.k = dim.k\n  \
         load:\n    dialect: snowflake\n    sql: COPY INTO dim FROM @landing/dim/\n",
    )
    .unwrap();
    let t = run_in(dir.path(), &["validate"]);
    assert!(t.starts_with("exit: 0\n"), "{t}");
    let t = run_in(dir.path(), &["lineage", "show", "-f", "json"]);
    assert!(t.starts_with("exit: 0\n"), "{t}");
    let json: serde_json::Value =
        serde_json::from_str(t.split("--- stdout\n").nth(1).unwrap()).unwrap();
    let stage = json["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "refresh")
        .unwrap();
    assert_eq!(stage["self_reads"], serde_json::json!(["events"]), "{json}");
    let edges: Vec<(String, String)> = json["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["from"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        edges.contains(&("dataset:dim".into(), "stage:refresh".into())),
        "{edges:?}"
    );
    assert!(
        edges.contains(&("stage:refresh".into(), "dataset:events".into())),
        "{edges:?}"
    );
    assert!(
        !edges.contains(&("dataset:events".into(), "stage:refresh".into())),
        "no cycle: {edges:?}"
    );
    assert!(
        edges.contains(&("stage:load".into(), "dataset:dim".into())),
        "{edges:?}"
    );
    // Impact of `dim`: the refresh and what it writes.
    let t = run_in(dir.path(), &["impact", "dim"]);
    assert!(t.contains("events"), "{t}");
}

#[test]
fn sql_that_does_not_parse_names_the_dialect_and_suggests_one_that_parses() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  orders: { path: o.csv }\nstages:\n  load:\n    dialect: postgres\n    sql: COPY INTO orders FROM @raw_stage/orders/\n",
    )
    .unwrap();
    let t = run_in(dir.path(), &["validate"]);
    assert!(t.starts_with("exit: 2\n"), "{t}");
    assert!(t.contains("its SQL does not parse as postgres SQL"), "{t}");
    assert!(
        t.contains("it parses as") && t.contains("add `dialect:"),
        "{t}"
    );
    // An unknown dialect is a config error with a suggestion.
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  orders: { path: o.csv }\nlineage:\n  dialect: snowflak\n",
    )
    .unwrap();
    let t = run_in(dir.path(), &["validate"]);
    assert!(t.starts_with("exit: 2\n"), "{t}");
    assert!(
        t.contains("unknown SQL dialect `snowflak`") && t.contains("snowflake"),
        "{t}"
    );
    assert!(t.contains("sluice.yaml:5:12"), "{t}");
}

#[test]
fn an_unreadable_manifest_is_an_error_unless_allow_partial() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  a: { path: a.csv }\n  b: { path: b.csv }\nstages:\n  s: { inputs: [a], outputs: [b] }\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("manifest.json"), "{ not json").unwrap();
    let t = run_in(
        dir.path(),
        &["impact", "a", "--dbt-manifest", "manifest.json"],
    );
    assert!(
        t.starts_with("exit: 2\n") || t.starts_with("exit: 4\n"),
        "{t}"
    );
    assert!(t.contains("manifest.json"), "{t}");
    let t = run_in(
        dir.path(),
        &[
            "impact",
            "a",
            "--dbt-manifest",
            "manifest.json",
            "--allow-partial",
            "-f",
            "json",
        ],
    );
    assert!(t.starts_with("exit: 0\n"), "{t}");
    assert!(
        t.contains("warning: dbt manifest manifest.json is left out"),
        "{t}"
    );
    let json: serde_json::Value =
        serde_json::from_str(t.split("--- stdout\n").nth(1).unwrap()).unwrap();
    assert_eq!(json["partial"], true);
    assert_eq!(json["summary"]["total"], 2, "{json}");
    // A complete answer says nothing of the kind.
    let t = run_in(dir.path(), &["impact", "a", "-f", "json"]);
    assert!(!t.contains("partial"), "{t}");
}

#[test]
fn column_impact_from_stage_sql_lists_columns_tables_exposures_and_how() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  orders: { path: o.csv }\n  daily: { path: d.csv }\nexposures:\n  revenue_board:\n    type: dashboard\n    owner: finance\n    depends_on: [daily]\nstages:\n  \
         roll_up:\n    sql: |\n      INSERT INTO daily\n      SELECT day, sum(amount * fx) AS revenue, count(*) AS n\n      FROM orders WHERE status = 'paid' GROUP BY day\n",
    )
    .unwrap();
    let t = run_in(dir.path(), &["impact", "orders.amount"]);
    assert!(t.starts_with("exit: 0\n"), "{t}");
    assert!(
        t.contains("daily.revenue  aggregation  (depth 1, via orders.amount)"),
        "{t}"
    );
    assert!(t.contains("Exposures reading them: revenue_board"), "{t}");
    assert!(!t.contains("daily.day"), "amount does not feed day: {t}");
    // A filter column feeds every column written.
    let t = run_in(
        dir.path(),
        &["impact", "orders", "--column", "status", "-f", "json"],
    );
    let json: serde_json::Value =
        serde_json::from_str(t.split("--- stdout\n").nth(1).unwrap()).unwrap();
    let hits: Vec<(String, String)> = json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                format!(
                    "{}.{}",
                    c["table"].as_str().unwrap(),
                    c["column"].as_str().unwrap()
                ),
                c["how"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        hits,
        [
            ("daily.day".to_string(), "filter".to_string()),
            ("daily.n".to_string(), "filter".to_string()),
            ("daily.revenue".to_string(), "filter".to_string()),
        ]
    );
    assert_eq!(json["exposures"][0]["owner"], "finance");
    // Upstream: where a column comes from.
    let t = run_in(dir.path(), &["impact", "daily.day", "--upstream"]);
    assert!(t.contains("orders.day  identity"), "{t}");
}

#[test]
fn column_impact_on_the_jaffle_shop_manifest_has_known_answers() {
    let manifest = repo().join("../shared/fixtures/dbt/jaffle_manifest.json");
    let dir = empty_dir();
    let m = manifest.to_str().unwrap();
    let t = run_in(
        dir.path(),
        &[
            "impact",
            "stg_payments.amount",
            "--dbt-manifest",
            m,
            "-f",
            "json",
        ],
    );
    assert!(t.starts_with("exit: 0\n"), "{t}");
    let json: serde_json::Value =
        serde_json::from_str(t.split("--- stdout\n").nth(1).unwrap()).unwrap();
    let hits: Vec<String> = json["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "{}.{} {}",
                c["table"].as_str().unwrap(),
                c["column"].as_str().unwrap(),
                c["how"].as_str().unwrap()
            )
        })
        .collect();
    // customers.sql: sum(amount) as total_amount → customer_lifetime_value;
    // orders.sql: sum(amount) overall and per payment method.
    for want in [
        "customers.customer_lifetime_value aggregation",
        "orders.amount aggregation",
        "orders.credit_card_amount aggregation",
        "orders.gift_card_amount aggregation",
    ] {
        assert!(hits.contains(&want.to_string()), "{want} in {hits:?}");
    }
    assert!(
        !hits.iter().any(|h| h.starts_with("customers.first_name")),
        "{hits:?}"
    );
    let t = run_in(
        dir.path(),
        &[
            "impact",
            "customers.first_name",
            "--upstream",
            "--dbt-manifest",
            m,
        ],
    );
    assert!(t.contains("stg_customers.first_name  identity"), "{t}");
    assert!(t.contains("raw_customers.first_name  identity"), "{t}");
}

#[test]
fn lineage_show_columns_in_text_json_and_mermaid() {
    let dir = empty_dir();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  orders: { path: o.csv }\n  daily: { path: d.csv }\nstages:\n  \
         roll_up:\n    sql: INSERT INTO daily SELECT day, sum(amount) AS revenue FROM orders GROUP BY day\n",
    )
    .unwrap();
    let t = run_in(dir.path(), &["lineage", "show", "--columns"]);
    assert!(
        t.contains("orders.amount -> daily.revenue  aggregation"),
        "{t}"
    );
    assert!(t.contains("orders.day -> daily.day  identity"), "{t}");
    let t = run_in(dir.path(), &["lineage", "show", "--columns", "-f", "json"]);
    let json: serde_json::Value =
        serde_json::from_str(t.split("--- stdout\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        json["columns"][0],
        serde_json::json!({"from": {"table": "orders", "column": "amount"}, "to": {"table": "daily", "column": "revenue"}, "how": "aggregation"})
    );
    let t = run_in(
        dir.path(),
        &["lineage", "show", "--columns", "-f", "mermaid"],
    );
    assert!(
        t.contains("orders__amount -->|aggregation| daily__revenue"),
        "{t}"
    );
}

#[test]
fn a_dbt_catalog_beside_the_manifest_makes_columns_exact() {
    let dir = empty_dir();
    std::fs::copy(
        repo().join("../shared/fixtures/dbt/jaffle_manifest.json"),
        dir.path().join("manifest.json"),
    )
    .unwrap();
    let upstream = |d: &std::path::Path| {
        run_in(
            d,
            &[
                "impact",
                "customers.customer_lifetime_value",
                "--upstream",
                "--dbt-manifest",
                "manifest.json",
            ],
        )
    };
    // Without a catalog, `amount` (unqualified over two `select *` CTEs) may come from either.
    let t = upstream(dir.path());
    assert!(t.contains("stg_payments.amount  aggregation"), "{t}");
    assert!(t.contains("stg_orders.amount"), "{t}");
    let table = |name: &str, cols: &[&str]| {
        let columns: serde_json::Map<String, serde_json::Value> = cols
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.to_string(),
                    serde_json::json!({"type": "VARCHAR", "index": i + 1, "name": c}),
                )
            })
            .collect();
        serde_json::json!({"metadata": {"database": "jaffle_shop", "schema": "main", "name": name, "type": "VIEW"}, "columns": columns, "unique_id": format!("model.jaffle_shop.{name}")})
    };
    let catalog = serde_json::json!({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"},
        "nodes": {
            "model.jaffle_shop.stg_orders": table("stg_orders", &["order_id", "customer_id", "order_date", "status"]),
            "model.jaffle_shop.stg_payments": table("stg_payments", &["payment_id", "order_id", "payment_method", "amount"]),
            "model.jaffle_shop.stg_customers": table("stg_customers", &["customer_id", "first_name", "last_name"]),
        },
        "sources": {}
    });
    std::fs::write(dir.path().join("catalog.json"), catalog.to_string()).unwrap();
    let t = upstream(dir.path());
    assert!(t.contains("stg_payments.amount  aggregation"), "{t}");
    assert!(
        !t.contains("stg_orders.amount"),
        "the catalog says stg_orders has no amount: {t}"
    );
}

#[test]
fn column_questions_read_the_datasets_files_for_their_columns() {
    let dir = empty_dir();
    std::fs::write(dir.path().join("orders.csv"), "id,amount\n1,10\n").unwrap();
    std::fs::write(dir.path().join("fx.csv"), "id,rate\n1,1.1\n").unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  orders: { path: orders.csv }\n  fx: { path: fx.csv }\n  usd: { path: usd.csv }\nstages:\n  \
         convert:\n    sql: INSERT INTO usd SELECT amount * rate AS usd_amount FROM orders JOIN fx USING (id)\n",
    )
    .unwrap();
    // The files say `amount` is orders' and `rate` fx's: no guessing between the two.
    let t = run_in(dir.path(), &["impact", "usd.usd_amount", "--upstream"]);
    assert!(t.starts_with("exit: 0\n"), "{t}");
    assert!(t.contains("orders.amount  transformation"), "{t}");
    assert!(t.contains("fx.rate  transformation"), "{t}");
    assert!(!t.contains("fx.amount"), "{t}");
    assert!(!t.contains("orders.rate"), "{t}");
}
