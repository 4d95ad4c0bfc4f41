//! The human report: a header per dataset, one line per check with its coloured status,
//! the observed value against the threshold, samples under failed checks, and a summary.
//!
//! ```text
//! orders  data/orders.parquet · parquet · 5000 rows · 12 ms
//!   PASS   row_count                5000 rows  (>= 1)
//!   FAIL   not_null(customer_id)    42 of 5000 rows have customer_id NULL  (max_invalid = 0)
//!            order_id  customer_id
//!            17        null
//!
//! 2 checks: 1 passed, 0 warned, 1 failed, 0 errors · 1 dataset · 0.02 s
//! ```
//!
//! A skipped check shows `SKIP` and why (`skipped: schema failed`); the summary adds
//! `, N skipped` when there are any.

use std::fmt::Write;

use sluice_app::engine::observed::{ParityObserved, ReconcileObserved};
use sluice_app::engine::{CheckResult, CheckStatus, RunReport, RunStatus};

use super::{Style, cell, groups, sample_columns};

fn status(st: &Style, s: CheckStatus) -> String {
    let (word, code) = match s {
        CheckStatus::Pass => ("PASS ", "32"),
        CheckStatus::Warn => ("WARN ", "33"),
        CheckStatus::Fail => ("FAIL ", "1;31"),
        CheckStatus::Error => ("ERROR", "1;35"),
        CheckStatus::Skipped => ("SKIP ", "36"),
    };
    st.paint(code, word)
}

/// Thousands separators for row counts: 5000000 -> 5,000,000.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn samples(out: &mut String, st: &Style, c: &CheckResult) {
    if c.samples.is_empty() {
        return;
    }
    let cols = sample_columns(&c.samples);
    let grid: Vec<Vec<String>> = c
        .samples
        .iter()
        .map(|row| {
            cols.iter()
                .map(|k| cell(row.get(*k).unwrap_or(&serde_json::Value::Null)))
                .collect()
        })
        .collect();
    let widths: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, k)| {
            grid.iter()
                .map(|r| r[i].chars().count())
                .chain([k.chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |vals: Vec<String>| -> String {
        vals.iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count())))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    let header = line(cols.iter().map(|k| k.to_string()).collect());
    let _ = writeln!(out, "           {}", st.paint("2", &header));
    for r in grid {
        let _ = writeln!(out, "           {}", line(r));
    }
}

/// Rows of cells as aligned lines, indented under a check; the first row dimmed.
fn table(out: &mut String, st: &Style, rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..rows.iter().map(Vec::len).max().unwrap_or(0))
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (n, r) in rows.iter().enumerate() {
        let line = r
            .iter()
            .zip(&widths)
            .map(|(v, w)| format!("{v}{}", " ".repeat(w - v.chars().count())))
            .collect::<Vec<_>>()
            .join("  ");
        let line = line.trim_end();
        let _ = writeln!(
            out,
            "           {}",
            if n == 0 {
                st.paint("2", line)
            } else {
                line.to_string()
            }
        );
    }
}

fn num_cell(v: Option<&serde_json::Value>) -> String {
    match v {
        Some(serde_json::Value::Number(n)) if n.is_u64() || n.is_i64() => {
            thousands_signed(n.as_i64().unwrap_or(0))
        }
        Some(v) => cell(v),
        None => String::new(),
    }
}

fn thousands_signed(n: i64) -> String {
    if n < 0 {
        format!("-{}", thousands(n.unsigned_abs()))
    } else {
        thousands(n as u64)
    }
}

