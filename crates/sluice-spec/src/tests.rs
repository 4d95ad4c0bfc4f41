//! Decoding tests: valid configs produce the expected model, invalid ones every diagnostic.

use super::*;

fn vars() -> Vars {
    Vars::isolated([("DS".to_string(), "2025-01-01".to_string())].into())
}

fn ok(text: &str) -> Config {
    match load_str(Path::new("/cfg/sluice.yaml"), text.to_string(), &vars()) {
        Ok(c) => c,
        Err(SpecError::Invalid(i)) => panic!("unexpected errors:\n{}", i.render(false)),
        Err(e) => panic!("{e}"),
    }
}

fn errors(text: &str) -> Vec<Diagnostic> {
    match load_str(Path::new("/cfg/sluice.yaml"), text.to_string(), &vars()) {
        Ok(_) => panic!("expected errors"),
        Err(SpecError::Invalid(i)) => i.diagnostics,
        Err(e) => panic!("{e}"),
    }
}

fn checks(text: &str) -> Vec<Check> {
    ok(text).datasets.remove(0).checks
}

#[test]
fn decodes_the_design_example() {
    let c = ok(r#"
version: 1
defaults:
  severity: error
  samples: 3
datasets:
  orders_raw:
    path: data/raw/orders/
    format: parquet
    key: [order_id]
    owner: ingest-team
    tier: 1
    checks:
      - row_count: { min: 1 }
      - not_null: order_id
      - unique: order_id
  orders_clean:
    path: data/clean/${DS}/orders.csv
    checks:
      - row_count: { between: [1000, 10000000] }
      - not_null: [order_id, customer_id]
      - accepted_values: { column: status, values: [placed, shipped, returned] }
      - range: { column: amount, min: 0 }
      - matches: { column: email, regex: '^[^@\s]+@[^@\s]+$', max_invalid_pct: 0.5 }
      - freshness: { column: created_at, max_age: 6h }
      - schema: { columns: { order_id: int64, amount: float64 }, allow_extra: true }
      - rows_satisfy: { name: positive_qty, condition: "quantity > 0", severity: warn }
      - metric: { name: avg_amount, sql: "avg(amount)", between: [20, 80] }
      - references: { column: customer_id, dataset: orders_raw }
"#);
    assert_eq!(c.defaults.samples, 3);
    let raw = c.dataset("orders_raw").unwrap();
    assert_eq!(raw.location, Path::new("/cfg/data/raw/orders"));
    assert_eq!(raw.format, Some(Format::Parquet));
    assert_eq!(raw.tier, Some(1));
    let clean = c.dataset("orders_clean").unwrap();
    assert_eq!(
        ok("datasets:\n  d:\n    path: ../x/./y.csv\n").datasets[0].location,
        Path::new("/x/y.csv")
    );
    assert_eq!(
        clean.location,
        Path::new("/cfg/data/clean/2025-01-01/orders.csv")
    );
    let names: Vec<&str> = clean.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "row_count",
            "not_null(order_id)",
            "not_null(customer_id)",
            "accepted_values(status)",
            "range(amount)",
            "matches(email)",
            "freshness(created_at)",
            "schema",
            "positive_qty",
            "avg_amount",
            "references(customer_id)",
        ]
    );
    assert_eq!(clean.checks[2].samples, 3);
    let positive = &clean.checks[8];
    assert_eq!(positive.severity, Severity::Warn);
    assert_eq!(positive.fail, None);
    assert_eq!(
        positive.warn,
        Some(Threshold::Invalid {
            max_count: Some(0),
            max_pct: None
        })
    );
    assert_eq!(
        clean.checks[5].fail,
        Some(Threshold::Invalid {
            max_count: None,
            max_pct: Some(0.5)
        })
    );
    match &clean.checks[10].kind {
        CheckKind::References { key, .. } => assert_eq!(key, "order_id", "target's key"),
        k => panic!("{k:?}"),
    }
}

#[test]
fn warn_and_fail_zones() {
    let c = checks(
        "datasets:\n  d:\n    path: x.csv\n    checks:\n      - row_count: { warn: { min: 1000 }, fail: { min: 1 } }\n      - not_null: { column: a, warn: { max_invalid_pct: 1 }, max_invalid_pct: 5 }\n",
    );
    assert_eq!(
        c[0].fail,
        Some(Threshold::Bounds {
            min: Some(1.0),
            max: None,
            equals: None
        })
    );
    assert_eq!(
        c[0].warn,
        Some(Threshold::Bounds {
            min: Some(1000.0),
            max: None,
            equals: None
        })
    );
    assert_eq!(
        c[1].fail,
        Some(Threshold::Invalid {
            max_count: None,
            max_pct: Some(5.0)
        })
    );
    assert_eq!(
        c[1].warn,
        Some(Threshold::Invalid {
            max_count: None,
            max_pct: Some(1.0)
        })
    );
}

#[test]
fn shorthands_and_defaults() {
    let c = checks(
        "datasets:\n  d:\n    path: x.csv\n    checks:\n      - row_count\n      - unique: [a, b]\n      - rows_satisfy: \"a > 0\"\n      - range: { column: a, min: 0, max: 10, inclusive: false }\n      - length: { column: s, max: 8 }\n      - format: { column: e, format: email }\n      - forbidden_values: { column: s, values: [x, 1, true] }\n",
    );
    assert_eq!(
        c[0].fail,
        Some(Threshold::Bounds {
            min: Some(1.0),
            max: None,
            equals: None
        })
    );
    assert_eq!(c[1].name, "unique(a, b)");
    assert_eq!(
        c[1].kind,
        CheckKind::Unique {
            columns: vec!["a".into(), "b".into()],
            nulls_equal: false
        }
    );
    assert_eq!(c[2].name, "rows_satisfy(a > 0)");
    assert_eq!(
        c[3].kind,
        CheckKind::Range {
            column: "a".into(),
            min: Some(Literal::Int(0)),
            max: Some(Literal::Int(10)),
            inclusive: false
        }
    );
    assert_eq!(
        c[4].kind,
        CheckKind::Length {
            column: "s".into(),
            min: None,
            max: Some(8)
        }
    );
    assert_eq!(
        c[5].kind,
        CheckKind::Format {
            column: "e".into(),
            format: TextFormat::Email
        }
    );
    assert_eq!(
        c[6].kind,
        CheckKind::ForbiddenValues {
            column: "s".into(),
            values: vec![
                Literal::Str("x".into()),
                Literal::Int(1),
                Literal::Bool(true)
            ]
        }
    );
}

