//! Fuzzing the config loader: mutated real configs must never panic, hang or blow up memory,
//! and every error must point at a place in the file.
//!
//! The seeds are the repository's configs (`examples/*/sluice.yaml`, `tests/cases/**/
//! sluice.yaml`). Each iteration takes one, applies one to four mutations — deleting,
//! duplicating or swapping lines, changing a value's type (string, number, list, mapping,
//! null), inserting random bytes, nesting deeply, huge or non-finite numbers and durations,
//! anchors and aliases (alias bombs included), `${VAR}`s — and loads the result with
//! [`sluice_spec::load_str`] (as if at the seed's path, so `sql_file:` and `lineage:` files
//! resolve), then renders its diagnostics as the CLI does. It asserts, per input:
//!
//! - no panic (each load runs under `catch_unwind`; the failing input is printed);
//! - at most [`TIME_LIMIT`] of CPU time (debug build);
//! - every diagnostic of an invalid config has a span inside the file (line:col), and the
//!   error is never [`SpecError::Read`] (nothing is read but the text given);
//!
//! and at the end, that the process's peak memory (`VmHWM`) stayed under [`MEMORY_LIMIT`].
//!
//! The PRNG is a fixed-seed SplitMix64, so a run is reproducible: `SLUICE_FUZZ_ITERATIONS`
//! (default [`DEFAULT_ITERATIONS`]) sets how many inputs, `SLUICE_FUZZ_SEED` the seed
//! (default 1). A failure prints the iteration, the seed config and the mutated text; an
//! abort (out of memory) cannot, so `SLUICE_FUZZ_TRACE=1` names each input before loading.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use sluice_spec::{SpecError, Vars};

/// Inputs per run by default: well under 30 s in a debug build.
const DEFAULT_ITERATIONS: u64 = 1500;

/// CPU time one input may take (debug build). An alias bomb stopped at the limit takes
/// about half a second.
const TIME_LIMIT: Duration = Duration::from_secs(2);

/// Peak resident memory of the whole run (bombs stop at a million nodes: ~100 MB).
const MEMORY_LIMIT_KB: u64 = 1 << 20;

/// SplitMix64: small, fast and good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// The repository's configs: (path, text).
fn seeds() -> Vec<(PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths = Vec::new();
    for dir in ["examples", "tests/cases"] {
        collect(&root.join(dir), &mut paths);
    }
    paths.sort();
    let seeds: Vec<(PathBuf, String)> = paths
        .into_iter()
        .filter_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
        .collect();
    assert!(
        seeds.len() >= 3,
        "no seed configs found under {}",
        root.display()
    );
    seeds
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.file_name().is_some_and(|n| n == "sluice.yaml") {
            out.push(p);
        }
    }
}

/// Values of every type and of troublesome sizes, to put where a value was.
const VALUES: &[&str] = &[
    "x",
    "''",
    "\"\"",
    "'quoted text'",
    "0",
    "-1",
    "1.5",
    "1e3",
    "99999999999999999999",
    "-9223372036854775808",
    "9223372036854775807",
    "1e308",
    "1e999",
    "-1e999",
    ".nan",
    ".inf",
    "-.inf",
    "0x1F",
    "0o17",
    "true",
    "false",
    "null",
    "~",
    "[]",
    "{}",
    "[a, b]",
    "[1, 2, 3]",
    "[[1], [2]]",
    "{ a: 1 }",
    "{ column: x }",
    "{ min: 1, max: 0 }",
    "99999999999999w",
    "1e20",
    "6h",
    "-5m",
    "'2024-02-30'",
    "'2024-13-01T25:61:61'",
    "'2024-02-29'",
    "'${UNDEFINED}'",
    "'${DS}'",
    "'${'",
    "'${a b}'",
    "'$$'",
    "!!str 12",
    "!!binary aGVsbG8=",
    "&anchor x",
    "*undefined_alias",
    "|\n  block\n  text",
    "'é漢字🙂'",
    "'a\tb'",
    "sqlite:",
    "postgres://u:p@h/db",
    "s3://bucket/key",
    "/",
    "..",
    "../../../../etc",
];

