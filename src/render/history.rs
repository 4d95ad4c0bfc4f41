//! `sluice history`: a sparkline per metric, or one metric's values run by run.

use sluice_app::history::{HistoryView, MetricHistory, PointView};
use sluice_app::spec::num;

use super::Style;

const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The values as a sparkline, lowest `▁`, highest `█` (all `▄` when they are equal).
pub fn sparkline(values: &[f64]) -> String {
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|v| {
            if hi > lo {
                let i = ((v - lo) / (hi - lo) * 7.0).round() as usize;
                BARS[i.min(7)]
            } else {
                BARS[3]
            }
        })
        .collect()
}

fn value(v: f64) -> String {
    if v.fract() == 0.0 || v.abs() >= 1e6 {
        num(v.round())
    } else {
        num((v * 10_000.0).round() / 10_000.0)
    }
}

fn date(p: &PointView) -> &str {
    p.logical_at.get(..10).unwrap_or(&p.logical_at)
}

/// The history, for people.
pub fn render(view: &HistoryView, st: &Style) -> String {
    let mut out = String::new();
    if view.metrics.is_empty() {
        out.push_str(&format!(
            "{}: no recorded history yet (a `sluice check` that uses the state store records one run)\n",
            view.dataset
        ));
        return out;
    }
    if let [one] = view.metrics.as_slice() {
        return metric(&view.dataset, one, st);
    }
    let runs = view
        .metrics
        .iter()
        .map(|m| m.points.len())
        .max()
        .unwrap_or(0);
    out.push_str(&format!(
        "{} — {} metrics, the last {runs} runs (oldest first)\n",
        st.paint("1", &view.dataset),
        view.metrics.len()
    ));
    let width = view
        .metrics
        .iter()
        .map(|m| m.metric.chars().count())
        .max()
        .unwrap_or(0);
    for m in &view.metrics {
        let values: Vec<f64> = m.points.iter().map(|p| p.value).collect();
        let last = m.points.last().map(|p| value(p.value)).unwrap_or_default();
        let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        out.push_str(&format!(
            "  {:<width$}  {:<runs$}  last {last}  (min {}, max {})\n",
            m.metric,
            sparkline(&values),
            value(lo),
            value(hi),
        ));
    }
    out
}

/// One metric, run by run.
fn metric(dataset: &str, m: &MetricHistory, st: &Style) -> String {
    let values: Vec<f64> = m.points.iter().map(|p| p.value).collect();
    let mut out = format!(
        "{} {} — {} run{}  {}\n",
        st.paint("1", dataset),
        m.metric,
        m.points.len(),
        if m.points.len() == 1 { "" } else { "s" },
        sparkline(&values)
    );
    let width = m
        .points
        .iter()
        .map(|p| value(p.value).len())
        .max()
        .unwrap_or(0);
    let pwidth = m
        .points
        .iter()
        .map(|p| p.partition.len())
        .max()
        .unwrap_or(0);
    for p in &m.points {
        let status = match p.status.as_str() {
            "fail" | "error" => st.paint("31", &p.status),
            "warn" => st.paint("33", &p.status),
            s => s.to_string(),
        };
        let part = if pwidth > 0 {
            format!("  {:<pwidth$}", p.partition)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "  {}{part}  {:>width$}  {status}  run {}\n",
            date(p),
            value(p.value),
            p.run_id
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparkline_spans_the_values() {
        assert_eq!(sparkline(&[1.0, 2.0, 8.0]), "▁▂█");
        assert_eq!(sparkline(&[5.0, 5.0]), "▄▄");
        assert_eq!(sparkline(&[]), "");
    }
}
