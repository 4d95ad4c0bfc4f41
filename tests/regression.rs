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

/// Validates `config` (the text of a sluice.yaml) in a fresh folder: exit code and transcript.
fn validate(config: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &[("sluice.yaml", config.as_bytes())]);
    outcome(dir.path(), &["validate", "--config", "sluice.yaml"])
}

/// Asserts a config error: exit 2, no panic, and every `needle` in the output.
#[track_caller]
fn assert_config_error(config: &str, needles: &[&str]) -> String {
    let (code, out) = validate(config);
    assert_eq!(code, 2, "{out}");
    assert!(!out.contains("panicked"), "{out}");
    for n in needles {
        assert!(out.contains(n), "missing {n:?} in:\n{out}");
    }
    out
}

#[test]
fn an_overlong_max_age_is_a_config_error_not_a_panic() {
    assert_config_error(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - freshness: { column: t, max_age: 99999999999999w }\n",
        &[
            "error: `99999999999999w` is too long; a duration is at most 52000w",
            "--> sluice.yaml:5:42",
            "^^^^^^^^^^^^^^^ too long",
        ],
    );
    // In seconds, too.
    assert_config_error(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - freshness: { column: t, max_age: 9223372036854775807 }\n",
        &["is too long", "sluice.yaml:5:42"],
    );
}

#[test]
fn overlong_durations_on_the_command_line_are_usage_errors_not_panics() {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[(
            "sluice.yaml",
            b"datasets:\n  o:\n    path: pub/o.csv\n    staging: stage/o.csv\n",
        )],
    );
    for args in [
        &["publish", "o", "--wait", "1e20"][..],
        &["breaker", "trip", "o", "--reason", "r", "--until", "1e20"],
        &[
            "breaker",
            "override",
            "o",
            "--reason",
            "r",
            "--until",
            "99999999999999w",
        ],
        &["breaker", "report", "--since", "1e20"],
    ] {
        let (code, out) = outcome(dir.path(), args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(!out.contains("panicked"), "{args:?}: {out}");
        assert!(
            out.contains("is too long; a duration is at most"),
            "{args:?}: {out}"
        );
    }
}

#[test]
fn a_billion_laughs_alias_bomb_is_a_config_error_not_13_gb() {
    // Nine levels of nine aliases: 800 bytes that would expand to 387 million nodes.
    let mut config =
        String::from("version: 1\nx:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    let mut prev = 'a';
    for c in 'b'..='i' {
        let items = vec![format!("*{prev}"); 9].join(", ");
        config.push_str(&format!("  {c}: &{c} [{items}]\n"));
        prev = c;
    }
    config.push_str("datasets:\n  o:\n    path: o.csv\n    tags: *i\n");
    assert!(config.len() < 800);
    let started = std::time::Instant::now();
    assert_config_error(
        &config,
        &[
            "error: YAML aliases expand this file beyond 1000000 nodes",
            "--> sluice.yaml:9:",
            "aliases of aliases multiply",
        ],
    );
    // Refused after a million nodes, not after 13 GB (generous: debug build, busy CI).
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

/// Runs `sluice check` on `config` with `o.csv` holding `csv`: exit code and transcript.
fn check_with_data(config: &str, csv: &str) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("sluice.yaml", config.as_bytes()),
            ("o.csv", csv.as_bytes()),
        ],
    );
    outcome(
        dir.path(),
        &["check", "--config", "sluice.yaml", "--no-state"],
    )
}

