//! Regression tests: one per defect fixed, each named after what it guards. Most run the
//! real binary on real files (like a user would meet the defect); a few call a library
//! directly where the binary cannot reach the case.
//!
//! The defects of issue 9's bad-input tour are grouped by where they live: the config
//! loader, the sources, the state store, the command line.

mod common;

use std::path::Path;
use std::process::Output;

use common::{sluice, transcript};
use datafusion::arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::parquet::arrow::ArrowWriter;
use std::sync::Arc;

/// Writes `files` (path, contents) under `dir`.
fn write_files(dir: &Path, files: &[(&str, &[u8])]) {
    for (name, bytes) in files {
        let p = dir.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(p, bytes).unwrap();
    }
}

/// Runs the binary in `dir` with `args`.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    sluice().args(args).current_dir(dir).output().unwrap()
}

/// The exit code and the normalised transcript of a run in `dir`.
fn outcome(dir: &Path, args: &[&str]) -> (i32, String) {
    let out = run_in(dir, args);
    (out.status.code().unwrap_or(-1), transcript(&out, dir))
}

/// Runs `sluice check --format json` in `dir`; returns the exit code, the report and stderr.
/// Fails the test if the run takes longer than a minute (a hang) or panics.
fn check_json(dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let mut child = sluice()
        .args(["check", "--format", "json"])
        .args(extra)
        .current_dir(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > std::time::Duration::from_secs(60) {
            child.kill().unwrap();
            panic!(
                "sluice check did not finish within a minute in {}",
                dir.display()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON report; stderr: {stderr}; stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), report, stderr)
}

/// The `error` of dataset `name` in a JSON report.
fn dataset_error(report: &serde_json::Value, name: &str) -> String {
    report["datasets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no dataset {name} in {report:#}"))["error"]
        .as_str()
        .unwrap_or_else(|| panic!("dataset {name} has no error: {report:#}"))
        .to_string()
}

/// The message of check `check` of dataset `dataset` in a JSON report.
fn check_message(report: &serde_json::Value, dataset: &str, check: &str) -> String {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["dataset"] == dataset && c["name"] == check)
        .unwrap_or_else(|| panic!("no check {dataset}.{check} in {report:#}"))["message"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Asserts that `text` contains every one of `parts`.
#[track_caller]
fn assert_says(text: &str, parts: &[&str]) {
    for p in parts {
        assert!(text.contains(p), "expected {p:?} in:\n{text}");
    }
}

/// A Parquet file holding `batch`.
fn parquet(batch: &RecordBatch) -> Vec<u8> {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    buf
}

/// A batch of `ids` (int64) and `amount` (float64, or text when `amount_as_text`).
fn orders_batch(rows: i64, amount_as_text: bool) -> RecordBatch {
    let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..rows));
    let amount: ArrayRef = if amount_as_text {
        Arc::new(StringArray::from_iter_values(
            (0..rows).map(|i| format!("{i}.5")),
        ))
    } else {
        Arc::new(Float64Array::from_iter_values((0..rows).map(|i| i as f64)))
    };
    RecordBatch::try_from_iter([("id", ids), ("amount", amount)]).unwrap()
}

// ---- the config loader ------------------------------------------------------------

// ---- sources --------------------------------------------------------------------------