#[test]
fn every_error_in_a_file_is_reported() {
    let d = errors(
        r#"datasets:
  orders:
    pth: data/orders.csv
    checks:
      - not_nul: order_id
      - row_count: { thresold: 5 }
      - references: { column: c, dataset: custmers }
  customers:
    path: c.csv
    format: parket
"#,
    );
    let msgs: Vec<String> = d
        .iter()
        .map(|d| {
            format!(
                "{}:{} {} | {}",
                d.span.unwrap().start.line,
                d.span.unwrap().start.col,
                d.message,
                d.help.clone().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        msgs,
        [
            "3:5 unknown key `pth` in dataset `orders` | did you mean `path`?",
            "5:9 unknown check kind `not_nul` | did you mean `not_null`?",
            "6:22 unknown key `thresold` in a `row_count` check | a `row_count` check takes: `name`, `severity`, `where`, `samples`, `warn`, `fail`, `after`, `min`, `max`, `between`, `equals`",
            "7:9 `references(c)` refers to dataset `custmers`, which is not defined | did you mean `customers`?",
            "10:13 unknown format `parket` | did you mean `parquet`?",
        ]
    );
}

#[test]
fn duplicate_names_point_at_both() {
    let d = errors(
        "datasets:\n  d:\n    path: x.csv\n    checks:\n      - not_null: a\n      - not_null: [b, a]\n",
    );
    assert_eq!(d.len(), 1);
    assert_eq!(
        d[0].message,
        "duplicate check name `not_null(a)` in dataset `d`"
    );
    assert_eq!(d[0].span.unwrap().start.line, 6);
    assert_eq!(d[0].related[0].span.start.line, 5);
}

#[test]
fn wrong_types_and_bad_values() {
    let d = errors(
        r#"datasets:
  d:
    path: [x.csv]
    tier: high
    checks:
      - row_count: { min: lots }
      - matches: { column: e, regex: '([a-z' }
      - rows_satisfy: { condition: "amount > " }
      - metric: { sql: "avg(x)" }
      - freshness: { column: t, max_age: 6 parsecs }
      - not_null: { column: a, max_invalid_pct: 150 }
      - row_count: { min: 10, max: 5, name: rc2 }
      - not_null: a
        severity: warn
"#,
    );
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "`path` must be a string, found a list",
            "`tier` must be a whole number, found a string",
            "`min` must be a number, found a string",
            "invalid regex: error: unclosed character class",
            "`condition` is not valid SQL: Expected: an expression, found: EOF",
            "a `metric` check needs a threshold",
            "`6 parsecs` is not a duration; write e.g. `45s`, `30m`, `6h`, `1d`, `1d 12h` or `2w`",
            "`max_invalid_pct` is a percentage from 0 to 100",
            "the upper bound 5 is below the lower bound 10",
            "a check has one kind, found several keys: `not_null`, `severity`",
        ]
    );
}

#[test]
fn zone_conflicts() {
    let d = errors(
        "datasets:\n  d:\n    path: x.csv\n    checks:\n      - row_count: { min: 1, fail: { min: 2 } }\n      - row_count: { name: b, severity: warn, fail: { min: 2 } }\n      - schema: { columns: [a], warn: { max_invalid: 1 } }\n",
    );
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "thresholds given both at the top of the check and under `fail:`",
            "a check with `severity: warn` cannot have a `fail:` zone",
            "a `schema` check takes no thresholds",
        ]
    );
}

#[test]
fn missing_datasets_and_empty_file() {
    let d = errors("version: 1\n");
    assert_eq!(d[0].message, "the config file is missing `datasets`");
    let d = errors("");
    assert_eq!(d[0].message, "the config file is empty");
    let d = errors("version: 2\ndatasets: {}\n");
    assert_eq!(d[0].message, "unsupported config version 2");
    assert_eq!(d[1].message, "`datasets` is empty");
}

#[test]
fn undefined_variable_is_an_error() {
    let d = errors("datasets:\n  d:\n    path: data/${DAY}/x.csv\n");
    assert_eq!(d[0].message, "variable `DAY` is not defined");
    let sp = d[0].span.unwrap();
    assert_eq!((sp.start.line, sp.start.col, sp.end.col), (3, 16, 22));
}