#[test]
fn nan_and_infinite_range_bounds_are_config_errors_not_a_column_named_nan() {
    let (code, out) = check_with_data(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - range: { column: x, min: .nan, max: .inf }\n",
        "x\n1\n2\n",
    );
    assert_eq!(code, 2, "{out}");
    for needle in [
        "error: `min` must be a finite number, found NaN (not a number)\n --> sluice.yaml:5:34",
        "error: `max` must be a finite number, found infinite\n --> sluice.yaml:5:45",
        "leave out its bound",
        "has 2 errors; nothing was run",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn nan_and_infinite_thresholds_are_config_errors_wherever_a_number_is_read() {
    let out = assert_config_error(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - row_count: { between: [-.inf, 1e999] }\n      - metric: { sql: avg(x), equals: .NaN }\n      - not_null: { column: x, max_invalid_pct: .nan }\n      - unique: { column: x, warn: { max_invalid_pct: .inf } }\n      - accepted_values: { column: x, values: [1, .nan] }\n    parity:\n      - against: p\n        sum: { columns: [x], tolerance: .inf }\n        row_count: { tolerance_pct: .nan }\n  p:\n    path: p.csv\n",
        &[
            "the lower bound of `between` must be a finite number, found infinite\n --> sluice.yaml:5:32",
            "the upper bound of `between` must be a finite number, found infinite\n --> sluice.yaml:5:39",
            "`equals` must be a finite number, found NaN (not a number)\n --> sluice.yaml:6:40",
            "`max_invalid_pct` must be a finite number, found NaN (not a number)\n --> sluice.yaml:7:49",
            "`max_invalid_pct` must be a finite number, found infinite\n --> sluice.yaml:8:55",
            "each value must be a finite number, found NaN (not a number)\n --> sluice.yaml:9:51",
            "`tolerance` must be a finite number, found infinite\n  --> sluice.yaml:12:41",
            "`tolerance_pct` must be a finite number, found NaN (not a number)\n  --> sluice.yaml:13:37",
        ],
    );
    assert!(out.contains("has 8 errors"), "{out}");
}

#[test]
fn staging_equal_to_path_is_a_config_error_located_at_staging() {
    let out = assert_config_error(
        "datasets:\n  same:\n    path: pub/same/\n    staging: ./pub/same\n  inside_path:\n    path: pub/b\n    staging: pub/b/tmp\n  inside_staging:\n    path: stage/c/current\n    staging: stage/c\n  apart:\n    path: pub/d\n    staging: stage/d\n",
        &[
            "error: `staging` is the same as `path`: both are [CASE]/pub/same\n --> sluice.yaml:4:14",
            "error: `staging` ([CASE]/pub/b/tmp) is inside `path` ([CASE]/pub/b)\n --> sluice.yaml:7:14",
            "error: `path` ([CASE]/stage/c/current) is inside `staging` ([CASE]/stage/c)\n  --> sluice.yaml:10:14",
            "give them separate folders",
        ],
    );
    assert!(out.contains("has 3 errors"), "{out}");
}

#[test]
fn an_impossible_date_bound_is_a_config_error_not_a_datafusion_cast_error() {
    let (code, out) = check_with_data(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - range: { column: d, min: '2024-02-30' }\n      - range: { column: d, max: '2024-13-01' }\n      - range: { column: d, max: '2024-02-30T10:00:00' }\n",
        "d\n2024-01-01\n2024-02-28\n",
    );
    assert_eq!(code, 2, "{out}");
    for needle in [
        "error: `2024-02-30` is not a date: February 2024 has 29 days\n --> sluice.yaml:5:34",
        "error: `2024-13-01` is not a date: there is no month 13 (months are 01 to 12)\n --> sluice.yaml:6:34",
        "error: `2024-02-30T10:00:00` is not a timestamp: February 2024 has 29 days\n --> sluice.yaml:7:34",
        "has 3 errors; nothing was run",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    // A date that exists still runs (and passes).
    let (code, out) = check_with_data(
        "datasets:\n  o:\n    path: o.csv\n    checks:\n      - range: { column: d, min: '2024-01-01', max: '2024-02-29' }\n",
        "d\n2024-01-01\n2024-02-28\n",
    );
    assert_eq!(code, 0, "{out}");
}

#[test]
fn a_lone_carriage_return_ends_a_line_so_errors_quote_the_right_line() {
    // Found by the fuzz test: the YAML parser counts a lone `\r` (old Mac line ends, a stray
    // byte) as a line break, the quoted source did not, so the location and the line shown
    // disagreed — or pointed past the end of the file.
    assert_config_error(
        "datasets:\r  o:\r    pth: o.csv\r",
        &[
            "error: unknown key `pth` in dataset `o`\n --> sluice.yaml:3:5",
            "3 |     pth: o.csv\n",
            "did you mean `path`?",
        ],
    );
}

#[test]
fn errors_at_the_end_of_the_input_point_at_its_last_line_not_past_it() {
    // Found by the fuzz test: the parser reports the end of input on the line after it, for
    // a syntax error and for an empty node there (an empty `? ` key).
    assert_config_error(
        "datasets:\n  o:\n    path: o.csv\n    checks: [not_null: x",
        &[
            "error: invalid YAML",
            "--> sluice.yaml:4:",
            "4 |     checks: [not_null: x",
        ],
    );
    assert_config_error(
        "datasets:\n  o: { path: o.csv }\n? ",
        &[
            "error: unknown key `` in the config file\n --> sluice.yaml:3:3",
            "3 | ? \n",
        ],
    );
}

/// A valid config of `n` datasets that refer to each other every way a config can, each
/// reference a name looked up among all datasets: `references` checks and a `parity`,
/// stages reading and writing them, exposures depending on them. Short entries, so the
/// lookups weigh more than the parsing.
fn config_of(n: usize) -> String {
    use std::fmt::Write as _;
    let mut t = String::from("datasets:\n");
    for i in 0..n {
        if i % 8 == 1 {
            let p = i - 1;
            writeln!(t, "  d{i}: {{ path: d{i}.csv, checks: [references: {{ column: c, dataset: d{p} }}], parity: {{ against: d{p}, row_count: true }} }}").unwrap();
        } else {
            writeln!(t, "  d{i}: {{ path: d{i}.csv }}").unwrap();
        }
    }
    t.push_str("stages:\n");
    for i in 8..n {
        let inputs: Vec<String> = (1..=8).map(|k| format!("d{}", i - k)).collect();
        let inputs = inputs.join(", ");
        writeln!(t, "  s{i}: {{ inputs: [{inputs}], outputs: [d{i}] }}").unwrap();
    }
    t.push_str("exposures:\n");
    for i in 0..n {
        writeln!(t, "  e{i}: {{ depends_on: d{i} }}").unwrap();
    }
    t
}

/// CPU time of the calling thread (user + system), from `/proc/thread-self/stat`; `None`
/// where there is no such file. Unlike wall time, it does not count waiting for a core on a
/// busy machine.
fn thread_cpu_time() -> Option<std::time::Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(std::time::Duration::from_millis(ticks * 10)) // USER_HZ = 100
}

/// What `sluice validate` does with a config — load it, then build its lineage graph — and
/// the time it took (CPU time where the platform tells it, else wall time).
fn validate_in_process(text: &str) -> std::time::Duration {
    let (cpu, wall) = (thread_cpu_time(), std::time::Instant::now());
    let config = sluice_app::spec::load_str(
        Path::new("sluice.yaml"),
        text.to_string(),
        &sluice_app::spec::Vars::isolated(Default::default()),
    )
    .map_err(|e| match e {
        sluice_app::spec::SpecError::Invalid(i) => i.render(false),
        e => e.to_string(),
    })
    .unwrap();
    let graph =
        sluice_app::graph::load(&sluice_app::graph::Sources::new(Some(&config), &[], &[])).unwrap();
    assert!(graph.graph.node_count() > config.datasets.len());
    match (cpu, thread_cpu_time()) {
        (Some(a), Some(b)) => b - a,
        _ => wall.elapsed(),
    }
}

#[test]
fn validating_a_config_four_times_larger_takes_about_four_times_longer_not_sixteen() {
    // Name lookups by linear search (duplicate keys, references, parity, stage inputs,
    // exposures) made validation quadratic: a 50 MB config took minutes. Here linear time
    // gives a ratio near 4 (3.7 measured), quadratic near 16 (the old code: 13); the bound
    // leaves room for a noisy machine. CPU time, best of two runs each: ~4 s in debug.
    let n = 1500;
    let (small, large) = (config_of(n), config_of(4 * n));
    let best = |text: &str| (0..2).map(|_| validate_in_process(text)).min().unwrap();
    let (t_small, t_large) = (best(&small), best(&large));
    let ratio = t_large.as_secs_f64() / t_small.as_secs_f64().max(0.001);
    eprintln!(
        "{n} datasets: {t_small:?}, {}: {t_large:?} ({ratio:.1}x)",
        4 * n
    );
    assert!(
        ratio < 8.0,
        "4x the datasets took {ratio:.1}x as long ({t_small:?} -> {t_large:?}): something is quadratic again"
    );
}

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
    // Names long enough that one batch of them is more than the limit: no query over them
    // can finish by spilling, however the memory pool shares itself out under load (with
    // 20-byte names, `unique` sometimes spilled its way through on a busy machine).
    let pad = "x".repeat(120);
    for i in 0..100_000 {
        csv.push_str(&format!("{i},name-{i:08}-{}-{pad}\n", i * 7919 % 100_003));
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

/// A project with one dataset; its state store is wherever the test points it.
const PROJECT: &[(&str, &[u8])] = &[
    (
        "sluice.yaml",
        b"version: 1\ndatasets:\n  orders:\n    path: orders.csv\n    checks:\n      - row_count: { min: 1 }\n",
    ),
    ("orders.csv", b"id\n1\n"),
];

/// Runs the binary in `dir` with the state store on, at `state` (`SLUICE_STATE`).
fn run_with_state(dir: &Path, state: &str, args: &[&str]) -> Output {
    sluice()
        .args(args)
        .current_dir(dir)
        .env_remove("SLUICE_NO_STATE")
        .env("SLUICE_STATE", state)
        .output()
        .unwrap()
}

/// The files in `dir`, with their bytes.
fn snapshot(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            (p.file_name().unwrap().to_string_lossy().into_owned(), bytes)
        })
        .collect();
    files.sort();
    files
}

/// The store used to open any SQLite file: on another application's database it added its
/// tables and switched the file to WAL. It now refuses a file that has tables but no sluice
/// schema before writing anything to it (exit 4); an empty file is still initialised.
#[test]
fn the_state_store_refuses_another_applications_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(d, PROJECT);
    let app = d.join("app.db");
    {
        let c = rusqlite::Connection::open(&app).unwrap();
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
             CREATE TABLE invoices (id INTEGER PRIMARY KEY, user_id INTEGER, total REAL);
             INSERT INTO users VALUES (1, 'ana');",
        )
        .unwrap();
    }
    let before = snapshot(d);

    for args in [&["breaker", "status"][..], &["check"], &["guard", "orders"]] {
        let out = run_with_state(d, "sqlite:app.db", args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{args:?}: {stderr}");
        for needle in [
            app.display().to_string().as_str(),
            "belongs to another application",
            "tables of its own (invoices, users)",
            "no sluice schema",
            "has not changed it",
            "`state:`",
            "SLUICE_STATE",
        ] {
            assert!(
                stderr.contains(needle),
                "{args:?}: `{needle}` missing: {stderr}"
            );
        }
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "nothing ran: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        // Nothing written: the same files with the same bytes (no -wal, no -shm, no
        // journal), still in its own journal mode, with only its own tables.
        assert_eq!(snapshot(d), before, "{args:?} changed the folder");
    }
    let c = rusqlite::Connection::open(&app).unwrap();
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "delete");
    drop(c);

    // The same through `state:` in the config.
    let config = format!(
        "{}state: sqlite:app.db\n",
        String::from_utf8_lossy(PROJECT[0].1)
    );
    write_files(d, &[("sluice.yaml", config.as_bytes())]);
    let before = snapshot(d);
    let (code, transcript) = outcome(d, &["breaker", "status"]);
    assert_eq!(code, 4, "{transcript}");
    assert!(
        transcript.contains("[CASE]/app.db belongs to another application"),
        "{transcript}"
    );
    assert_eq!(snapshot(d), before);

    // An empty file, and a database without tables, are sluice's to initialise.
    std::fs::write(d.join("empty.db"), b"").unwrap();
    rusqlite::Connection::open(d.join("no_tables.db"))
        .unwrap()
        .execute_batch("PRAGMA user_version = 7;")
        .unwrap();
    for file in ["empty.db", "no_tables.db"] {
        let out = run_with_state(d, &format!("sqlite:{file}"), &["breaker", "status"]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let c = rusqlite::Connection::open(d.join(file)).unwrap();
        let n: i64 = c
            .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert!(n > 0, "{file} initialised");
    }
}

