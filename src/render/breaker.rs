//! Breakers, the guard and publishing, for people: `sluice breaker status|history|trip|
//! reset|override|report`, `sluice guard`, `sluice publish`, and the transition lines a
//! check prints on stderr. The JSON of the same commands is the application layer's
//! (`sluice_app::views`), serialised as it is.

use std::fmt::Write as _;

use sluice_app::breaker::publish::{Promotion, Rollback};
use sluice_app::breaker::report::Report;
use sluice_app::breaker::{Effective, Event, State, Transition};
use sluice_app::views::{BreakerView, GuardView, LogEntry, ManualView, StatusView, ts};

use super::Style;

/// `breaker orders: closed → open (1 failing check: not_null(id)) · ...`
pub fn transition_line(t: &Transition, st: &Style) -> String {
    let to = match t.to {
        Effective::Closed | Effective::Override => st.paint("1;32", t.to.as_str()),
        _ => st.paint("1;31", t.to.as_str()),
    };
    format!(
        "breaker {}: {} → {to} ({}){}",
        t.dataset,
        t.from.as_str(),
        t.reason,
        match t.event {
            Event::Trip => " · `sluice guard` now stops it and everything downstream",
            _ => "",
        }
    )
}

/// One line about a breaker: state, since, the manual overlay, reason, run, owner.
fn describe(v: &BreakerView) -> String {
    let b = &v.breaker;
    let mut s = format!("{} since {}", b.effective().as_str(), ts(b.since));
    if let Some(m) = &b.manual {
        write!(
            s,
            " · {} by {}{}: {}",
            m.kind.as_str(),
            m.by,
            m.until
                .map(|u| format!(" until {}", ts(u)))
                .unwrap_or_default(),
            m.reason
        )
        .ok();
    }
    if let Some(r) = &b.reason {
        write!(s, " · {r}").ok();
    }
    // The run that opened it; a closed breaker's last run is in `last_run`.
    if b.state == State::Open
        && let Some(run) = &b.run_id
    {
        write!(s, " · run {run}").ok();
    }
    if let Some(o) = &v.owner {
        write!(s, " · owner {o}").ok();
    }
    s
}

/// `sluice breaker status`.
pub fn status(v: &StatusView) -> String {
    let width = v
        .breakers
        .iter()
        .map(|r| r.breaker.breaker.dataset.len())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for row in &v.breakers {
        let b = &row.breaker.breaker;
        if row.breaker.seen {
            write!(out, "{:<width$}  {}", b.dataset, describe(&row.breaker)).ok();
            if let Some(r) = &b.last_run {
                write!(
                    out,
                    " · last run {} {} ({})",
                    r.status.as_str(),
                    ts(r.at),
                    r.run_id
                )
                .ok();
            }
        } else {
            write!(out, "{:<width$}  closed · no runs yet", b.dataset).ok();
        }
        if !row.blocked_by.is_empty() {
            let by: Vec<String> = row
                .blocked_by
                .iter()
                .map(|(name, state)| format!("{name} ({})", state.as_str()))
                .collect();
            write!(out, " · blocked by {}", by.join(", ")).ok();
        }
        out.push('\n');
    }
    write!(out, "\nstate store: {}\n", v.store).ok();
    out
}

/// `sluice breaker history X`.
pub fn history(dataset: &str, log: &[LogEntry]) -> String {
    let mut out = String::new();
    if log.is_empty() {
        writeln!(out, "{dataset}: no transitions yet").ok();
    }
    for LogEntry(l) in log {
        let t = &l.transition;
        writeln!(
            out,
            "#{:<4} {}  {:<11} {:>7} → {:<8} by {}{} · {}",
            l.id,
            ts(t.at),
            t.event,
            t.from.as_str(),
            t.to.as_str(),
            t.by,
            t.run_id
                .as_ref()
                .map(|r| format!(" · run {r}"))
                .unwrap_or_default(),
            t.reason
        )
        .ok();
    }
    out
}

/// `sluice breaker trip|reset|override X`.
pub fn manual(v: &ManualView, st: &Style) -> String {
    let mut out = String::new();
    for LogEntry(l) in &v.transitions {
        writeln!(out, "{}", transition_line(&l.transition, st)).ok();
    }
    writeln!(
        out,
        "{}  {}",
        v.breaker.breaker.dataset,
        describe(&v.breaker)
    )
    .ok();
    out
}

