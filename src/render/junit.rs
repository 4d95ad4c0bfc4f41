//! JUnit XML: a `<testsuite>` per dataset, a `<testcase>` per check. Failed checks carry a
//! `<failure>` with the message, errored ones an `<error>`, skipped ones a `<skipped>`
//! with why; warnings pass with the warning in `<system-out>` (JUnit has no warning state). CI systems (GitLab, Jenkins, GitHub
//! test reporters) read this.

use std::fmt::Write;

use sluice_app::engine::{CheckResult, CheckStatus, RunReport};

use super::{cell, groups, observed};

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Control characters are not allowed in XML 1.0.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => out.push('?'),
            c => out.push(c),
        }
    }
    out
}

fn details(c: &CheckResult) -> String {
    let mut s = format!("observed: {}\n", observed(c));
    if let Some(t) = &c.threshold {
        let _ = writeln!(s, "threshold: {t}");
    }
    let _ = writeln!(s, "defined at: {}", c.location);
    for row in &c.samples {
        let parts: Vec<String> = row
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect();
        let _ = writeln!(s, "sample: {}", parts.join(" "));
    }
    s
}

/// The report as JUnit XML.
pub fn render(report: &RunReport) -> String {
    let s = &report.summary;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"sluice\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\">",
        s.total,
        s.failed,
        s.errored,
        s.skipped,
        report.duration_ms as f64 / 1000.0
    );
    for group in groups(report) {
        let checks = group.checks;
        let failures = checks
            .iter()
            .filter(|c| c.status == CheckStatus::Fail)
            .count();
        let errors = checks
            .iter()
            .filter(|c| c.status == CheckStatus::Error)
            .count();
        let skipped = checks
            .iter()
            .filter(|c| c.status == CheckStatus::Skipped)
            .count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{:.3}\">",
            esc(group.name),
            checks.len(),
            group
                .dataset
                .map(|d| d.duration_ms)
                .unwrap_or_else(|| checks.iter().filter_map(|c| c.duration_ms).sum())
                as f64
                / 1000.0
        );
        for c in checks {
            let time = c.duration_ms.unwrap_or(0) as f64 / 1000.0;
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\"",
                esc(&c.dataset),
                esc(&c.name)
            );
            match c.status {
                CheckStatus::Pass => out.push_str("/>\n"),
                CheckStatus::Warn => {
                    let _ = writeln!(
                        out,
                        ">\n      <system-out>warning: {}\n{}</system-out>\n    </testcase>",
                        esc(&c.message),
                        esc(&details(c))
                    );
                }
                CheckStatus::Skipped => {
                    let _ = writeln!(
                        out,
                        ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                        esc(&c.message)
                    );
                }
                CheckStatus::Fail | CheckStatus::Error => {
                    let tag = if c.status == CheckStatus::Fail {
                        "failure"
                    } else {
                        "error"
                    };
                    let _ = writeln!(
                        out,
                        ">\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    </testcase>",
                        esc(&c.message),
                        esc(&c.kind),
                        esc(&details(c))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