/// Whether this process runs as root (the tests do, in CI too).
#[cfg(target_os = "linux")]
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").unwrap().uid() == 0
}

/// The binary, unable to write what the permission bits forbid, even as root.
///
/// Root ignores permission bits, so a `chmod 555` folder is no test by itself. Of the ways
/// to get a place root cannot write — a read-only mount or bind (needs CAP_SYS_ADMIN, which
/// containers lack), `chattr +i` (needs CAP_LINUX_IMMUTABLE and a file system that has the
/// flag; overlayfs and tmpfs may not), `/proc` or `/sys` (no real store can live there) —
/// this one works on any Linux machine where the tests run as root, containers included:
/// `setpriv` (util-linux, on every Debian and Ubuntu) drops CAP_DAC_OVERRIDE,
/// CAP_DAC_READ_SEARCH and CAP_FOWNER from the bounding set before running sluice, so the
/// process keeps uid 0 (the binary and the temp folder stay readable) but obeys the
/// permission bits like the service account that runs sluice in production. This needs
/// CAP_SETPCAP, which root has in Docker's default set too. As another user, the
/// permission bits are enough and sluice runs directly.
#[cfg(target_os = "linux")]
fn without_root_powers(dir: &Path, state: &str, args: &[&str]) -> Output {
    let mut c = if running_as_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--",
            env!("CARGO_BIN_EXE_sluice"),
        ]);
        c
    } else {
        std::process::Command::new(env!("CARGO_BIN_EXE_sluice"))
    };
    // As common::sluice() does, but with the store on.
    for v in [
        "SLUICE_CONFIG",
        "SLUICE_FORMAT",
        "SLUICE_LOG",
        "NO_COLOR",
        "SLUICE_NO_STATE",
    ] {
        c.env_remove(v);
    }
    c.args(args)
        .current_dir(dir)
        .env("SLUICE_STATE", state)
        .output()
        .unwrap_or_else(|e| panic!("cannot run sluice (through setpriv when root): {e}"))
}