/// `sluice guard X`: may it publish, and if not, each breaker that stops it.
pub fn guard(v: &GuardView, st: &Style) -> String {
    let dataset = &v.dataset;
    let mut out = String::new();
    if v.may_publish {
        let how = match v
            .overridden
            .as_ref()
            .and_then(|b| b.breaker.manual.as_ref())
        {
            Some(m) => format!(
                "overridden by {} until {}: {}",
                m.by,
                m.until.map(ts).unwrap_or_default(),
                m.reason
            ),
            None => "its breaker and every breaker upstream are closed".to_string(),
        };
        writeln!(
            out,
            "{} {dataset} may publish: {how}",
            st.paint("1;32", "ok:")
        )
        .ok();
    } else {
        let n = v.blocked_by.len();
        writeln!(
            out,
            "{} {dataset} may not publish: {n} breaker{} stop{} it",
            st.paint("1;31", "blocked:"),
            if n == 1 { "" } else { "s" },
            if n == 1 { "s" } else { "" },
        )
        .ok();
        for b in &v.blocked_by {
            let whose = if &b.breaker.dataset == dataset {
                " (its own)"
            } else {
                " (upstream)"
            };
            writeln!(out, "  {}{whose}  {}", b.breaker.dataset, describe(b)).ok();
        }
        writeln!(
            out,
            "fix the data and rerun its checks, or `sluice breaker reset {} --reason \"...\"`",
            v.blocked_by[0].breaker.dataset
        )
        .ok();
    }
    out
}

/// `3d 4h`, `2h 5m`, `40s`: a duration for people.
fn human(secs: i64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs}s"),
        (0, 0, m) => format!("{m}m"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// `sluice breaker report`: incidents per month and per dataset, time to recover.
pub fn report(r: &Report, store: &str) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "Breaker report {} → {} · {store}",
        r.since.format("%Y-%m-%d"),
        r.until.format("%Y-%m-%d"),
    )
    .ok();
    let rec = &r.recovery;
    write!(out, "Incidents: {}", r.incidents).ok();
    if rec.ongoing > 0 {
        write!(out, " ({} still halted)", rec.ongoing).ok();
    }
    match (rec.median_s, rec.worst_s) {
        (Some(m), Some(w)) => writeln!(
            out,
            " · time to recover: median {}, worst {} ({} recovered)",
            human(m),
            human(w),
            rec.recovered
        ),
        _ => writeln!(out),
    }
    .ok();
    writeln!(out, "\nPer month").ok();
    let most = r
        .per_month
        .iter()
        .map(|m| m.incidents)
        .max()
        .unwrap_or(0)
        .max(1);
    for m in &r.per_month {
        let bar = "█".repeat((m.incidents * 30).div_ceil(most));
        writeln!(out, "  {}  {:>4}  {bar}", m.month, m.incidents).ok();
    }
    if !r.datasets.is_empty() {
        writeln!(out, "\nDatasets, most incidents first").ok();
        let width = r
            .datasets
            .iter()
            .map(|d| d.dataset.len())
            .max()
            .unwrap_or(0);
        for d in &r.datasets {
            write!(out, "  {:<width$}  {:>4}", d.dataset, d.incidents).ok();
            if d.manual > 0 {
                write!(out, " ({} by hand)", d.manual).ok();
            }
            if let (Some(m), Some(w)) = (d.median_recovery_s, d.worst_recovery_s) {
                write!(
                    out,
                    "  recovers in {} (median), {} (worst)",
                    human(m),
                    human(w)
                )
                .ok();
            }
            if let Some(t) = d.open_since {
                write!(out, "  halted since {}", ts(t)).ok();
            }
            out.push('\n');
        }
    }
    out
}

/// `sluice publish X` that promoted the staged data.
pub fn published(dataset: &str, run_id: &str, p: &Promotion, keep_versions: u32) -> String {
    let mut out = String::new();
    writeln!(
        out,
        "published {dataset} {} (run {run_id}): {} now points at {}",
        p.version,
        p.path.display(),
        p.version_dir.display()
    )
    .ok();
    if !p.removed.is_empty() {
        writeln!(
            out,
            "retention (keep_versions: {keep_versions}): removed {}",
            p.removed.join(", ")
        )
        .ok();
    }
    out
}

/// `sluice publish X` whose checks failed: the report and where the data went.
pub fn quarantined(report_text: String, dataset: &str, at: &std::path::Path) -> String {
    let mut out = report_text;
    writeln!(
        out,
        "\nnot published: {dataset} quarantined at {} (with report.json); its breaker is open",
        at.display()
    )
    .ok();
    out
}

/// `sluice publish X --rollback`.
pub fn rolled_back(dataset: &str, r: &Rollback) -> String {
    format!(
        "{dataset}: {} now points at {} ({})\n",
        r.path.display(),
        r.version,
        r.reason
    )
}