#[test]
fn object_store_urls_are_read_as_written_and_unknown_schemes_refused_clearly() {
    let c = ok("datasets:\n  d:\n    path: s3://bucket/x/\n    staging: s3://bucket/staging/x/\n");
    let d = &c.datasets[0];
    assert_eq!(d.url(), Some("s3://bucket/x/"));
    assert_eq!(d.location, Path::new("s3://bucket/x/"));
    assert_eq!(d.staging_url(), Some("s3://bucket/staging/x/"));
    let d = errors("datasets:\n  d:\n    path: ftp://host/x.parquet\n");
    assert_eq!(
        d[0].message,
        "`ftp://` is not a storage sluice can read (`path`)"
    );
    assert!(
        d[0].help.as_deref().unwrap().contains("`s3://`"),
        "{:?}",
        d[0].help
    );
    let d = errors("datasets:\n  d:\n    path: s4://host/x.parquet\n");
    assert!(
        d[0].help.as_deref().unwrap().contains("s3"),
        "{:?}",
        d[0].help
    );
    let d = errors("datasets:\n  d:\n    path: s3:///x.parquet\n");
    assert_eq!(d[0].message, "`s3:///x.parquet` names no bucket (`path`)");
    // Credentials in a URL would be printed with the path: refused, without echoing them.
    for url in [
        "https://user:hunter2@host/x.csv",
        "https://acct.blob.core.windows.net/c/x.parquet?sv=2024&sig=hunter2",
        "https://b.s3.amazonaws.com/x.parquet?X-Amz-Signature=hunter2",
    ] {
        let d = errors(&format!("datasets:\n  d:\n    path: {url}\n"));
        assert_eq!(
            d[0].message, "the URL in `path` carries a credential",
            "{url}"
        );
        assert!(!d[0].message.contains("hunter2"));
    }
    // Azure's `container@account` is not a credential.
    ok("datasets:\n  d:\n    path: abfss://c@acct.dfs.core.windows.net/x/\n");
}

#[test]
fn storage_blocks_decode_per_prefix_and_per_dataset() {
    let c = ok(r#"
storage:
  s3://lake/:
    endpoint: http://127.0.0.1:9000/
    region: eu-west-1
    path_style: true
    timeout: 30s
datasets:
  d:
    path: s3://lake/orders/
    storage: { anonymous: true, profile: ci }
"#);
    let o = c.datasets[0].storage.for_url(&c.datasets[0].path);
    assert_eq!(o.endpoint.as_deref(), Some("http://127.0.0.1:9000"));
    assert_eq!(o.region.as_deref(), Some("eu-west-1"));
    assert_eq!((o.path_style, o.anonymous), (Some(true), Some(true)));
    assert_eq!(o.timeout, Some(std::time::Duration::from_secs(30)));
    assert_eq!(o.profile.as_deref(), Some("ci"));
    let d = errors(
        "storage:\n  s3://lake/:\n    endpoint: 127.0.0.1:9000\n    regoin: x\ndatasets:\n  d:\n    path: x.csv\n",
    );
    assert!(
        d.iter().any(|d| d
            .message
            .contains("`endpoint` must be an http:// or https:// URL")),
        "{d:?}"
    );
    assert!(
        d.iter()
            .any(|d| d.help.as_deref().is_some_and(|h| h.contains("region"))),
        "{d:?}"
    );
    let d = errors("storage:\n  lake/:\n    region: x\ndatasets:\n  d:\n    path: x.csv\n");
    assert!(!d.is_empty());
    // One bucket, one set of settings: a second dataset reaching it otherwise is refused.
    let d = errors(
        "datasets:\n  a:\n    path: s3://lake/a/\n  b:\n    path: s3a://lake/b/\n    storage: { anonymous: true }\n  c:\n    path: s3://other/c/\n    storage: { anonymous: true }\n",
    );
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(
        d[0].message,
        "`b` reaches s3://lake with other `storage:` settings than `a`"
    );
    assert_eq!(d[0].span.unwrap().start.line, 4);
}

#[test]
fn every_error_says_how_to_fix_it() {
    let d = errors(
        r#"version: 3
defaults: { severity: fatal, samples: -1 }
datasets:
  orders:
    pth: x.csv
    tier: high
    owner: ""
    format: parket
    checks:
      - not_nul: a
      - row_count: { min: lots, mx: 1, between: [5, 1] }
      - not_null: { column: a, max_invalid_pct: 150, max_invalid: -2 }
      - matches: { column: e, regex: '(' }
      - rows_satisfy: "a >"
      - freshness: { column: t, max_age: soon }
      - references: { column: c, dataset: nope }
      - metric: { sql: "avg(a)" }
      - not_null: b
        severity: warn
      - schema: { columns: { a: integr } }
  2bad:
    path: [x]
"#,
    );
    assert!(d.len() >= 15, "{} diagnostics", d.len());
    for diag in &d {
        assert!(diag.help.is_some(), "no help for: {}", diag.message);
        assert!(diag.span.is_some(), "no location for: {}", diag.message);
    }
}

const PIPELINE: &str = r#"
datasets:
  orders_raw:
    path: raw.csv
  orders_clean:
    path: clean.parquet
    parity:
      - against: orders_raw
        row_count: { tolerance_pct: 0.5 }
        sum: { columns: [amount, tax], tolerance: 0.01 }
        count_distinct: customer_id
        group_by: [region]
        keys: [order_id]
        normalize: { trim: true }
        compare: { amount: { tolerance: 0.001 }, status: { ignore_case: true }, created_at: { precision: ms } }
        column_map: { amount: total }
        max_changed: 3
      - { against: orders_raw, name: same_ids, keys: [order_id], where: "amount > 0", against_where: "total > 0" }
  ledger:
    path: ledger.csv
stages:
  clean_orders:
    inputs: [orders_raw]
    outputs: [orders_clean]
    owner: data-eng
    reconcile:
      staged:
        datasets: [orders_raw, orders_clean]
        key: [order_id]
        measures: [amount]
reconcile:
  redemptions:
    datasets: [orders_raw, orders_clean, ledger]
    key: [order_id]
    measures: { amount: { tolerance: 0.01 } }
    columns: { ledger: { order_id: ref, amount: eur } }
    where: { ledger: "booked" }
    max_disagreements: 2
"#;

#[test]
fn decodes_parity_stages_and_reconciliation() {
    let c = ok(PIPELINE);
    let clean = c.dataset("orders_clean").unwrap();
    let p = &clean.parity[0];
    assert_eq!(p.name, "parity(orders_raw)");
    assert_eq!(
        p.row_count,
        Some(Tolerance {
            abs: None,
            pct: Some(0.5)
        })
    );
    let aggs: Vec<(AggFunc, &str, Option<f64>)> = p
        .aggregates
        .iter()
        .map(|a| (a.func, a.column.as_str(), a.tolerance.abs))
        .collect();
    assert_eq!(
        aggs,
        [
            (AggFunc::Sum, "amount", Some(0.01)),
            (AggFunc::Sum, "tax", Some(0.01)),
            (AggFunc::CountDistinct, "customer_id", None)
        ]
    );
    assert_eq!(p.group_by, ["region"]);
    assert_eq!(p.source_column("amount"), "total");
    assert_eq!(p.source_column("status"), "status");
    let Compare::Columns(cols) = &p.compare else {
        panic!()
    };
    assert_eq!(
        cols[0].opts,
        CompareOpts {
            tolerance: Some(0.001),
            trim: true,
            ignore_case: false,
            precision: None
        }
    );
    assert_eq!(
        cols[1].opts,
        CompareOpts {
            tolerance: None,
            trim: true,
            ignore_case: true,
            precision: None
        }
    );
    assert_eq!(cols[2].opts.precision, Some(Precision::Millisecond));
    assert_eq!((p.max_changed, p.max_missing), (3, 0));
    assert_eq!(clean.parity[1].name, "same_ids");
    assert_eq!(clean.parity[1].against_filter.as_deref(), Some("total > 0"));
    assert_eq!(c.stage("clean_orders").unwrap().outputs, ["orders_clean"]);
    let names: Vec<(&str, Option<&str>)> = c
        .reconciles
        .iter()
        .map(|r| (r.name.as_str(), r.stage.as_deref()))
        .collect();
    assert_eq!(
        names,
        [("redemptions", None), ("staged", Some("clean_orders"))]
    );
    let r = &c.reconciles[0];
    assert_eq!(r.column("ledger", "amount"), "eur");
    assert_eq!(r.column("orders_raw", "amount"), "amount");
    assert_eq!(r.filter("ledger"), Some("booked"));
    assert_eq!(r.max_disagreements, 2);
}

#[test]
fn pipeline_mistakes() {
    let d = errors(
        r#"datasets:
  a:
    path: x.csv
    checks:
      - row_count
    parity:
      - against: b
        row_count: { tolerance: -1 }
      - against: a
        keys: [id]
      - against: c
        compare: [x]
      - against: d
        name: row_count
        row_count: true
      - against: d
  c:
    path: ./x.csv
  d:
    path: y.csv
stages:
  s:
    inputs: [a, zz]
    outputs: [a]
reconcile:
  r:
    datasets: [a]
    key: [id]
    columns: { q: { id: x } }
"#,
    );
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "`parity(b)` refers to dataset `b`, which is not defined",
            "`tolerance` of `row_count` is negative",
            "`parity(a)` compares `a` with itself",
            "`compare` needs `keys` to match rows on",
            "`parity(c)` compares two datasets that read the same files (x.csv)",
            "duplicate check name `row_count` in dataset `a`",
            "this parity check compares nothing",
            "stage `s` refers to dataset `zz`, which is not defined",
            "stage `s` lists `a` as both an input and an output",
            "reconciliation `r` needs at least two different datasets",
            "reconciliation `r` has settings for `q`, which is not one of its datasets",
        ]
    );
}