#[test]
#[cfg(unix)]
fn a_fifo_at_path_is_refused_not_waited_on() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir(d.join("folder")).unwrap();
    write_files(d, &[("folder/a.csv", b"id\n1\n"), ("ok.csv", b"id\n1\n")]);
    for fifo in ["pipe.csv", "folder/b.csv"] {
        let made = std::process::Command::new("mkfifo")
            .arg(d.join(fifo))
            .status()
            .unwrap();
        assert!(made.success());
    }
    // A socket is no regular file either.
    let _socket = std::os::unix::net::UnixListener::bind(d.join("sock.csv")).unwrap();
    write_files(
        d,
        &[(
            "sluice.yaml",
            b"datasets:
  pipe: { path: pipe.csv, checks: [row_count] }
  folder: { path: folder/, checks: [row_count] }
  sock: { path: sock.csv, checks: [row_count] }
  ok: { path: ok.csv, checks: [row_count] }
",
        )],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    assert_says(
        &dataset_error(&report, "pipe"),
        &[
            "pipe.csv is a named pipe (FIFO), not a regular file",
            "point `path: pipe.csv`",
        ],
    );
    assert_says(
        &dataset_error(&report, "folder"),
        &["b.csv", "is a named pipe (FIFO), not a regular file"],
    );
    assert_says(
        &dataset_error(&report, "sock"),
        &["sock.csv is a socket, not a regular file"],
    );
    // The other dataset still ran.
    assert_eq!(check_message(&report, "ok", "row_count"), "1 row");
}