/// A store in a read-only folder (or a read-only store file) was reported as SQLite's
/// "unable to open database file" or "attempt to write a readonly database". Now the
/// message names the folder or file, says it is not writable, and how to fix it; exit 4,
/// before anything runs, and nothing is written.
#[cfg(target_os = "linux")]
#[test]
fn a_state_store_that_cannot_be_written_names_the_folder_or_file_and_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    write_files(d, PROJECT);
    let store_dir = d.join(".sluice");
    let store = store_dir.join("state.db");
    // A store as a first run leaves it.
    let out = run_with_state(d, "sqlite:.sluice/state.db", &["breaker", "status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let chmod = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let check = |out: &Output, store: &Path, location: &Path, what: &str| {
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        for needle in [
            format!("cannot open the state store {}", store.display()),
            format!("{what} {} is not writable", location.display()),
            "make it writable".to_string(),
            "SLUICE_STATE".to_string(),
            "--no-state".to_string(),
            "Permission denied".to_string(),
        ] {
            assert!(stderr.contains(&needle), "`{needle}` missing: {stderr}");
        }
        assert!(!stderr.contains("unable to open database file"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "nothing ran: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    };

    // The folder is read-only. First make sure this really is a place sluice cannot write
    // (see `without_root_powers`).
    chmod(&store_dir, 0o555);
    let before = snapshot(&store_dir);
    let mut touch = if running_as_root() {
        let mut c = std::process::Command::new("setpriv");
        c.args([
            "--bounding-set=-dac_override,-dac_read_search,-fowner",
            "--",
            "touch",
        ]);
        c
    } else {
        std::process::Command::new("touch")
    };
    let touched = touch
        .arg(store_dir.join("probe"))
        .output()
        .expect("setpriv (util-linux) runs");
    assert!(
        !touched.status.success(),
        "the read-only folder is writable after all: the test would prove nothing"
    );
    for args in [
        &["breaker", "status"][..],
        &["check"],
        &["breaker", "trip", "orders", "--reason", "x"],
    ] {
        check(
            &without_root_powers(d, "sqlite:.sluice/state.db", args),
            &store,
            &store_dir,
            "its folder",
        );
    }
    assert_eq!(snapshot(&store_dir), before, "nothing written");
    // A new store in that folder: the same, and nothing created.
    check(
        &without_root_powers(d, "sqlite:.sluice/new.db", &["breaker", "status"]),
        &store_dir.join("new.db"),
        &store_dir,
        "its folder",
    );
    assert_eq!(snapshot(&store_dir), before, "nothing created");
    chmod(&store_dir, 0o755);

    // The file is read-only, its folder writable.
    chmod(&store, 0o444);
    let before = snapshot(&store_dir);
    for args in [&["breaker", "status"][..], &["check"]] {
        check(
            &without_root_powers(d, "sqlite:.sluice/state.db", args),
            &store,
            &store,
            "the file",
        );
    }
    assert_eq!(
        snapshot(&store_dir),
        before,
        "nothing written, no -wal or -shm left"
    );
    chmod(&store, 0o644);
    // Writable again, it works.
    let out = without_root_powers(d, "sqlite:.sluice/state.db", &["breaker", "status"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A small file system of its own (tmpfs) whose inodes can run out, mounted for one test
/// and unmounted when dropped. `None` where this process may not mount (not root).
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(inodes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size=16m,nr_inodes={inodes}"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then_some(SmallDisk { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Creates empty files until no inode is left; returns them (to free space later).
    fn fill(&self) -> Vec<std::path::PathBuf> {
        let mut made = Vec::new();
        for i in 0.. {
            let p = self.path().join(format!("filler-{i}"));
            if std::fs::write(&p, b"").is_err() {
                break;
            }
            made.push(p);
        }
        made
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg(self.dir.path())
            .status();
    }
}

/// A full disk in the middle of a publish said neither which path nor where the data was.
/// Now the error names the path, says where the staged data is, and the next publish (with
/// space again) recovers it: nothing is lost.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_during_publish_names_the_path_and_where_the_data_is() {
    let Some(disk) = SmallDisk::mount(64) else {
        eprintln!(
            "skipping a_full_disk_during_publish_names_the_path_and_where_the_data_is: cannot mount a tmpfs here (needs root)"
        );
        return;
    };
    let d = disk.path();
    write_files(
        d,
        &[
            (
                "sluice.yaml",
                b"datasets:\n  f:\n    path: pub/f/\n    staging: stg/f/\n    checks:\n      - row_count\n",
            ),
            ("stg/f/part-0.csv", b"a,b\n1,2\n"),
        ],
    );
    std::fs::create_dir_all(d.join("pub")).unwrap();
    // The state store lives elsewhere: it is the data's disk that fills up.
    let state_dir = tempfile::tempdir().unwrap();
    let state = format!("sqlite:{}", state_dir.path().join("state.db").display());
    let publish = || {
        sluice()
            .args(["--color", "never", "publish", "f"])
            .current_dir(d)
            .env_remove("SLUICE_NO_STATE")
            .env("SLUICE_STATE", &state)
            .output()
            .unwrap()
    };
    let o = publish();
    assert_eq!(o.status.code(), Some(0), "{}", transcript(&o, d));
    // New data staged, then the disk is full: the switch to v2 needs a new link.
    write_files(d, &[("stg/f/part-0.csv", b"a,b\n3,4\n")]);
    let fillers = disk.fill();
    let o = publish();
    let out = transcript(&o, d);
    assert_eq!(o.status.code(), Some(4), "{out}");
    assert!(out.contains("No space left on device"), "{out}");
    assert!(out.contains("cannot point [CASE]/pub/f at v2"), "{out}");
    assert!(
        out.contains("the staged data is at [CASE]/pub/.f.versions/v2"),
        "{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
    // Readers still see v1; the new data is where the message says.
    let read = |p: &str| std::fs::read_to_string(d.join(p)).ok();
    assert_eq!(read("pub/f/part-0.csv").as_deref(), Some("a,b\n1,2\n"));
    assert_eq!(
        read("pub/.f.versions/v2/part-0.csv").as_deref(),
        Some("a,b\n3,4\n")
    );
    // With space again, the next publish recovers it and publishes it.
    for f in fillers {
        std::fs::remove_file(f).unwrap();
    }
    let o = publish();
    let out = transcript(&o, d);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("recovered an interrupted publish"), "{out}");
    assert_eq!(read("pub/f/part-0.csv").as_deref(), Some("a,b\n3,4\n"));
}

// ---- the command line -----------------------------------------------------------------

const SMALL: &str = "version: 1\ndatasets:\n  orders:\n    path: orders.csv\n    checks:\n      - row_count: { min: 1 }\n";

fn small_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_files(
        dir.path(),
        &[
            ("sluice.yaml", SMALL.as_bytes()),
            ("orders.csv", b"id,amount\n1,10\n"),
        ],
    );
    dir
}

/// Runs the binary in `dir` with stdout going to `stdout`.
fn run_to(dir: &Path, args: &[&str], stdout: std::process::Stdio) -> Output {
    sluice()
        .args(args)
        .current_dir(dir)
        .stdout(stdout)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A stdout whose reader has already gone: every write fails with EPIPE.
fn closed_pipe() -> std::process::Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

fn dev_full() -> std::process::Stdio {
    std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap()
        .into()
}

#[test]
fn every_command_ends_quietly_when_its_reader_leaves() {
    let p = small_project();
    let d = p.path();
    for (args, code) in [
        (&["validate"][..], 0),
        (&["check"][..], 0),
        (&["check", "--format", "json"][..], 0),
        (&["impact", "orders"][..], 0),
        (&["lineage", "show"][..], 0),
        (&["breaker", "status"][..], 0),
        (&["guard", "orders"][..], 0),
    ] {
        let o = run_to(d, args, closed_pipe());
        assert_eq!(o.status.code(), Some(code), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}: quiet");
    }
}

#[test]
fn a_failed_write_to_stdout_exits_4_and_says_so() {
    let p = small_project();
    let d = p.path();
    // `validate > /dev/full` used to panic in println!; `breaker status > /dev/full` exited 0.
    for args in [
        &["validate"][..],
        &["check"][..],
        &["impact", "orders"][..],
        &["breaker", "status"][..],
        &["breaker", "history", "orders"][..],
        &["guard", "orders"][..],
    ] {
        let o = run_to(d, args, dev_full());
        assert_eq!(o.status.code(), Some(4), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(
            err.contains("error: cannot write to stdout"),
            "{args:?}: {err}"
        );
        assert!(err.contains("No space left on device"), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
}

#[test]
fn output_onto_a_device_or_a_symlink_is_refused_and_leaves_it_alone() {
    let p = small_project();
    let d = p.path();
    // A device node: refused before anything runs, and still a device.
    let (code, out) = outcome(d, &["check", "--output", "/dev/null"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("--output /dev/null is a device"), "{out}");
    use std::os::unix::fs::FileTypeExt;
    assert!(
        std::fs::metadata("/dev/null")
            .unwrap()
            .file_type()
            .is_char_device()
    );
    // A symbolic link: refused; the link and the file it points at are untouched.
    std::fs::write(d.join("target.txt"), "keep me").unwrap();
    std::os::unix::fs::symlink("target.txt", d.join("report.json")).unwrap();
    let (code, out) = outcome(d, &["check", "--format", "json", "--output", "report.json"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is a symbolic link"), "{out}");
    let meta = std::fs::symlink_metadata(d.join("report.json")).unwrap();
    assert!(meta.file_type().is_symlink());
    assert_eq!(
        std::fs::read_to_string(d.join("target.txt")).unwrap(),
        "keep me"
    );
    // A folder, for the lineage commands too.
    std::fs::create_dir(d.join("out")).unwrap();
    let (code, out) = outcome(d, &["impact", "orders", "--output", "out"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("is a folder"), "{out}");
    // A regular file is replaced; a new path is created.
    std::fs::write(d.join("old.json"), "old").unwrap();
    let (code, out) = outcome(d, &["check", "--format", "json", "--output", "old.json"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        std::fs::read_to_string(d.join("old.json"))
            .unwrap()
            .contains("\"run_id\"")
    );
}

#[test]
fn a_failed_report_write_exits_4() {
    let p = small_project();
    let d = p.path();
    let (code, out) = outcome(d, &["check", "--output", "no/such/folder/r.json"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains("cannot write the report to no/such/folder/r.json"),
        "{out}"
    );
}

// ---- lineage --------------------------------------------------------------------------

/// `sluice impact -f json` gave every hit its whole path from the root: on a chain N deep
/// that is N(N+1)/2 names (5,000 deep: 200 MB). Each hit now names the node it is reached
/// from (`via`), and whole paths come only with `--paths`.
#[test]
fn impact_json_grows_linearly_with_the_depth_of_a_chain() {
    const N: usize = 1000;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A dbt manifest of one chain, m0 -> m1 -> ... -> mN.
    let mut nodes = serde_json::Map::new();
    let mut parents = serde_json::Map::new();
    for i in 0..=N {
        let id = format!("model.chain.m{i}");
        nodes.insert(
            id.clone(),
            serde_json::json!({"resource_type": "model", "name": format!("m{i}"),
                               "package_name": "chain", "fqn": ["chain", format!("m{i}")]}),
        );
        let parent: Vec<String> = (i > 0)
            .then(|| format!("model.chain.m{}", i - 1))
            .into_iter()
            .collect();
        parents.insert(id, serde_json::json!(parent));
    }
    let manifest = serde_json::json!({
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"},
        "nodes": nodes,
        "parent_map": parents,
    });
    write_files(d, &[("manifest.json", manifest.to_string().as_bytes())]);
    let args = [
        "impact",
        "m0",
        "--dbt-manifest",
        "manifest.json",
        "-f",
        "json",
    ];

    let out = run_in(d, &args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // About 215 bytes a hit; with paths it was ~8 MB for this chain.
    assert!(
        out.stdout.len() < 300 * N,
        "{} bytes of JSON for {N} hits",
        out.stdout.len()
    );
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hits = j["impacted"].as_array().unwrap();
    assert_eq!(hits.len(), N);
    assert!(hits.iter().all(|h| h.get("path").is_none()));
    let via: std::collections::HashMap<&str, &str> = hits
        .iter()
        .map(|h| (h["name"].as_str().unwrap(), h["via"].as_str().unwrap()))
        .collect();
    // From the deepest hit, `via` leads back to the root in N steps.
    let deepest = hits.iter().find(|h| h["name"] == format!("m{N}")).unwrap();
    assert_eq!(deepest["depth"], N);
    let (mut at, mut steps) = (format!("m{N}"), 0);
    while at != "m0" {
        assert_eq!(via[at.as_str()], format!("m{}", N - steps - 1));
        at = via[at.as_str()].to_string();
        steps += 1;
    }
    assert_eq!(steps, N);

    // --paths: the whole path of each hit, as before.
    let mut with_paths = args.to_vec();
    with_paths.push("--paths");
    let out = run_in(d, &with_paths);
    assert_eq!(out.status.code(), Some(0));
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let deepest = j["impacted"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == format!("m{N}"))
        .unwrap();
    let path: Vec<String> = (0..=N).map(|i| format!("m{i}")).collect();
    assert_eq!(deepest["path"], serde_json::json!(path));
    assert_eq!(deepest["via"], format!("m{}", N - 1));
}

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

/// Bug: `completeness` with a `where` on one of its key columns errored with "Ambiguous
/// reference to unqualified field": the scope was applied after the joins with the grid.
#[test]
fn completeness_where_on_a_key_column_is_not_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.csv"),
        "location,horizon\nUS,1\nUS,2\nCA,1\nCA,9\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("sluice.yaml"),
        "version: 1\ndatasets:\n  f:\n    path: f.csv\n    checks:\n      - completeness:\n          where: \"horizon < 5\"\n          keys: { location: [US, CA], horizon: [1, 2] }\n",
    )
    .unwrap();
    let out = common::sluice()
        .args(["check", "--format", "json"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let check = &report["checks"][0];
    assert_eq!(check["status"], "fail", "{check:#}");
    assert_eq!(
        check["message"],
        "1 failing of 4 required combinations of (location, horizon): 1 missing, 0 duplicate rows (where horizon < 5)"
    );
}