#[test]
fn decodes_exposures_stage_sql_and_lineage_sources() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("manifest.json"), "{}").unwrap();
    std::fs::write(dir.path().join("load.sql"), "INSERT INTO b SELECT * FROM a").unwrap();
    let text = r#"datasets:
  a: { path: a.csv }
  b: { path: b.csv }
stages:
  inline:
    sql: "CREATE TABLE b AS SELECT * FROM a"
  from_file:
    inputs: [a]
    sql_file: load.sql
exposures:
  revenue:
    type: dashboard
    depends_on: [b, model.shop.orders]
    owner: finance
    tier: 1
    tags: [exec]
    url: https://bi.example.com/revenue
lineage:
  dbt: manifest.json
  include_tests: true
  mapping:
    b: [model.shop.orders, "ol:warehouse/public.b"]
"#;
    let path = dir.path().join("sluice.yaml");
    let c = load_str(&path, text.to_string(), &vars()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(
        c.stages[0].sql.as_ref().unwrap().text,
        "CREATE TABLE b AS SELECT * FROM a"
    );
    assert_eq!(c.stages[0].sql.as_ref().unwrap().file, None);
    let from_file = c.stages[1].sql.as_ref().unwrap();
    assert_eq!(from_file.text, "INSERT INTO b SELECT * FROM a");
    assert_eq!(
        from_file.file.as_deref(),
        Some(dir.path().join("load.sql").as_path())
    );
    let e = &c.exposures[0];
    assert_eq!(
        (e.name.as_str(), e.kind.as_str(), e.owner.as_deref(), e.tier),
        ("revenue", "dashboard", Some("finance"), Some(1))
    );
    assert_eq!(e.depends_on, ["b", "model.shop.orders"]);
    assert_eq!(e.tags, ["exec"]);
    assert_eq!(c.lineage.dbt, [dir.path().join("manifest.json")]);
    assert!(c.lineage.openlineage.is_empty());
    assert!(c.lineage.include_tests);
    assert_eq!(c.lineage.mapping[0].dataset, "b");
    assert_eq!(
        c.lineage.mapping[0].ids,
        ["model.shop.orders", "ol:warehouse/public.b"]
    );
}

