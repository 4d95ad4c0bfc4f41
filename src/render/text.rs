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

use std::fmt::Write;

use sluice_engine::{CheckResult, CheckStatus, RunReport, RunStatus};

use super::{Style, cell};

fn status(st: &Style, s: CheckStatus) -> String {
    let (word, code) = match s {
        CheckStatus::Pass => ("PASS ", "32"),
        CheckStatus::Warn => ("WARN ", "33"),
        CheckStatus::Fail => ("FAIL ", "1;31"),
        CheckStatus::Error => ("ERROR", "1;35"),
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
    let Some(first) = c.samples.first() else {
        return;
    };
    let cols: Vec<&String> = first.keys().collect();
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

/// The report as text.
pub fn render(report: &RunReport, st: &Style) -> String {
    let mut out = String::new();
    for ds in &report.datasets {
        let checks: Vec<&CheckResult> = report
            .checks
            .iter()
            .filter(|c| c.dataset == ds.name)
            .collect();
        let mut meta = vec![ds.path.clone()];
        if let Some(f) = &ds.format {
            meta.push(f.clone());
        }
        if let Some(r) = ds.rows_scanned {
            meta.push(format!("{} rows", thousands(r)));
        }
        meta.push(format!("{} ms", ds.duration_ms));
        let _ = writeln!(
            out,
            "{}  {}",
            st.paint("1", &ds.name),
            st.paint("2", &meta.join(" · "))
        );
        if let Some(e) = &ds.error {
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
                if ds.error.is_some() {
                    line.push_str(&st.paint("2", "not evaluated: the source could not be read"));
                } else {
                    line.push_str(&c.message);
                    line.push_str(&st.paint("2", &format!("  ({})", c.location)));
                }
            } else {
                line.push_str(&c.message);
                if let Some(t) = &c.threshold {
                    line.push_str(&st.paint("2", &format!("  ({t})")));
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
            samples(&mut out, st, c);
        }
        out.push('\n');
    }
    let s = &report.summary;
    let code = match report.status {
        RunStatus::Passed => "1;32",
        RunStatus::Warned => "1;33",
        RunStatus::Failed => "1;31",
        RunStatus::Error => "1;35",
    };
    let headline = format!(
        "{} check{}: {} passed, {} warned, {} failed, {} error{}",
        s.total,
        if s.total == 1 { "" } else { "s" },
        s.passed,
        s.warned,
        s.failed,
        s.errored,
        if s.errored == 1 { "" } else { "s" }
    );
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

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(5_000_000), "5,000,000");
        assert_eq!(thousands(12_345), "12,345");
    }
}