/// Keys, some valid somewhere, some not.
const KEYS: &[&str] = &[
    "path",
    "staging",
    "checks",
    "parity",
    "min",
    "max",
    "between",
    "equals",
    "max_age",
    "max_invalid",
    "max_invalid_pct",
    "tolerance",
    "column",
    "columns",
    "values",
    "name",
    "severity",
    "where",
    "samples",
    "warn",
    "fail",
    "breaker",
    "reset",
    "trip_after",
    "keep_versions",
    "state",
    "quarantine",
    "lineage",
    "stages",
    "exposures",
    "reconcile",
    "inputs",
    "outputs",
    "depends_on",
    "sql",
    "sql_file",
    "format",
    "csv",
    "partitions",
    "datasets",
    "defaults",
    "version",
    "tier",
    "key",
    "regex",
    "condition",
    "against",
    "keys",
    "compare",
    "mapping",
    "dbt",
    "unknown_key",
    "<<",
    "? complex",
];

/// Lines of the text, keeping their line breaks.
fn lines(text: &str) -> Vec<String> {
    text.split_inclusive('\n').map(str::to_string).collect()
}

/// The position of a value on `line` (after `key: ` or `- `), if it has one.
fn value_start(line: &str) -> Option<usize> {
    if let Some(i) = line.find(": ") {
        return Some(i + 2);
    }
    let trimmed = line.trim_start();
    trimmed
        .starts_with("- ")
        .then(|| line.len() - trimmed.len() + 2)
}

/// A value of the same shape as `value` (a duration, a number, a date, a flow mapping's
/// numbers), at an extreme.
fn extreme_of(rng: &mut Rng, value: &str) -> String {
    const DURATIONS: &[&str] = &[
        "99999999999999w",
        "'1e20'",
        "1e20",
        "18446744073709551616s",
        "0s",
        "52001w",
        "1.5e300d",
    ];
    const NUMBERS: &[&str] = &[
        "1e999",
        "-1e999",
        ".nan",
        ".inf",
        "-.inf",
        "99999999999999999999999",
        "-9223372036854775808",
        "1e308",
        "-0",
        "0.000000000000000000001",
    ];
    const DATES: &[&str] = &[
        "'2024-02-30'",
        "'2023-02-29'",
        "'2024-13-01'",
        "'2024-00-01'",
        "'2024-01-01T24:00:00'",
        "'2024-01-01 10:61'",
        "'9999-12-31T23:59:59.999999999Z'",
        "'0000-01-01'",
    ];
    let v = value.trim_matches(['\'', '"']);
    let is_duration = !v.is_empty()
        && v.ends_with(|c: char| c.is_ascii_alphabetic())
        && v.starts_with(|c: char| c.is_ascii_digit());
    let is_date = v.len() >= 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-';
    if is_duration {
        rng.pick(DURATIONS).to_string()
    } else if is_date {
        rng.pick(DATES).to_string()
    } else if v.parse::<f64>().is_ok() {
        rng.pick(NUMBERS).to_string()
    } else if value.starts_with('{') || value.starts_with('[') {
        // Every number inside a flow collection.
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
            let end = rest[start..]
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '-'))
                .map_or(rest.len(), |e| start + e);
            out.push_str(&rest[..start]);
            out.push_str(&extreme_of(rng, &rest[start..end]));
            rest = &rest[end..];
        }
        out.push_str(rest);
        out
    } else {
        rng.pick(VALUES).to_string()
    }
}

/// An alias bomb: `levels` levels of `width` aliases each.
fn bomb(levels: usize, width: usize) -> String {
    let mut text = format!("bomb_0: &b0 [{}]\n", vec!["lol"; width].join(", "));
    for l in 1..levels {
        let items = vec![format!("*b{}", l - 1); width].join(", ");
        text.push_str(&format!("bomb_{l}: &b{l} [{items}]\n"));
    }
    text
}