#[test]
fn lineage_mistakes() {
    let d = errors(
        r#"datasets:
  a: { path: a.csv }
stages:
  both:
    sql: "SELECT 1"
    sql_file: x.sql
  missing_file:
    sql_file: nowhere.sql
  empty: {}
exposures:
  a:
    depends_on: [a]
  dash:
    type: dashbord
    depends_on: [a]
  nothing:
    owner: x
lineage:
  dbt: missing/manifest.json
  open_lineage: events.ndjson
  mapping:
    aa: [model.x.a]
"#,
    );
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "stage `both` has both `sql` and `sql_file`",
            "cannot read `nowhere.sql`: No such file or directory (os error 2)",
            "stage `empty` has no `inputs` or `outputs`",
            "exposure `a` has the name of a dataset",
            "unknown exposure type `dashbord`",
            "exposure `nothing` is missing `depends_on`",
            "`dbt` file not found: missing/manifest.json",
            "unknown key `open_lineage` in `lineage`",
            "`mapping` names dataset `aa`, which is not defined",
        ]
    );
    let helps: Vec<String> = d
        .iter()
        .map(|d| d.help.clone().unwrap_or_default())
        .collect();
    assert!(helps[4].contains("did you mean `dashboard`?"), "{helps:?}");
    assert!(helps[7].contains("openlineage"), "{helps:?}");
    assert!(helps[8].contains("did you mean `a`?"), "{helps:?}");
    assert!(
        helps.iter().all(|h| !h.is_empty()),
        "every mistake says how to fix it: {helps:?}"
    );
}

