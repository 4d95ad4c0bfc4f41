//! End-to-end tests of the config tooling and the logs: `sluice schema` (the committed
//! copy, every example and case config valid against it, known-bad ones rejected),
//! `sluice init --from` (scaffolds that validate and run), `sluice completions`, and
//! `--log-format json`.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{code, repo, schema_check, sluice, stderr, stdout};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use serde_json::Value;
use sluice_app::spec::schema::yaml_as_json;

const NOW: &str = "2025-01-01T00:00:00Z";

// --- sluice schema ------------------------------------------------------------------------

fn schema() -> Value {
    let out = sluice().arg("schema").output().unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The schema, ready to validate with (`tests/common/schema_check.rs`).
struct Validator(Value);

impl Validator {
    fn is_valid(&self, doc: &Value) -> bool {
        schema_check::is_valid(&self.0, doc)
    }
    fn errors(&self, doc: &Value) -> Vec<String> {
        schema_check::errors(&self.0, doc)
    }
}

fn validator() -> Validator {
    Validator(schema())
}

/// `configs/sluice.schema.json` is what `sluice schema` prints (`SLUICE_BLESS=1` rewrites it).
#[test]
fn committed_schema_is_current() {
    let out = sluice().arg("schema").output().unwrap();
    let printed = stdout(&out);
    let file = repo().join("configs/sluice.schema.json");
    if std::env::var_os("SLUICE_BLESS").is_some() {
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, &printed).unwrap();
    }
    let committed = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        committed == printed,
        "configs/sluice.schema.json is out of date: run `SLUICE_BLESS=1 cargo test --workspace --test tooling committed_schema` and commit it"
    );
}

/// A case whose config the decoder rejects (its expected transcript starts `exit: 2` with
/// a config error).
fn invalid_case(config: &Path) -> bool {
    let expected =
        std::fs::read_to_string(config.with_file_name("expected.out")).unwrap_or_default();
    expected.starts_with("exit: 2")
}

/// Cases whose config is wrong in a way a schema can see: an unknown key, kind or value,
/// a wrong type, a missing required key, a negative tolerance.
const SCHEMA_VISIBLE_MISTAKES: &[&str] = &[
    "bad/config-unknown-key",
    "bad/config-unknown-check-kind",
    "bad/config-wrong-type",
    "bad/config-several-errors",
    "bad/config-missing-path",
    "bad/config-parity-negative-tolerance",
];

