//! The SQL lineage case suite: statements with the tables they read and write, written
//! from each dialect's documentation, one file per dialect in `tests/sql_cases/`.
//!
//! A case is a `-- case: NAME` line, then `-- reads:`, `-- writes:` and optionally
//! `-- self_reads:` (comma-separated, empty for none), then the SQL up to the next case.

use std::path::Path;

use sluice_lineage::import::sql::table_flow;
use sluice_spec::Dialect;

struct Case {
    file: String,
    line: usize,
    name: String,
    dialect: Dialect,
    sql: String,
    reads: Vec<String>,
    writes: Vec<String>,
    self_reads: Vec<String>,
}

fn list(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect();
    v.sort();
    v
}

fn cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql_cases");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().to_string();
        let dialect = Dialect::parse(&stem).unwrap_or_else(|| panic!("{stem}: not a dialect"));
        let text = std::fs::read_to_string(&path).unwrap();
        let mut cur: Option<Case> = None;
        for (i, line) in text.lines().enumerate() {
            if let Some(name) = line.strip_prefix("-- case:") {
                out.extend(cur.take());
                cur = Some(Case {
                    file: format!("{stem}.sql"),
                    line: i + 1,
                    name: name.trim().to_string(),
                    dialect,
                    sql: String::new(),
                    reads: vec![],
                    writes: vec![],
                    self_reads: vec![],
                });
                continue;
            }
            let c = cur.as_mut().expect("a case starts each file");
            if let Some(v) = line.strip_prefix("-- reads:") {
                c.reads = list(v);
            } else if let Some(v) = line.strip_prefix("-- writes:") {
                c.writes = list(v);
            } else if let Some(v) = line.strip_prefix("-- self_reads:") {
                c.self_reads = list(v);
            } else {
                c.sql.push_str(line);
                c.sql.push('\n');
            }
        }
        out.extend(cur);
    }
    out
}

#[test]
fn every_case_of_the_suite_gets_its_inputs_and_outputs() {
    let all = cases();
    let mut failures = Vec::new();
    for c in &all {
        match table_flow(&c.sql, c.dialect) {
            Ok(f) => {
                let got = (f.reads, f.writes, f.self_reads);
                let want = (c.reads.clone(), c.writes.clone(), c.self_reads.clone());
                if got != want {
                    failures.push(format!(
                        "{}:{} {} ({}): got reads {:?} writes {:?} self_reads {:?}, want reads {:?} writes {:?} self_reads {:?}",
                        c.file, c.line, c.name, c.dialect, got.0, got.1, got.2, want.0, want.1, want.2
                    ));
                }
            }
            Err(e) => failures.push(format!(
                "{}:{} {} ({}): does not parse: {} at {:?}",
                c.file, c.line, c.name, c.dialect, e.message, e.pos
            )),
        }
    }
    eprintln!(
        "SQL lineage cases: {} of {} pass",
        all.len() - failures.len(),
        all.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
