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
    let config = sluice_spec::load_str(
        Path::new("sluice.yaml"),
        text.to_string(),
        &sluice_spec::Vars::isolated(Default::default()),
    )
    .map_err(|e| match e {
        sluice_spec::SpecError::Invalid(i) => i.render(false),
        e => e.to_string(),
    })
    .unwrap();
    let graph =
        sluice_lineage::load(&sluice_lineage::Sources::new(Some(&config), &[], &[])).unwrap();
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

// ---- the state store and publishing ---------------------------------------------------

// ---- the command line -----------------------------------------------------------------