#[test]
fn decodes_breakers_state_and_publishing() {
    let c = ok(r#"state: sqlite:state/sluice.db
quarantine: q/
defaults:
  breaker: { trip_on: warn, trip_after: 2 }
datasets:
  a:
    path: a.csv
  b:
    path: published/b/
    staging: staging/b/
    keep_versions: 3
    breaker: { reset: manual, trip_after: 1 }
"#);
    assert_eq!(
        c.state,
        Some(StateStore::Sqlite(PathBuf::from("/cfg/state/sluice.db")))
    );
    assert_eq!(c.quarantine, PathBuf::from("/cfg/q"));
    let (a, b) = (&c.datasets[0], &c.datasets[1]);
    assert_eq!(
        a.breaker,
        BreakerPolicy {
            trip_on: Severity::Warn,
            trip_after: 2,
            reset: Reset::Auto,
            close_after: 1
        }
    );
    assert_eq!(
        b.breaker,
        BreakerPolicy {
            trip_on: Severity::Warn,
            trip_after: 1,
            reset: Reset::Manual,
            close_after: 1
        },
        "a dataset's breaker: overrides the defaults key by key"
    );
    assert_eq!((a.staging.as_ref(), a.keep_versions), (None, 5));
    assert_eq!(b.staging.as_deref(), Some(Path::new("/cfg/staging/b")));
    assert_eq!(b.keep_versions, 3);
    let pg = ok("state: postgres://u:pw@db:5432/sluice\ndatasets:\n  a: { path: a.csv }\n");
    assert_eq!(
        pg.state,
        Some(StateStore::Postgres(
            "postgres://u:pw@db:5432/sluice".into()
        ))
    );
    assert_eq!(
        pg.state.unwrap().display(),
        "postgres://u:***@db:5432/sluice"
    );
    let none = ok("datasets:\n  a: { path: a.csv }\n");
    assert_eq!(
        (none.state, none.quarantine),
        (None, PathBuf::from("/cfg/quarantine"))
    );
}

#[test]
fn breaker_mistakes() {
    let d = errors(
        r#"state: mysql://x
datasets:
  a:
    path: a.csv
    keep_versions: 0
    breaker: { reset: manaul, trip_on: fatal, trip_after: 0, close_after: 2, trip: 1 }
  b:
    path: b.csv
    breaker: { reset: manual, close_after: 2 }
"#,
    );
    let msgs: Vec<&str> = d.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(
        msgs,
        [
            "unknown state store",
            "`keep_versions` must be between 1 and 1000",
            "unknown reset `manaul`",
            "unknown `trip_on` `fatal`",
            "`trip_after` must be between 1 and 1000",
            "unknown key `trip` in `breaker`",
            "`close_after` with `reset: manual`",
        ]
    );
    let helps: Vec<String> = d
        .iter()
        .map(|d| d.help.clone().unwrap_or_default())
        .collect();
    assert!(helps[0].contains("sqlite:PATH"), "{helps:?}");
    assert!(helps[2].contains("did you mean `manual`?"), "{helps:?}");
    assert!(
        helps.iter().all(|h| !h.is_empty()),
        "every mistake says how to fix it: {helps:?}"
    );
}

/// `n` datasets `ds_0` .. and a stage reading each of `refs`.
fn many_datasets(n: usize, refs: &[String]) -> String {
    let mut text = String::from("datasets:\n");
    for i in 0..n {
        text.push_str(&format!("  ds_{i}: {{ path: d{i}.csv }}\n"));
    }
    text.push_str("stages:\n");
    for (i, r) in refs.iter().enumerate() {
        text.push_str(&format!("  st_{i}: {{ inputs: [{r}] }}\n"));
    }
    text
}

#[test]
fn undefined_datasets_list_at_most_twenty_names() {
    let d = errors(&many_datasets(25, &["zzzzzz".to_string()]));
    assert_eq!(
        d[0].help.as_deref(),
        Some(
            "defined datasets: `ds_0`, `ds_1`, `ds_2`, `ds_3`, `ds_4`, `ds_5`, `ds_6`, `ds_7`, `ds_8`, `ds_9`, `ds_10`, `ds_11`, `ds_12`, `ds_13`, `ds_14`, `ds_15`, `ds_16`, `ds_17`, `ds_18`, `ds_19` and 5 more"
        )
    );
    let d = errors(&many_datasets(3, &["zzzzzz".to_string()]));
    assert_eq!(
        d[0].help.as_deref(),
        Some("defined datasets: `ds_0`, `ds_1`, `ds_2`")
    );
}

#[test]
fn a_parity_named_like_a_check_or_an_earlier_parity_is_a_duplicate() {
    let d = errors(
        "datasets:\n  a:\n    path: a.csv\n    checks:\n      - not_null: { column: x, name: same }\n    parity:\n      - { against: b, name: same, row_count: true }\n      - { against: b, row_count: true }\n      - { against: b, row_count: true }\n  b:\n    path: b.csv\n",
    );
    let found: Vec<(&str, u32, u32)> = d
        .iter()
        .map(|d| {
            (
                d.message.as_str(),
                d.span.unwrap().start.line,
                d.related[0].span.start.line,
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("duplicate check name `same` in dataset `a`", 7, 5),
            ("duplicate check name `parity(b)` in dataset `a`", 9, 8),
        ]
    );
}

/// `(line:col message | help)` of each diagnostic.
fn located(d: &[Diagnostic]) -> Vec<String> {
    d.iter()
        .map(|d| {
            format!(
                "{}:{} {} | {}",
                d.span.unwrap().start.line,
                d.span.unwrap().start.col,
                d.message,
                d.help.clone().unwrap_or_default()
            )
        })
        .collect()
}

#[test]
fn after_names_checks_of_the_dataset() {
    let cs = checks(
        r#"datasets:
  f:
    path: f.csv
    checks:
      - schema: { columns: { region: string } }
      - unique: { columns: [region, ds], name: one_row_each }
      - not_null: { columns: [region, p50], after: schema }
      - range: { column: p50, min: 0, after: [schema, one_row_each, "not_null(p50)", schema] }
"#,
    );
    let after: Vec<Vec<&str>> = cs
        .iter()
        .map(|c| c.after.iter().map(|p| p.name.as_str()).collect())
        .collect();
    assert_eq!(
        after,
        [
            vec![],
            vec![],
            vec!["schema"],
            vec!["schema"],
            // A name given twice counts once.
            vec!["schema", "one_row_each", "not_null(p50)"],
        ]
    );
    // Each entry keeps where it is written.
    let p = &cs[4].after[1];
    assert_eq!((p.span.start.line, p.span.start.col), (8, 55));
}

#[test]
fn after_an_unknown_check_is_located_with_a_did_you_mean() {
    let d = errors(
        r#"datasets:
  f:
    path: f.csv
    checks:
      - schema: { columns: { region: string } }
      - not_null: { column: region, after: [schem] }
      - not_null: { column: p50, after: [row_count] }
      - unique: { columns: [region, ds], after: [unique(region, ds)] }
  g:
    path: g.csv
    checks:
      - row_count: { min: 1 }
"#,
    );
    assert_eq!(
        located(&d),
        [
            "6:45 `after` names `schem`, which is not a check of dataset `f` | did you mean `schema`?",
            // `row_count` is a check of `g`, not of `f`: names are per dataset.
            "7:42 `after` names `row_count`, which is not a check of dataset `f` | checks of this dataset: `schema`, `not_null(region)`, `not_null(p50)`, `unique(region, ds)`",
            // An unquoted comma splits the flow list.
            "8:50 `after` names `unique(region`, which is not a check of dataset `f` | a name with a comma must be quoted in a list: `after: [\"unique(a, b)\"]`",
            "8:65 `after` names `ds)`, which is not a check of dataset `f` | checks of this dataset: `schema`, `not_null(region)`, `not_null(p50)`, `unique(region, ds)`",
        ]
    );
}

#[test]
fn after_itself_or_in_a_cycle_is_an_error_naming_the_cycle() {
    let d = errors(
        r#"datasets:
  f:
    path: f.csv
    checks:
      - schema: { columns: { region: string }, after: [schema] }
      - row_count: { min: 1, after: [c] }
      - metric: { name: a, sql: "sum(x)", min: 0, after: [b] }
      - metric: { name: b, sql: "sum(y)", min: 0, after: [c] }
      - metric: { name: c, sql: "sum(z)", min: 0, after: [a] }
"#,
    );
    assert_eq!(
        located(&d),
        [
            "5:56 check `schema` names itself in `after` | `after` lists other checks of the dataset that must pass first; remove this entry",
            "8:59 `after` forms a cycle: c -> a -> b -> c | each check in it waits for the next, so none could run; remove one of these `after` entries",
        ]
    );
    // A check expanded from a list cannot wait for its own expansion.
    let d = errors(
        "datasets:\n  f:\n    path: f.csv\n    checks:\n      - not_null: { columns: [a, b], after: [\"not_null(a)\"] }\n",
    );
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].message, "check `not_null(a)` names itself in `after`");
    // Two checks waiting for each other.
    let d = errors(
        "datasets:\n  f:\n    path: f.csv\n    checks:\n      - row_count: { min: 1, after: schema }\n      - schema: { columns: { a: any }, after: row_count }\n",
    );
    assert_eq!(
        d.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        ["`after` forms a cycle: row_count -> schema -> row_count"]
    );
}

#[test]
fn after_must_be_names() {
    let d = errors(
        "datasets:\n  f:\n    path: f.csv\n    checks:\n      - row_count: { min: 1, after: { schema: 1 } }\n      - not_null: { column: a, after: [] }\n",
    );
    assert_eq!(
        d.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
        [
            "`after` must be a name or a list of names, found a mapping",
            "`after` is an empty list",
        ]
    );
}