#[test]
fn schema_accepts_every_example_and_case_config() {
    let v = validator();
    let mut configs = common::configs_under(&repo().join("examples"));
    let examples = configs.len();
    configs.extend(common::configs_under(&common::cases_root()));
    assert!(
        examples >= 4 && configs.len() >= 80,
        "{examples} examples, {} in all",
        configs.len()
    );
    let mut accepted = 0;
    let mut failures = Vec::new();
    for path in &configs {
        if invalid_case(path) {
            continue;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let Some(doc) = yaml_as_json(&text) else {
            failures.push(format!("{}: not YAML", path.display()));
            continue;
        };
        let errors: Vec<String> = v.errors(&doc).into_iter().take(3).collect();
        if errors.is_empty() {
            accepted += 1;
        } else {
            failures.push(format!("{}: {}", path.display(), errors.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(accepted >= 70, "only {accepted} configs checked");
}

#[test]
fn schema_rejects_the_mistakes_it_can_see() {
    let v = validator();
    for case in SCHEMA_VISIBLE_MISTAKES {
        let path = common::cases_root().join(case).join("sluice.yaml");
        assert!(invalid_case(&path), "{case} is not a bad config any more");
        let doc = yaml_as_json(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert!(!v.is_valid(&doc), "{case} passes the schema");
    }
    // And mistakes made by hand, each in an otherwise valid config.
    let base = |check: &str| {
        format!(
            "version: 1\ndatasets:\n  orders:\n    path: orders.csv\n    checks:\n      - {check}\n"
        )
    };
    assert!(
        v.is_valid(&yaml_as_json(&base("range: { column: amount, min: 0, max: 10 }")).unwrap())
    );
    assert!(v.is_valid(&yaml_as_json(&base("not_null: [a, b]")).unwrap()));
    // A `${VAR}` where a number goes, with or without a default.
    // (In a block mapping: `{` and `}` end a plain value in a flow one.)
    for var in ["${MIN}", "${MIN:-1}"] {
        let doc = yaml_as_json(&base(&format!("row_count:\n          min: {var}"))).unwrap();
        assert!(v.is_valid(&doc), "{var}: {:?}", v.errors(&doc));
    }
    for bad in [
        "range: { column: amount, regex: x }", // a key of another kind
        "format: { column: email, format: emial }", // an unknown value
        "row_count: { min: many }",            // a wrong type
        "not_nul: id",                         // an unknown kind
        "not_null: id\n        unique: id",    // two kinds in one item
        "schema: { columns: { id: integr } }", // an unknown column type
        "freshness: { column: ts, max_age: 6h, warn: { max_invalid: 1 } }", // a zone of another class
    ] {
        let doc = yaml_as_json(&base(bad)).unwrap();
        assert!(!v.is_valid(&doc), "accepted: {bad}");
    }
    let top = yaml_as_json("version: 1\ndatasets: { a: { path: a.csv } }\ndatasetz: {}\n").unwrap();
    assert!(!v.is_valid(&top), "an unknown top-level key");
}

#[test]
fn each_kind_has_its_own_branch_for_completion() {
    let s = schema();
    assert_eq!(s["$schema"], "http://json-schema.org/draft-07/schema#");
    let range = &s["definitions"]["kind.range"];
    let props = range["anyOf"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["type"] == "object")
        .unwrap();
    for key in [
        "column",
        "min",
        "max",
        "inclusive",
        "max_invalid",
        "where",
        "severity",
    ] {
        assert!(props["properties"].get(key).is_some(), "range lacks {key}");
    }
    let branches = s["definitions"]["check"]["anyOf"].as_array().unwrap();
    assert!(branches.len() > 20, "one branch per kind");
}

// --- sluice init --------------------------------------------------------------------------

/// A Parquet file with non-nullable columns, a unique integer id, a unique UUID, a
/// repeated integer, and a nullable column with a NULL.
fn write_parquet(path: &Path) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("order_id", DataType::Int64, false),
        Field::new("uuid", DataType::Utf8, false),
        Field::new("customer_id", DataType::Int64, false),
        Field::new("amount", DataType::Float64, true),
        Field::new("note", DataType::Utf8, true),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(vec![1, 2, 3, 4])),
        Arc::new(StringArray::from(vec![
            "0193f1d2-7c1a-7d40-9b1e-3f6a2b1c9d10",
            "0193f1d2-7c1a-7d40-9b1e-3f6a2b1c9d11",
            "0193f1d2-7c1a-7d40-9b1e-3f6a2b1c9d12",
            "0193f1d2-7c1a-7d40-9b1e-3f6a2b1c9d13",
        ])),
        Arc::new(Int64Array::from(vec![7, 7, 8, 9])),
        Arc::new(Float64Array::from(vec![1.5, 2.0, 3.25, 4.0])),
        Arc::new(StringArray::from(vec![
            Some("a"),
            None,
            Some("c"),
            Some("d"),
        ])),
    ];
    let batch = RecordBatch::try_new(schema, cols).unwrap();
    let mut w =
        ArrowWriter::try_new(std::fs::File::create(path).unwrap(), batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn init_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    write_parquet(&dir.path().join("data/orders.parquet"));
    dir
}

#[test]
fn init_scaffolds_a_parquet_file_and_the_result_validates_and_runs() {
    let dir = init_dir();
    let out = sluice()
        .args(["init", "--from", "data/orders.parquet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let yaml = stdout(&out);
    insta::assert_snapshot!("init_parquet", yaml);
    std::fs::write(dir.path().join("sluice.yaml"), &yaml).unwrap();
    let v = sluice()
        .arg("validate")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&v), 0, "{}{}", stdout(&v), stderr(&v));
    let run = sluice()
        .args(["check", "--now", NOW, "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        code(&run),
        0,
        "the data it came from passes: {}",
        stdout(&run)
    );
    let report: Value = serde_json::from_slice(&run.stdout).unwrap();
    let names: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"unique(order_id)"), "{names:?}");
    assert!(names.contains(&"schema"), "{names:?}");
    // And against the schema editors use.
    assert!(validator().is_valid(&yaml_as_json(&yaml).unwrap()));
}

#[test]
fn init_reads_csv_as_path_does() {
    let data = common::cases_root().join("data");
    let out = sluice()
        .args(["init", "--from", "customers.csv", "--name", "customers"])
        .current_dir(&data)
        .output()
        .unwrap();
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let yaml = stdout(&out);
    insta::assert_snapshot!("init_csv", yaml);
    // The CSV has no non-nullable columns (an inferred schema): the columns without a NULL
    // get not_null, commented as seen in the data.
    assert!(yaml.contains("No NULL in the"), "{yaml}");
}

#[test]
fn init_output_refuses_to_overwrite_without_force() {
    let dir = init_dir();
    let target = dir.path().join("conf/sluice.yaml");
    std::fs::create_dir(dir.path().join("conf")).unwrap();
    let args = [
        "init",
        "--from",
        "data/orders.parquet",
        "--output",
        "conf/sluice.yaml",
    ];
    let first = sluice()
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert_eq!(stdout(&first), "", "the config went to the file");
    assert!(
        stderr(&first).contains("key `order_id`"),
        "{}",
        stderr(&first)
    );
    let written = std::fs::read_to_string(&target).unwrap();
    assert!(
        written.contains("path: ../data/orders.parquet"),
        "relative to the config: {written}"
    );
    let again = sluice()
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&again), 2);
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));
    let forced = sluice()
        .args(args)
        .arg("--force")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&forced), 0, "{}", stderr(&forced));
    let v = sluice()
        .args(["validate", "-c", "conf/sluice.yaml"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&v), 0, "{}", stderr(&v));
}

