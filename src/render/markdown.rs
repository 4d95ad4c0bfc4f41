//! Markdown: a summary line and a table fit to paste into a ticket or a chat, then the
//! failing samples of each failed check.

use std::fmt::Write;

use sluice_app::engine::{CheckStatus, RunReport};

use super::{cell, observed, sample_columns};

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('\n', " ")
}

fn badge(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Pass => "✅ pass",
        CheckStatus::Warn => "⚠️ warn",
        CheckStatus::Fail => "❌ fail",
        CheckStatus::Error => "💥 error",
        CheckStatus::Skipped => "⏭️ skipped",
    }
}

/// The report as Markdown.
pub fn render(report: &RunReport) -> String {
    let s = &report.summary;
    let mut out = format!(
        "### sluice: {} — {} checks: {} passed, {} warned, {} failed, {} errors",
        report.status.as_str(),
        s.total,
        s.passed,
        s.warned,
        s.failed,
        s.errored
    );
    if s.skipped > 0 {
        let _ = write!(out, ", {} skipped", s.skipped);
    }
    out.push_str("\n\n");
    out.push_str("| Status | Dataset | Check | Observed | Threshold | Details |\n");
    out.push_str("| --- | --- | --- | ---: | --- | --- |\n");
    for c in &report.checks {
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {} | {} |",
            badge(c.status),
            esc(&c.dataset),
            esc(&c.name),
            esc(&observed(c)),
            esc(c.threshold.as_deref().unwrap_or("")),
            esc(&c.message)
        );
    }
    for c in report.checks.iter().filter(|c| !c.samples.is_empty()) {
        let _ = write!(
            out,
            "\n**{}** `{}` — failing rows:\n\n",
            esc(&c.dataset),
            esc(&c.name)
        );
        let cols = sample_columns(&c.samples);
        let header: Vec<String> = cols.iter().map(|k| esc(k)).collect();
        let _ = writeln!(out, "| {} |", header.join(" | "));
        let _ = writeln!(out, "|{}", " --- |".repeat(cols.len()));
        for row in &c.samples {
            let vals: Vec<String> = cols
                .iter()
                .map(|k| esc(&cell(row.get(*k).unwrap_or(&serde_json::Value::Null))))
                .collect();
            let _ = writeln!(out, "| {} |", vals.join(" | "));
        }
    }
    let _ = write!(
        out,
        "\n<sub>run `{}` · {} ms</sub>\n",
        report.run_id, report.duration_ms
    );
    out
}