#[test]
fn a_parquet_column_named_twice_is_refused_with_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ids: ArrayRef = Arc::new(Int64Array::from(vec![1, 2]));
    let a: ArrayRef = Arc::new(Float64Array::from(vec![1.0, 2.0]));
    let b: ArrayRef = Arc::new(Float64Array::from(vec![-1.0, -2.0]));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("amount", DataType::Float64, true),
        Field::new("amount", DataType::Float64, true),
    ]));
    let batch = RecordBatch::try_new(schema, vec![ids, a, b]).unwrap();
    write_files(
        d,
        &[
            ("dup/part-0.parquet", &parquet(&orders_batch(3, false))),
            ("dup/part-1.parquet", &parquet(&batch)),
            (
                "sluice.yaml",
                b"datasets:
  dup:
    path: dup/
    checks: [{ range: { column: amount, min: 0 } }]
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    assert_says(
        &dataset_error(&report, "dup"),
        &["part-1.parquet", "two columns named `amount`"],
    );
}

/// Three NDJSON files; the second has a broken record on line 4001.
#[test]
fn ndjson_errors_name_the_file_and_the_real_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = |broken: Option<(usize, &str)>| {
        let mut lines: Vec<String> = (1..=5000)
            .map(|i| format!(r#"{{"id": {i}, "amount": {i}.5, "name": "n{i}"}}"#))
            .collect();
        if let Some((line, text)) = broken {
            lines[line - 1] = text.to_string();
        }
        lines.join("\n") + "\n"
    };
    let bad_syntax = file(Some((4001, r#"{"id": 25, "amount": 3.0, "name": "x""#)));
    let bad_type = file(Some((4500, r#"{"id": "x25", "amount": 3.0, "name": "x"}"#)));
    let early = file(Some((25, r#"{"id": 25, "amount": 3.0 "name": "x"}"#)));
    write_files(
        d,
        &[
            ("nd/p0.ndjson", file(None).as_bytes()),
            ("nd/p1.ndjson", bad_syntax.as_bytes()),
            ("nd/p2.ndjson", file(None).as_bytes()),
            ("typed.ndjson", bad_type.as_bytes()),
            ("early.ndjson", early.as_bytes()),
            (
                "sluice.yaml",
                b"datasets:
  nd: { path: nd/, checks: [row_count] }
  typed: { path: typed.ndjson, checks: [{ not_null: id }] }
  early: { path: early.ndjson, checks: [row_count] }
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    let nd = dataset_error(&report, "nd");
    assert_says(&nd, &["p1.ndjson", "line 4001"]);
    assert!(
        !nd.contains("p0.ndjson") && !nd.contains("p2.ndjson"),
        "{nd}"
    );
    // A value of the wrong type fails the check that reads the column.
    assert_says(
        &check_message(&report, "typed", "not_null(id)"),
        &["typed.ndjson", "line 4500", "`id`", "\"x25\""],
    );
    assert_says(
        &dataset_error(&report, "early"),
        &["early.ndjson", "line 25, column 26"],
    );
}

/// Three CSV files; the second has a row with an extra field on line 4001, another file a
/// text value in a number column.
#[test]
fn csv_errors_name_the_file_and_the_real_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = |broken: Option<(usize, &str)>| {
        let mut lines = vec!["id,amount,name".to_string()];
        lines.extend((1..5000).map(|i| format!("{i},{i}.5,n{i}")));
        if let Some((line, text)) = broken {
            lines[line - 1] = text.to_string();
        }
        lines.join("\n") + "\n"
    };
    write_files(
        d,
        &[
            ("cs/p0.csv", file(None).as_bytes()),
            (
                "cs/p1.csv",
                file(Some((4001, "4000,1.5,n4000,extra"))).as_bytes(),
            ),
            ("cs/p2.csv", file(None).as_bytes()),
            (
                "typed.csv",
                file(Some((4200, "4199,lots,n4199"))).as_bytes(),
            ),
            ("header.csv", b"id,amount,amount\n1,2,3\n"),
            (
                "sluice.yaml",
                b"datasets:
  cs: { path: cs/, checks: [row_count] }
  typed: { path: typed.csv, checks: [{ not_null: amount }] }
  header: { path: header.csv, checks: [row_count] }
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    let cs = dataset_error(&report, "cs");
    assert_says(&cs, &["p1.csv", "line 4001", "4 fields", "3"]);
    assert!(!cs.contains("p0.csv") && !cs.contains("p2.csv"), "{cs}");
    // A value of the wrong type fails the check that reads the column.
    assert_says(
        &check_message(&report, "typed", "not_null(amount)"),
        &["typed.csv", "line 4200", "`amount`", "lots"],
    );
    assert_says(
        &dataset_error(&report, "header"),
        &["header.csv", "`amount`", "twice"],
    );
}

#[test]
fn a_schema_merge_error_names_both_files_and_the_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(
        d,
        &[
            ("mc/a.csv", b"id,v\n1,2\n"),
            ("mc/b.csv", b"id,v\n1,abc\n"),
            ("mj/a.json", b"{\"id\":1,\"v\":2}\n"),
            ("mj/b.json", b"{\"id\":1,\"v\":[1]}\n"),
            ("mp/a.parquet", &parquet(&orders_batch(3, false))),
            ("mp/b.parquet", &parquet(&orders_batch(3, true))),
            (
                "sluice.yaml",
                b"datasets:
  mc: { path: mc/, checks: [row_count] }
  mj: { path: mj/, checks: [row_count] }
  mp: { path: mp/, checks: [row_count] }
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    for (ds, a, b) in [
        ("mc", "a.csv", "b.csv"),
        ("mj", "a.json", "b.json"),
        ("mp", "a.parquet", "b.parquet"),
    ] {
        let col = if ds == "mp" { "`amount`" } else { "`v`" };
        assert_says(&dataset_error(&report, ds), &[a, b, col]);
    }
}

#[test]
fn a_parquet_file_with_a_broken_body_is_called_corrupt() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let good = parquet(&orders_batch(50_000, false));
    // Keep the magic bytes and the footer, drop most of the data pages in between.
    let footer_len = u32::from_le_bytes(good[good.len() - 8..good.len() - 4].try_into().unwrap());
    let footer_start = good.len() - 8 - footer_len as usize;
    let mut broken = good[..footer_start / 2].to_vec();
    broken.extend_from_slice(&good[footer_start..]);
    // Same length, but the middle of the data overwritten.
    let mut garbled = good.clone();
    for b in &mut garbled[footer_start / 4..footer_start * 3 / 4] {
        *b = 0xee;
    }
    write_files(
        d,
        &[
            ("broken.parquet", &broken),
            ("garbled/part-0.parquet", &good),
            ("garbled/part-1.parquet", &garbled),
            (
                "sluice.yaml",
                b"datasets:
  b: { path: broken.parquet, checks: [row_count] }
  g: { path: garbled/, checks: [{ range: { column: amount, min: 0 } }] }
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    assert_says(
        &dataset_error(&report, "b"),
        &["broken.parquet is truncated or corrupt"],
    );
    assert_says(
        &check_message(&report, "g", "range(amount)"),
        &["part-1.parquet is truncated or corrupt"],
    );
}

#[test]
fn a_file_in_another_format_than_declared_is_named_for_what_it_is() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pq = parquet(&orders_batch(3, false));
    let mut gz = vec![0x1f, 0x8b, 0x08, 0x00];
    gz.extend_from_slice(&[0xff; 40]);
    write_files(
        d,
        &[
            ("pq.csv", &pq),
            ("pq.json", &pq),
            (
                "arrow.csv",
                b"ARROW1\0\0\xff\xff\xff\xff\x10\x00\x00\x00garbage",
            ),
            ("gz.csv", &gz),
            ("text.parquet", b"id,amount\n1,2.5\n2,3.5\n"),
            ("json.parquet", b"{\"id\": 1}\n{\"id\": 2}\n"),
            (
                "sluice.yaml",
                b"datasets:
  pq_csv: { path: pq.csv, checks: [row_count] }
  pq_json: { path: pq.json, checks: [row_count] }
  arrow_csv: { path: arrow.csv, checks: [row_count] }
  gz: { path: gz.csv, checks: [row_count] }
  text_pq: { path: text.parquet, checks: [row_count] }
  json_pq: { path: json.parquet, checks: [row_count] }
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    assert_says(
        &dataset_error(&report, "pq_csv"),
        &["pq.csv looks like Parquet, not CSV", "`format: parquet`"],
    );
    assert_says(
        &dataset_error(&report, "pq_json"),
        &["pq.json looks like Parquet, not JSON", "`format: parquet`"],
    );
    assert_says(
        &dataset_error(&report, "arrow_csv"),
        &["arrow.csv looks like Arrow IPC, not CSV", "`format: arrow`"],
    );
    assert_says(&dataset_error(&report, "gz"), &["gz.csv", "gzip"]);
    assert_says(
        &dataset_error(&report, "text_pq"),
        &["text.parquet looks like CSV, not Parquet", "`format: csv`"],
    );
    assert_says(
        &dataset_error(&report, "json_pq"),
        &["json.parquet looks like JSON", "`format: json`"],
    );
}

#[test]
fn an_empty_csv_file_is_called_empty_not_a_missing_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(
        d,
        &[
            ("empty.csv", b""),
            ("empty.ndjson", b""),
            ("only_empty/a.csv", b""),
            (
                "sluice.yaml",
                b"datasets:
  e: { path: empty.csv, checks: [row_count, { not_null: id }] }
  j: { path: empty.ndjson, checks: [{ not_null: id }] }
  f: { path: only_empty/, format: csv, checks: [row_count] }
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    let e = dataset_error(&report, "e");
    assert_says(&e, &["empty.csv is empty", "no header, no rows"]);
    assert!(!e.contains("not found"), "{e}");
    assert_says(&dataset_error(&report, "j"), &["empty.ndjson is empty"]);
    assert_says(&dataset_error(&report, "f"), &["a.csv", "empty"]);
}

#[test]
fn an_invalid_date_in_a_partition_folder_names_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(
        d,
        &[
            ("hv/dt=2024-02-01/a.csv", b"id\n1\n"),
            ("hv/dt=2024-02-30/a.csv", b"id\n2\n"),
            (
                "sluice.yaml",
                b"datasets:
  hv:
    path: hv/
    partitions: { dt: date }
    checks: [row_count]
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    assert_says(
        &dataset_error(&report, "hv"),
        &["dt=2024-02-30", "not a valid date"],
    );
}

#[test]
fn unknown_columns_and_functions_in_sql_get_a_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(
        d,
        &[
            ("orders.csv", b"order_id,amount,quantity\n1,2.5,3\n"),
            (
                "sluice.yaml",
                b"datasets:
  orders:
    path: orders.csv
    checks:
      - not_null: { column: order_id, where: \"amout > 1\" }
      - rows_satisfy: \"quantiy > 0\"
      - metric: { sql: \"avgg(amount)\", min: 0 }
      - metric: { sql: \"sum(amout)\", min: 0 }
      - metric: { sql: \"avg(zzzzzz)\", min: 0 }
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &[]);
    assert_eq!(code, 4, "{report:#}");
    let msg = |c: &str| check_message(&report, "orders", c);
    assert_says(
        &msg("not_null(order_id)"),
        &["column `amout` not found in `orders`; did you mean `amount`?"],
    );
    assert_says(
        &msg("rows_satisfy(quantiy > 0)"),
        &["column `quantiy` not found in `orders`; did you mean `quantity`?"],
    );
    assert_says(
        &msg("metric(avgg(amount))"),
        &["unknown function `avgg`; did you mean `avg`?"],
    );
    assert_says(
        &msg("metric(sum(amout))"),
        &["column `amout` not found in `orders`; did you mean `amount`?"],
    );
    assert_says(
        &msg("metric(avg(zzzzzz))"),
        &["column `zzzzzz` not found in `orders`", "order_id"],
    );
}

#[test]
fn running_out_of_memory_says_which_query_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut csv = String::from("id,name\n");
    for i in 0..100_000 {
        csv.push_str(&format!("{i},name-{i:08}-{}\n", i * 7919 % 100_003));
    }
    write_files(
        d,
        &[
            ("a.csv", csv.as_bytes()),
            ("b.csv", csv.as_bytes()),
            (
                "sluice.yaml",
                b"datasets:
  a:
    path: a.csv
    checks:
      - unique: name
      - metric: { sql: \"length(string_agg(name, ','))\", min: 1 }
      - not_null: id
  b:
    path: b.csv
    parity: [{ against: a, keys: [name] }]
",
            ),
        ],
    );
    let (code, report, _) = check_json(d, &["--memory-limit", "1M"]);
    assert_eq!(code, 4, "{report:#}");
    let unique = check_message(&report, "a", "unique(name)");
    assert_says(
        &unique,
        &[
            "the `unique` check's own query",
            "ran out of memory",
            "--memory-limit",
            "limit free",
        ],
    );
    assert!(unique.len() < 250 && !unique.contains('\n'), "{unique}");
    let fused = check_message(&report, "a", "metric(length(string_agg(name, ',')))");
    assert_says(
        &fused,
        &[
            "the fused scan, and this check run alone,",
            "ran out of memory",
        ],
    );
    // The other checks of the scan still have their results.
    assert_eq!(
        check_message(&report, "a", "not_null(id)"),
        "0 of 100000 rows have id NULL"
    );
    let diff = check_message(&report, "b", "parity(a)");
    assert_says(
        &diff,
        &["keyed diff", "ran out of memory", "--memory-limit"],
    );
    assert!(diff.len() < 250 && !diff.contains('\n'), "{diff}");
}

// ---- the state store and publishing ---------------------------------------------------

// ---- the command line -----------------------------------------------------------------

#[test]
fn a_diff_output_path_that_is_a_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(
        d,
        &[
            ("a.csv", b"id\n1\n2\n"),
            ("b.csv", b"id\n1\n"),
            ("afile", b"not a folder"),
            (
                "sluice.yaml",
                b"datasets:
  a: { path: a.csv }
  b: { path: b.csv, parity: [{ against: a, keys: [id] }] }
",
            ),
        ],
    );
    for arg in ["afile", "afile/sub"] {
        let (code, transcript) = outcome(d, &["check", "--diff-output", arg]);
        assert_eq!(code, 2, "{transcript}");
        assert_says(&transcript, &["--diff-output", "afile", "not a folder"]);
        assert!(!transcript.contains("panicked"), "{transcript}");
    }
    // A folder, or one still to be made, is taken.
    let (code, transcript) = outcome(d, &["check", "--diff-output", "diffs/new"]);
    assert_eq!(code, 1, "{transcript}");
    assert!(d.join("diffs/new").is_dir(), "{transcript}");
}
