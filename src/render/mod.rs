//! One renderer per report format, each in its own file.

pub mod breaker;
pub mod history;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod summary;
pub mod text;

use serde_json::Value;
use sluice_app::engine::observed::{ParityObserved, ReconcileObserved};

/// ANSI styling, or none.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Whether to emit colour codes.
    pub color: bool,
}

impl Style {
    /// Wraps `text` in an SGR code.
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

/// A JSON value as a short cell: strings bare, NULL as `null`, floats rounded, long values cut.
pub fn cell(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        Value::Null => "null".to_string(),
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            let t = format!("{f:.6}");
            t.trim_end_matches('0').trim_end_matches('.').to_string()
        }
        other => other.to_string(),
    };
    const MAX: usize = 48;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX - 1).collect();
        format!("{cut}…")
    } else {
        s
    }
}

/// A check's observation for a table cell: ages as durations, schema mismatches counted.
pub fn observed(c: &sluice_app::engine::CheckResult) -> String {
    match (c.kind.as_str(), &c.observed) {
        ("freshness", Value::Number(n)) => {
            let secs = n.as_i64().unwrap_or(0);
            let d = sluice_app::spec::duration::HumanDuration(std::time::Duration::from_secs(
                secs.unsigned_abs(),
            ));
            if secs < 0 {
                format!("{d} ahead")
            } else {
                format!("{d} old")
            }
        }
        ("parity", _) => {
            let Some(o) = ParityObserved::of(c) else {
                return cell(&c.observed);
            };
            let mut parts = Vec::new();
            if let Some(rc) = &o.row_count {
                parts.push(format!("rows {}", cell(&Value::from(rc.diff))));
            }
            for a in &o.aggregates {
                parts.push(format!("{} {}", a.metric, cell(&a.diff)));
            }
            if let Some(g) = &o.groups {
                parts.push(format!("{} groups off", g.out_of_tolerance));
            }
            if let Some(r) = &o.rows {
                parts.push(format!(
                    "{} missing, {} extra, {} changed",
                    r.missing, r.extra, r.changed
                ));
            }
            parts.join("; ")
        }
        ("reconcile", _) => match ReconcileObserved::of(c) {
            Some(o) => format!(
                "{} disagreeing, {} partial of {} keys",
                o.disagreeing_keys, o.partial_keys, o.keys
            ),
            None => cell(&c.observed),
        },
        (
            "distribution" | "within_history" | "change_vs_published" | "forecast_accuracy",
            Value::Object(o),
        ) => compared(c.kind.as_str(), o).unwrap_or_else(|| cell(&c.observed)),
        ("schema", Value::Array(a)) => match a.len() {
            0 => "matches".to_string(),
            1 => "1 mismatch".to_string(),
            n => format!("{n} mismatches"),
        },
        (_, v) => cell(v),
    }
}

/// The statistics of a comparison check, short: `PSI 0.13, KS D 0.15 (p 0)`.
fn compared(kind: &str, o: &serde_json::Map<String, Value>) -> Option<String> {
    let stat = |key: &str, label: &str, unit: &str| {
        o.get(key)
            .filter(|v| v.is_number())
            .map(|v| format!("{label} {}{unit}", cell(v)))
    };
    let parts: Vec<String> = match kind {
        "distribution" => vec![
            stat("psi", "PSI", ""),
            stat("ks_d", "KS D", ""),
            stat("ks_p", "KS p", ""),
            stat("chi2_p", "chi² p", ""),
        ],
        "within_history" => vec![stat("rows_out_of_range", "rows out of range:", "")],
        "change_vs_published" => vec![
            stat("wape_pct", "WAPE", "%"),
            stat("max_change_pct", "max change", "%"),
        ],
        "forecast_accuracy" => vec![
            stat("coverage_pct", "coverage", "%"),
            stat("mase", "MASE", ""),
            stat("wape_pct", "WAPE", "%"),
        ],
        _ => vec![],
    }
    .into_iter()
    .flatten()
    .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Every column appearing in some sample, in order of first appearance.
pub fn sample_columns(samples: &[serde_json::Map<String, Value>]) -> Vec<&String> {
    let mut cols: Vec<&String> = Vec::new();
    for row in samples {
        for k in row.keys() {
            if !cols.contains(&k) {
                cols.push(k);
            }
        }
    }
    cols
}

/// Checks grouped for display: one group per dataset in the report, then one per other
/// owner of checks (a reconciliation, or a stage input carrying parity), in report order.
pub struct Group<'r> {
    /// The dataset's or reconciliation's name.
    pub name: &'r str,
    /// The dataset's report, when the group is a checked dataset.
    pub dataset: Option<&'r sluice_app::engine::DatasetReport>,
    /// Its checks.
    pub checks: Vec<&'r sluice_app::engine::CheckResult>,
}

/// Groups the checks of `report`.
pub fn groups(report: &sluice_app::engine::RunReport) -> Vec<Group<'_>> {
    let mut out: Vec<Group<'_>> = report
        .datasets
        .iter()
        .map(|d| Group {
            name: &d.name,
            dataset: Some(d),
            checks: vec![],
        })
        .collect();
    for c in &report.checks {
        match out.iter_mut().find(|g| g.name == c.dataset) {
            Some(g) => g.checks.push(c),
            None => out.push(Group {
                name: &c.dataset,
                dataset: None,
                checks: vec![c],
            }),
        }
    }
    out
}