#[test]
fn decodes_the_comparison_kinds() {
    let c = ok(r#"
datasets:
  sales: { path: sales.csv }
  forecast:
    path: published/forecast/
    staging: staging/forecast/
    checks:
      - distribution: { column: p50, reference: published }
      - distribution: { name: vs_sales, column: p50, reference: sales, reference_column: units, bins: 20,
                        min_ks_p: 0.01, warn: { max_psi: 0.1 } }
      - within_history: { actuals: sales, series: [region], column: p50, actual_column: units, factor: 3 }
      - change_vs_published: { keys: [region, ds], column: p50, max_wape_pct: 20, max_change_pct: 50 }
      - forecast_accuracy: { actuals: sales, keys: [region, ds], point: p50, actual_column: units,
                             lower: p10, upper: p90, min_coverage_pct: 70, max_mase: 1.5, season: 7 }
"#);
    let checks = &c.datasets[1].checks;
    let names: Vec<&str> = checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "distribution(p50)",
            "vs_sales",
            "within_history(p50)",
            "change_vs_published(p50)",
            "forecast_accuracy(p50)"
        ]
    );
    // Without limits, `distribution` fails beyond a PSI of 0.25.
    assert_eq!(
        checks[0].fail.as_ref().unwrap().to_string(),
        "max_psi = 0.25"
    );
    match &checks[1].kind {
        CheckKind::Distribution(d) => {
            assert_eq!(d.bins, 20);
            assert_eq!(d.reference_column(), "units");
            assert!(matches!(&d.reference, Reference::Dataset(r) if r.name == "sales"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        checks[1].fail.as_ref().unwrap().to_string(),
        "min_ks_p = 0.01"
    );
    assert_eq!(
        checks[1].warn.as_ref().unwrap().to_string(),
        "max_psi = 0.1"
    );
    assert_eq!(
        checks[2].fail,
        Some(Threshold::Invalid {
            max_count: Some(0),
            max_pct: None
        })
    );
    assert_eq!(
        checks[3].fail.as_ref().unwrap().to_string(),
        "max_wape_pct = 20, max_change_pct = 50"
    );
    match &checks[4].kind {
        CheckKind::ForecastAccuracy(a) => {
            assert_eq!(a.season, 7);
            assert_eq!(a.keys, ["region", "ds"]);
            assert_eq!(a.lower.as_deref(), Some("p10"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn comparison_mistakes_name_the_fix() {
    let text = r#"
datasets:
  sales: { path: sales.csv }
  forecast:
    path: forecast.csv
    checks:
      - distribution: { column: p50, reference: sale }
      - within_history: { actuals: sales, column: p50, factor: 0.5 }
      - change_vs_published: { keys: [region, ds], column: p50 }
      - forecast_accuracy: { actuals: sales, keys: [region, ds], point: p50, min_coverage_pct: 70, season: 0 }
      - forecast_accuracy: { name: fa2, actuals: slaes, keys: [region, ds], point: p50, max_mase: 1 }
      - distribution: { name: d2, column: p50, reference: published, min_ks_p: 5 }
"#;
    let d = errors(text);
    let msgs: Vec<String> = d
        .iter()
        .map(|d| format!("{} | {}", d.message, d.help.clone().unwrap_or_default()))
        .collect();
    let find = |s: &str| {
        msgs.iter()
            .find(|m| m.contains(s))
            .unwrap_or_else(|| panic!("no diagnostic with {s:?} in {msgs:#?}"))
    };
    assert!(find("`factor` must be at least 1").contains("1 allows exactly"));
    assert!(
        find("a `change_vs_published` check needs a threshold")
            .contains("`max_wape_pct`, `max_change_pct`")
    );
    assert!(find("`season` must be at least 1").contains("same weekday"));
    assert!(find("`min_coverage_pct` needs an interval").contains("lower:"));
    assert!(find("`min_ks_p` is out of range").contains("between 0 and 1"));
    assert!(
        find("refers to dataset `sale`, which is not defined").contains("did you mean `sales`?")
    );
    assert!(find("refers to dataset `slaes`").contains("sales"));
    assert!(
        find("compares with the published version of `forecast`, which is not published")
            .contains("staging:")
    );
    // Every one points at the file.
    for diag in &d {
        assert!(diag.span.is_some(), "no location for: {}", diag.message);
    }
    // The unknown dataset is pointed at where it is named: line 7, after `reference: `.
    let undefined = d.iter().find(|d| d.message.contains("`sale`")).unwrap();
    let at = undefined.span.unwrap().start;
    assert_eq!((at.line, at.col), (7, 49), "{at:?}");
}

#[test]
fn forecast_pack_layouts_decode_to_one_model() {
    let c = checks(
        r#"
version: 1
datasets:
  f:
    path: f.csv
    checks:
      - completeness: { series: [region], date: ds, frequency: 1d, start: "${DS}", horizon: 30 }
      - completeness:
          name: hub
          keys:
            location: { values: [US], from: locations.location }
            horizon: { from: 1, to: 4 }
            target_end_date: { horizon: 4, frequency: 1w }
            output_type_id: [0.1, 0.5, 0.9]
          by: [reference_date]
          extra: fail
      - quantiles_ordered: [p10, p50, p90]
      - quantiles_ordered: { level: q, value: v, by: [location], tolerance: 0.01 }
      - not_constant: { series: [region], column: p50 }
      - interval_contains: { lower: p10, point: p50, upper: p90 }
      - metric: { sql: "sum(value)", group_by: [task], between: [0.99, 1.01] }
      - unique: { columns: [a, b], nulls: equal }
  locations:
    path: l.csv
"#,
    );
    let names: Vec<&str> = c.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "completeness(region, ds)",
            "hub",
            "quantiles_ordered(p10, p50, p90)",
            "quantiles_ordered(q, v)",
            "not_constant(p50)",
            "interval_contains(p10, p50, p90)",
            "metric(sum(value))",
            "unique(a, b)"
        ]
    );
    assert_eq!(
        c[0].kind,
        CheckKind::Completeness(CompletenessSpec {
            keys: vec![
                KeyValues {
                    column: "region".into(),
                    sources: vec![KeySource::Present]
                },
                KeyValues {
                    column: "ds".into(),
                    sources: vec![KeySource::Dates(DateGrid {
                        start: Some(GridStart::Date("2025-01-01".into())),
                        horizon: 30,
                        frequency: Frequency::Seconds(86_400)
                    })]
                }
            ],
            by: vec![],
            extra_fail: true,
            wide: true
        })
    );
    let CheckKind::Completeness(hub) = &c[1].kind else {
        panic!()
    };
    assert_eq!(
        hub.keys[0].sources,
        [
            KeySource::List(vec![Literal::Str("US".into())]),
            KeySource::From {
                dataset: "locations".into(),
                column: "location".into()
            }
        ]
    );
    assert_eq!(hub.keys[1].sources, [KeySource::Range { from: 1, to: 4 }]);
    assert!(matches!(&hub.keys[2].sources[0], KeySource::Dates(g) if g.start.is_none()));
    assert!(hub.extra_fail);
    assert_eq!(hub.by, ["reference_date"]);
    assert_eq!(hub.datasets(), ["locations"]);
    assert_eq!(
        c[3].kind,
        CheckKind::QuantilesOrdered(QuantileOrder::Long {
            level: "q".into(),
            value: "v".into(),
            by: vec!["location".into()],
            tolerance: 0.01
        })
    );
    assert_eq!(
        c[6].kind,
        CheckKind::Metric {
            sql: "sum(value)".into(),
            group_by: vec!["task".into()]
        }
    );
    assert_eq!(
        c[7].kind,
        CheckKind::Unique {
            columns: vec!["a".into(), "b".into()],
            nulls_equal: true
        }
    );
}

#[test]
fn forecast_pack_mistakes_point_at_the_value() {
    let d = errors(
        r#"
version: 1
datasets:
  f:
    path: f.csv
    checks:
      - completeness: { series: [r], date: ds, frequency: 1 day, horizon: 0, start: 2026-02-30 }
      - completeness: { series: [r], keys: { a: [1] } }
      - completeness: { keys: { a: { from: 3 } } }
      - completeness: { series: [r], date: ds, frequency: 7, start: 2026-01-01, horizon: 2 }
"#,
    );
    let msgs: Vec<String> = d
        .iter()
        .map(|d| {
            format!(
                "{}:{} {}",
                d.span.unwrap().start.line,
                d.span.unwrap().start.col,
                d.message
            )
        })
        .collect();
    assert_eq!(
        msgs,
        [
            "7:59 `1 day` is not a frequency: write a count and a unit — s, m, h, d, w (durations), mo, q, y (calendar), bd (business days) — e.g. `1d`, `1mo`, `1bd`; or a whole number of steps for an integer column",
            "7:75 `horizon` is 0: the grid would require nothing",
            "7:85 `2026-02-30` is not a date: February 2026 has 28 days",
            "8:25 `completeness` mixes the wide layout (`series`, `date`, ...) with `keys:`",
            "9:44 the range of key `a` is missing `to`",
            "10:59 frequency `7` is a number of steps, but `start` is a date",
        ]
    );
}

#[test]
fn openlineage_block_decodes_and_its_mistakes_are_located() {
    let c = ok(r#"
version: 1
datasets:
  a: { path: a.csv }
openlineage:
  url: http://marquez:5000
  endpoint: api/v1/lineage
  api_key: k
  namespace: analytics
  file: lineage/events.ndjson
  timeout: 3s
"#);
    let o = &c.openlineage;
    assert_eq!(o.url.as_deref(), Some("http://marquez:5000"));
    assert_eq!(o.endpoint.as_deref(), Some("api/v1/lineage"));
    assert_eq!(o.api_key.as_deref(), Some("k"));
    assert_eq!(o.namespace.as_deref(), Some("analytics"));
    assert_eq!(
        o.file.as_deref(),
        Some(Path::new("/cfg/lineage/events.ndjson")),
        "relative to the config"
    );
    assert_eq!(o.timeout, Some(std::time::Duration::from_secs(3)));
    assert_eq!(
        ok("version: 1\ndatasets:\n  a: { path: a.csv }\n").openlineage,
        OpenLineageSettings::default()
    );

    let d = errors(
        "version: 1\ndatasets:\n  a: { path: a.csv }\nopenlineage: { url: 'marquez:5000', namespce: x, timeout: soon }\n",
    );
    let msgs: Vec<(&str, u32)> = d
        .iter()
        .map(|d| (d.message.as_str(), d.span.unwrap().start.line))
        .collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    assert!(msgs.iter().all(|(_, line)| *line == 4), "{msgs:?}");
    assert!(
        msgs[0]
            .0
            .contains("`url` `marquez:5000` is not an http:// or https:// URL"),
        "{msgs:?}"
    );
    assert_eq!(msgs[1].0, "unknown key `namespce` in `openlineage`");
    assert_eq!(d[1].help.as_deref(), Some("did you mean `namespace`?"));
    let d = errors("version: 1\ndatasets:\n  a: { path: a.csv }\nopenlineage: http://x\n");
    assert!(
        d[0].message.contains("`openlineage` must be a mapping"),
        "{}",
        d[0].message
    );
}

#[test]
fn engine_is_datafusion_or_a_ballista_scheduler() {
    let c = ok("engine: ballista://sched.internal:50070\ndatasets:\n  d: { path: x.csv }\n");
    assert_eq!(
        c.engine,
        Some(Engine::Ballista {
            host: "sched.internal".into(),
            port: 50070
        })
    );
    assert_eq!(ok("datasets:\n  d: { path: x.csv }\n").engine, None);
    let d = errors("datasets:\n  d: { path: x.csv }\nengine: spark://master:7077\n");
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(
        d[0].message.contains("is not an engine"),
        "{}",
        d[0].message
    );
    assert_eq!(d[0].span.unwrap().start.line, 3);
    assert!(d[0].help.as_deref().unwrap().contains("ballista://"));
}