/// A parity check: the aggregates side by side, the keyed diff's counts, one line per
/// sample (`changed` lines show only the columns that differ, `source → target`).
fn parity(out: &mut String, st: &Style, c: &CheckResult) {
    let Some(o) = ParityObserved::of(c) else {
        return;
    };
    let (src, tgt) = (o.source.as_str(), o.target.as_str());
    let mut rows = vec![vec![
        "".to_string(),
        src.to_string(),
        tgt.to_string(),
        "diff".into(),
        "tolerance".into(),
    ]];
    if let Some(rc) = &o.row_count {
        rows.push(vec![
            mark(rc.ok) + "row_count",
            thousands(rc.source),
            thousands(rc.target),
            thousands_signed(rc.diff),
            cell(&rc.tolerance.as_str().into()),
        ]);
    }
    for a in &o.aggregates {
        rows.push(vec![
            mark(a.ok) + &a.metric,
            num_cell(Some(&a.source)),
            num_cell(Some(&a.target)),
            num_cell(Some(&a.diff)),
            cell(&a.tolerance.as_str().into()),
        ]);
    }
    if rows.len() > 1 {
        table(out, st, &rows);
    }
    if let Some(g) = &o.groups {
        let _ = writeln!(
            out,
            "           {}",
            st.paint(
                "2",
                &format!(
                    "by {}: {} groups, {} out of tolerance, {} only in {src}, {} only in {tgt}",
                    g.group_by
                        .iter()
                        .map(|c| cell(&c.as_str().into()))
                        .collect::<Vec<_>>()
                        .join(", "),
                    thousands(g.groups as u64),
                    thousands(g.out_of_tolerance),
                    thousands(g.source_only),
                    thousands(g.target_only)
                )
            )
        );
        for w in &g.worst {
            let group: Vec<String> = w
                .group
                .iter()
                .map(|(k, v)| format!("{k}={}", cell(v)))
                .collect();
            let _ = writeln!(
                out,
                "           {}  {}  {} → {} ({})",
                group.join(" "),
                cell(&w.metric.as_str().into()),
                cell(&w.source),
                cell(&w.target),
                cell(&w.diff)
            );
        }
    }
    let keys: &[String] = o.rows.as_ref().map_or(&[], |r| &r.keys);
    let mut lines = Vec::new();
    for s in &c.samples {
        let kind = s.get("diff").and_then(|v| v.as_str()).unwrap_or("");
        let key: Vec<String> = keys
            .iter()
            .map(|k| format!("{k}={}", cell(s.get(k).unwrap_or(&serde_json::Value::Null))))
            .collect();
        let detail = match kind {
            "changed" => s
                .iter()
                .filter_map(|(k, v)| k.strip_suffix(&format!(" ({src})")).map(|col| (col, v)))
                .map(|(col, v)| {
                    let t = s
                        .get(&format!("{col} ({tgt})"))
                        .unwrap_or(&serde_json::Value::Null);
                    format!("{col}: {} → {}", cell(v), cell(t))
                })
                .collect::<Vec<_>>()
                .join("  "),
            "duplicate" => format!(
                "{}× in {}",
                num_cell(s.get("occurrences")),
                cell(s.get("side").unwrap_or(&serde_json::Value::Null))
            ),
            "missing" => format!("only in {src}"),
            "extra" => format!("only in {tgt}"),
            _ => String::new(),
        };
        lines.push(vec![kind.to_string(), key.join(" "), detail]);
    }
    if !lines.is_empty() {
        let mut rows = vec![vec!["diff".to_string(), "key".into(), "".into()]];
        rows.extend(lines);
        table(out, st, &rows);
    }
}

/// `✗ ` before a part that is out of tolerance.
fn mark(ok: bool) -> String {
    if ok { "  ".into() } else { "✗ ".into() }
}