#[test]
fn init_from_a_missing_path_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = sluice()
        .args(["init", "--from", "nope.parquet"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("path not found"), "{}", stderr(&out));
}

// --- sluice completions -------------------------------------------------------------------

#[test]
fn completions_for_each_shell_name_the_subcommands() {
    for shell in ["bash", "zsh", "fish"] {
        let out = sluice().args(["completions", shell]).output().unwrap();
        assert_eq!(code(&out), 0, "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for sub in [
            "check",
            "validate",
            "publish",
            "breaker",
            "schema",
            "init",
            "completions",
        ] {
            assert!(script.contains(sub), "{shell} lacks {sub}");
        }
        if shell == "bash" {
            let file = tempfile::NamedTempFile::new().unwrap();
            std::fs::write(file.path(), &script).unwrap();
            let syntax = std::process::Command::new("bash")
                .arg("-n")
                .arg(file.path())
                .output()
                .unwrap();
            assert!(
                syntax.status.success(),
                "{}",
                String::from_utf8_lossy(&syntax.stderr)
            );
        }
    }
    let bad = sluice().args(["completions", "tcsh"]).output().unwrap();
    assert_eq!(code(&bad), 2);
}

// --- --log-format json --------------------------------------------------------------------

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn json_logs_are_one_object_per_line_with_run_dataset_check_and_duration() {
    let cfg = repo().join("examples/orders/sluice.yaml");
    let out = sluice()
        .args(["--log-format", "json", "check", "--now", NOW, "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(code(&out), 1, "the example has failing checks");
    let events = json_lines(&stderr(&out));
    assert!(!events.is_empty(), "info by default in JSON");
    let run_id = events
        .iter()
        .find(|e| e["message"] == "run started")
        .and_then(|e| e["run_id"].as_str())
        .expect("the run id at info");
    assert_eq!(run_id.len(), 36);
    let checks: Vec<&Value> = events
        .iter()
        .filter(|e| e["message"] == "check finished")
        .collect();
    assert!(checks.len() > 10, "one event per check");
    for e in &checks {
        assert_eq!(e["run_id"], run_id, "span fields on every event: {e}");
        assert!(e["dataset"].is_string() && e["check"].is_string(), "{e}");
        assert!(e["duration_ms"].is_u64(), "{e}");
        assert_eq!(e["level"], "INFO");
        assert!(e["timestamp"].is_string());
    }
    assert!(checks.iter().any(|e| e["status"] == "fail"));
    let finished = events
        .iter()
        .find(|e| e["message"] == "run finished")
        .unwrap();
    assert_eq!(finished["run_id"], run_id);
    assert!(finished["elapsed_ms"].is_u64());
    // The same through the environment; -q silences it.
    let env = sluice()
        .env("SLUICE_LOG_FORMAT", "json")
        .args(["-q", "check", "--now", NOW, "--config"])
        .arg(&cfg)
        .output()
        .unwrap();
    assert_eq!(stderr(&env), "", "-q: only errors");
}

#[test]
fn json_logs_leave_the_summary_the_last_line_for_xcom() {
    // Airflow reads stdout and stderr merged: nothing may follow the summary on either.
    let cfg = repo().join("examples/orders/sluice.yaml");
    let dir = tempfile::tempdir().unwrap();
    let merged = dir.path().join("merged.log");
    let file = std::fs::File::create(&merged).unwrap();
    let status = sluice()
        .env("AIRFLOW_CTX_DAG_ID", "orders_daily")
        .args([
            "--log-format",
            "json",
            "check",
            "--now",
            NOW,
            "--json-summary",
            "--dataset",
            "customers",
            "--config",
        ])
        .arg(&cfg)
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(0));
    let text = std::fs::read_to_string(&merged).unwrap();
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "passed", "{text}");
    assert!(text.contains("\"run started\""), "{text}");
}