/// One mutation of `text`.
fn mutate(rng: &mut Rng, text: &str) -> String {
    let mut ls = lines(text);
    if ls.is_empty() {
        ls.push("\n".into());
    }
    let i = rng.below(ls.len());
    match rng.below(19) {
        // Delete a line, or a run of them.
        0 => {
            let n = 1 + rng.below(4);
            ls.drain(i..(i + n).min(ls.len()));
        }
        // Duplicate a line or a block (duplicate keys, names, checks).
        1 => {
            let n = 1 + rng.below(6);
            let block: Vec<String> = ls[i..(i + n).min(ls.len())].to_vec();
            let at = rng.below(ls.len() + 1);
            ls.splice(at..at, block);
        }
        // Swap two lines.
        2 => {
            let j = rng.below(ls.len());
            ls.swap(i, j);
        }
        // Change a value's type or size.
        3..=5 => {
            if let Some(at) = value_start(&ls[i]) {
                let newline = if ls[i].ends_with('\n') { "\n" } else { "" };
                let v = rng.pick(VALUES);
                ls[i] = format!("{}{v}{newline}", &ls[i][..at]);
            }
        }
        // Change a key.
        6 => {
            if let Some(colon) = ls[i].find(':') {
                let indent = ls[i].len() - ls[i].trim_start().len();
                let dash = if ls[i].trim_start().starts_with("- ") {
                    "- "
                } else {
                    ""
                };
                let k = rng.pick(KEYS);
                ls[i] = format!("{}{dash}{k}{}", &ls[i][..indent], &ls[i][colon..]);
            }
        }
        // Insert a key with a value, at some indentation.
        7 => {
            let indent = " ".repeat(rng.below(4) * 2);
            let line = format!("{indent}{}: {}\n", rng.pick(KEYS), rng.pick(VALUES));
            ls.insert(i, line);
        }
        // Random bytes (as text: the loader is given a String).
        8 => {
            let n = 1 + rng.below(12);
            let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            let noise = String::from_utf8_lossy(&bytes).into_owned();
            let line = &ls[i];
            let mut at = rng.below(line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            ls[i] = format!("{}{noise}{}", &line[..at], &line[at..]);
        }
        // Deep nesting, in flow style or in blocks.
        9 => {
            let depth = 1 + rng.below(300);
            if let Some(at) = value_start(&ls[i]) {
                let newline = if ls[i].ends_with('\n') { "\n" } else { "" };
                let (open, close) = if rng.chance(2) {
                    ("[", "]")
                } else {
                    ("{a: ", "}")
                };
                ls[i] = format!(
                    "{}{}1{}{newline}",
                    &ls[i][..at],
                    open.repeat(depth),
                    close.repeat(depth)
                );
            } else {
                let block: String = (1..=depth)
                    .map(|d| format!("{}- \n", "  ".repeat(d)))
                    .collect();
                ls.insert(i, format!("deep:\n{block}"));
            }
        }
        // An extreme of the value's own shape: a duration far too long, a number too large
        // or not finite, a date that does not exist.
        10 | 16..=18 => {
            if let Some(at) = value_start(&ls[i]) {
                let newline = if ls[i].ends_with('\n') { "\n" } else { "" };
                let value = ls[i][at..].trim().to_string();
                let extreme = extreme_of(rng, &value);
                ls[i] = format!("{}{extreme}{newline}", &ls[i][..at]);
            }
        }
        // Anchor a value and alias it elsewhere.
        11 => {
            if let Some(at) = value_start(&ls[i]) {
                let name = format!("a{}", rng.below(3));
                ls[i] = format!("{}&{name} {}", &ls[i][..at], &ls[i][at..]);
                let j = rng.below(ls.len());
                if let Some(at) = value_start(&ls[j]) {
                    let newline = if ls[j].ends_with('\n') { "\n" } else { "" };
                    ls[j] = format!("{}*{name}{newline}", &ls[j][..at]);
                }
            }
        }
        // An alias bomb: usually small (under the limit), sometimes a billion laughs.
        12 => {
            let (levels, width) = if rng.chance(8) {
                (9, 9)
            } else {
                (1 + rng.below(5), 1 + rng.below(9))
            };
            ls.insert(0, bomb(levels, width));
            if rng.chance(2) {
                // Use it where a value goes, too.
                if let Some(at) = value_start(&ls[i.min(ls.len() - 1)]) {
                    let j = i.min(ls.len() - 1);
                    let newline = if ls[j].ends_with('\n') { "\n" } else { "" };
                    ls[j] = format!("{}*b{}{newline}", &ls[j][..at], levels - 1);
                }
            }
        }
        // Truncate the file somewhere.
        13 => {
            let cut: String = ls.concat();
            let mut at = rng.below(cut.len() + 1);
            while !cut.is_char_boundary(at) {
                at -= 1;
            }
            return cut[..at].to_string();
        }
        // Re-indent a line.
        14 => {
            let trimmed = ls[i].trim_start().to_string();
            ls[i] = format!("{}{trimmed}", " ".repeat(rng.below(12)));
        }
        // A second document, a tab, a BOM, a lone quote or bracket.
        _ => {
            let junk = [
                "---\n",
                "\t",
                "\u{feff}",
                "'",
                "\"",
                "[",
                "{",
                "]",
                "}",
                "#",
                "%YAML 1.2\n",
                "? ",
                ": ",
                "- ",
                "&",
                "*",
                "!",
                "|",
                ">",
            ];
            let j = rng.pick(&junk);
            let line = &ls[i];
            let mut at = rng.below(line.len() + 1);
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            ls[i] = format!("{}{j}{}", &line[..at], &line[at..]);
        }
    }
    ls.concat()
}

/// CPU time of this thread, from `/proc/thread-self/stat` (10 ms ticks); wall time where
/// there is no such file.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let fields: Vec<&str> = stat[stat.rfind(')')? + 2..].split(' ').collect();
    let ticks = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// Peak resident memory of this process in kB (`VmHWM`), where the platform says.
fn peak_memory_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Loads `text`: whether it is a valid config, or what is wrong with how it was refused
/// (a panic is caught by the caller).
fn check_one(path: &Path, text: &str) -> Result<bool, String> {
    let vars = Vars::isolated([("DS".to_string(), "2025-01-01".to_string())].into());
    // Lines as YAML counts them: `\n`, `\r\n` or a lone `\r` ends one.
    let line_count = 1 + text.replace("\r\n", "\n").matches(['\n', '\r']).count() as u32;
    match sluice_spec::load_str(path, text.to_string(), &vars) {
        Ok(_) => Ok(true),
        Err(SpecError::Invalid(inv)) => {
            if inv.diagnostics.is_empty() {
                return Err("an invalid config without diagnostics".into());
            }
            for d in &inv.diagnostics {
                let Some(span) = d.span else {
                    return Err(format!("diagnostic without a location: {}", d.message));
                };
                let line_len = inv.file.line(span.start.line).chars().count() as u32;
                if span.start.line == 0
                    || span.start.col == 0
                    || span.start.line > line_count
                    || span.start.col > line_len + 1
                {
                    return Err(format!(
                        "diagnostic located outside the file ({}:{}; {line_count} lines, that one {line_len} characters): {}",
                        span.start.line, span.start.col, d.message
                    ));
                }
            }
            // What the CLI prints must render too.
            let rendered = inv.render(false);
            if rendered.is_empty() {
                return Err("empty rendering".into());
            }
            Ok(false)
        }
        Err(e) => Err(format!("unexpected error kind: {e}")),
    }
}

#[test]
fn mutated_configs_never_panic_hang_or_lose_the_location_of_an_error() {
    let iterations = env_u64("SLUICE_FUZZ_ITERATIONS", DEFAULT_ITERATIONS);
    let seed = env_u64("SLUICE_FUZZ_SEED", 1);
    // An allocation failure aborts the process with no report: this names each input first.
    let trace = std::env::var_os("SLUICE_FUZZ_TRACE").is_some();
    let seeds = seeds();
    let mut rng = Rng(seed);
    let started = Instant::now();
    let mut invalid = 0;
    let mut slowest = (Duration::ZERO, 0);
    for iteration in 0..iterations {
        let (path, original) = rng.pick(&seeds);
        let mut text = original.clone();
        for _ in 0..1 + rng.below(4) {
            text = mutate(&mut rng, &text);
        }
        let report = |what: &str| {
            let shown: String = text.chars().take(4000).collect();
            panic!(
                "iteration {iteration} (SLUICE_FUZZ_SEED={seed}), seed config {}: {what}\n--- input ({} bytes, first 4000 chars) ---\n{shown}\n---",
                path.display(),
                text.len()
            )
        };
        if trace {
            eprintln!("fuzz #{iteration}: {}", path.display());
        }
        let (cpu0, wall0) = (cpu_time(), Instant::now());
        let outcome = catch_unwind(AssertUnwindSafe(|| check_one(path, &text)));
        let took = match (cpu0, cpu_time()) {
            (Some(a), Some(b)) => b - a,
            _ => wall0.elapsed(),
        };
        match outcome {
            Err(_) => report("the loader panicked (message above)"),
            Ok(Err(problem)) => report(&problem),
            Ok(Ok(valid)) => invalid += usize::from(!valid),
        }
        if took > TIME_LIMIT {
            report(&format!("took {took:?} of CPU time (limit {TIME_LIMIT:?})"));
        }
        if took > slowest.0 {
            slowest = (took, iteration);
        }
    }
    let peak = peak_memory_kb();
    eprintln!(
        "fuzz: {iterations} inputs (seed {seed}) in {:.1?}, {invalid} invalid; slowest {:?} (#{}); peak memory {} kB",
        started.elapsed(),
        slowest.0,
        slowest.1,
        peak.map_or("?".into(), |p| p.to_string())
    );
    if let Some(peak) = peak {
        assert!(
            peak < MEMORY_LIMIT_KB,
            "peak memory {peak} kB over {MEMORY_LIMIT_KB} kB"
        );
    }
}