/// The report as text.
pub fn render(report: &RunReport, st: &Style) -> String {
    let mut out = String::new();
    for group in groups(report) {
        let checks = group.checks;
        let mut meta = Vec::new();
        match group.dataset {
            Some(ds) => {
                meta.push(ds.path.clone());
                if let Some(f) = &ds.format {
                    meta.push(f.clone());
                }
                if let Some(r) = ds.rows_scanned {
                    meta.push(format!("{} rows", thousands(r)));
                }
                meta.push(format!("{} ms", ds.duration_ms));
            }
            None => {
                if let Some(r) = checks.iter().find(|c| c.kind == "reconcile") {
                    let names = ReconcileObserved::of(r).map_or(vec![], |o| o.datasets);
                    meta.push("reconciliation".into());
                    if !names.is_empty() {
                        meta.push(names.join(", "));
                    }
                }
            }
        }
        let _ = writeln!(
            out,
            "{}  {}",
            st.paint("1", group.name),
            st.paint("2", &meta.join(" · "))
        );
        let source_error = group.dataset.and_then(|d| d.error.as_ref());
        if let Some(e) = source_error {
            let _ = writeln!(out, "  {} {}", st.paint("1;35", "cannot read:"), e);
        }
        let width = checks
            .iter()
            .map(|c| c.name.chars().count())
            .max()
            .unwrap_or(0)
            .min(40);
        for c in &checks {
            let pad = width.saturating_sub(c.name.chars().count());
            let mut line = format!(
                "  {}  {}{}  ",
                status(st, c.status),
                c.name,
                " ".repeat(pad)
            );
            if c.status == CheckStatus::Error {
                if source_error.is_some() {
                    line.push_str(&st.paint("2", "not evaluated: the source could not be read"));
                } else {
                    line.push_str(&c.message);
                    line.push_str(&st.paint("2", &format!("  ({})", c.location)));
                }
            } else if c.status == CheckStatus::Skipped {
                line.push_str(&st.paint("2", &c.message));
            } else {
                line.push_str(&c.message);
                if let Some(t) = &c.threshold {
                    line.push_str(&st.paint("2", &format!("  ({t})")));
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
            match c.kind.as_str() {
                "parity" => parity(&mut out, st, c),
                _ => samples(&mut out, st, c),
            }
        }
        out.push('\n');
    }
    retries(&mut out, st, report);
    let s = &report.summary;
    let code = match report.status {
        RunStatus::Passed => "1;32",
        RunStatus::Warned => "1;33",
        RunStatus::Failed => "1;31",
        RunStatus::Error => "1;35",
    };
    let mut headline = format!(
        "{} check{}: {} passed, {} warned, {} failed, {} error{}",
        s.total,
        if s.total == 1 { "" } else { "s" },
        s.passed,
        s.warned,
        s.failed,
        s.errored,
        if s.errored == 1 { "" } else { "s" }
    );
    if s.skipped > 0 {
        let _ = write!(headline, ", {} skipped", s.skipped);
    }
    let n = report.datasets.len();
    let _ = writeln!(
        out,
        "{} · {n} dataset{} · {:.2} s",
        st.paint(code, &headline),
        if n == 1 { "" } else { "s" },
        report.duration_ms as f64 / 1000.0
    );
    out
}

/// What a Ballista cluster ran again (an executor was lost): one line per job stage.
fn retries(out: &mut String, st: &Style, report: &RunReport) {
    for r in &report.retries {
        let what = match (&r.tasks, &r.stage) {
            (Some(n), Some(stage)) => format!(
                "re-ran {n} task{} of job {} stage {stage}",
                if *n == 1 { "" } else { "s" },
                r.job
            ),
            _ => format!("job {}", r.job),
        };
        let _ = writeln!(out, "{} {what}: {}", st.paint("1;33", "Ballista"), r.reason);
    }
    if !report.retries.is_empty() {
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::{Style, render, thousands};
    use sluice_app::engine::RunReport;

    #[test]
    fn a_ballista_retry_is_a_line_above_the_summary() {
        let report: RunReport = serde_json::from_str(
            r#"{"sluice_version":"0","run_id":"r","started_at":"t","finished_at":"t","duration_ms":1500,"now":"t","config":"sluice.yaml","status":"passed","summary":{"total":0,"passed":0,"warned":0,"failed":0,"errored":0,"skipped":0},"datasets":[],"checks":[],
               "retries":[{"job":"J1","stage":"0","tasks":2,"reason":"Task failure due to Executor e1 lost"},
                          {"job":"J2","reason":"unknown: the scheduler could not be asked (refused)"}]}"#,
        )
        .unwrap();
        assert_eq!(
            render(&report, &Style { color: false }),
            "Ballista re-ran 2 tasks of job J1 stage 0: Task failure due to Executor e1 lost\n\
             Ballista job J2: unknown: the scheduler could not be asked (refused)\n\
             \n\
             0 checks: 0 passed, 0 warned, 0 failed, 0 errors · 0 datasets · 1.50 s\n"
        );
    }

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(5_000_000), "5,000,000");
        assert_eq!(thousands(12_345), "12,345");
    }
}