#[test]
fn in_airflow_the_text_log_names_the_run() {
    let cfg = repo().join("examples/orders/sluice.yaml");
    let run = |env: Option<&str>| {
        let mut c = sluice();
        if let Some(dag) = env {
            c.env("AIRFLOW_CTX_DAG_ID", dag);
        }
        c.args([
            "--color",
            "never",
            "check",
            "--now",
            NOW,
            "--dataset",
            "customers",
            "--config",
        ])
        .arg(&cfg)
        .output()
        .unwrap()
    };
    let airflow = stderr(&run(Some("orders_daily")));
    assert!(airflow.contains("run started"), "{airflow}");
    assert!(airflow.contains("run_id="), "{airflow}");
    assert!(
        !airflow.contains("check finished"),
        "only the run's lines: {airflow}"
    );
    let terminal = stderr(&run(None));
    assert_eq!(terminal, "", "no logs by default outside Airflow");
}

/// `notify:` is in the schema: the README's example passes, a channel key of another block
/// and a route without `to` do not.
#[test]
fn schema_covers_notify() {
    let v = validator();
    let config = |notify: &str| {
        yaml_as_json(&format!(
            "version: 1\ndatasets:\n  a:\n    path: a.csv\nnotify:\n{notify}"
        ))
        .unwrap()
    };
    let good = config(
        "  channels:\n    chat:\n      slack: { url_env: SLACK_WEBHOOK_URL }\n    alerts:\n      webhook:\n        url: \"https://example.com/hook\"\n        headers: { Authorization: \"Bearer x\" }\n    pager:\n      exec: [scripts/page.sh, --service, data]\n      timeout: 10s\n  routes:\n    - when: { tier: 1, event: [open, trip, expire] }\n      to: pager\n    - when: { owner: [ingest, data-eng] }\n      to: [chat, alerts]\n  retry: { attempts: 4, backoff: 0.5s, within: 30s }\n",
    );
    assert!(v.is_valid(&good), "{:?}", v.errors(&good));
    for bad in [
        "  channels:\n    chat:\n      slack: { url: \"https://x\", token: y }\n",
        "  routes:\n    - when: { tier: 1 }\n",
        "  retry: { attempts: many }\n",
    ] {
        assert!(!v.is_valid(&config(bad)), "accepted: {bad}");
    }
}
