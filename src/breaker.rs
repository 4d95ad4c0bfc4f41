//! `sluice breaker ...`, `sluice guard`, and the recording of `sluice check` runs in the
//! state store.

use std::fmt::Write as _;

use anyhow::anyhow;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use sluice_breaker::{
    Breaker, CheckRecord, CheckState, Command, Effective, Logged, Outcome, RunRecord, Store,
    StoreError, Transition,
};
use sluice_engine::{CheckStatus, RunReport};
use sluice_lineage::{Direction, ImpactOptions, Lineage, Sources};
use sluice_spec::{Config, StateStore};

use crate::cli::{BreakerCommand, GuardArgs, ManualArgs, ReportArgs, StateFormat};
use crate::{Exit, code, fail, load_config};

/// The store of `config`: `SLUICE_STATE`, else its `state:`, else `.sluice/state.db` next
/// to it. Exit 4 if it cannot be opened (nothing has been done yet), 2 if misconfigured.
pub fn open_store(config: &Config, color: bool) -> Result<Store, Exit> {
    let target = match std::env::var("SLUICE_STATE") {
        Ok(v) if !v.trim().is_empty() => {
            let cwd = std::env::current_dir().unwrap_or_default();
            StateStore::parse(&v, &cwd)
                .map_err(|m| fail(anyhow!("SLUICE_STATE: {m}"), code::INVALID, color))?
        }
        _ => config.state.clone().unwrap_or_else(|| {
            StateStore::Sqlite(sluice_breaker::store::default_sqlite_path(&config.base_dir))
        }),
    };
    match &target {
        StateStore::Sqlite(path) => Store::open_sqlite(path),
        StateStore::Postgres(url) => Store::open_postgres(url),
    }
    .map_err(|e| store_fail(e, color))
}

pub fn store_fail(e: StoreError, color: bool) -> Exit {
    fail(anyhow::Error::new(e), code::RUNTIME, color)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Records a finished run and moves the breakers of the datasets it checked; prints each
/// transition on stderr (stdout keeps the report).
pub fn record(
    store: &mut Store,
    config: &Config,
    report: &RunReport,
    quiet: bool,
    color: bool,
) -> Result<(), Exit> {
    let at = |s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|_| Utc::now())
    };
    let finished = at(&report.finished_at);
    let run = RunRecord {
        run_id: report.run_id.clone(),
        started_at: at(&report.started_at),
        finished_at: finished,
        status: report.status.as_str().to_string(),
        summary: serde_json::to_value(&report.summary).unwrap_or(Value::Null),
        config: report.config.clone(),
        actor: sluice_breaker::actor(None),
    };
    let checks: Vec<CheckRecord> = report
        .checks
        .iter()
        .map(|c| CheckRecord {
            dataset: c.dataset.clone(),
            name: c.name.clone(),
            kind: c.kind.clone(),
            severity: c.severity.to_string(),
            status: c.status.as_str().to_string(),
            observed: c.observed.clone(),
            message: c.message.clone(),
        })
        .collect();
    let mut outcomes = Vec::new();
    for d in &report.datasets {
        let Some(ds) = config.dataset(&d.name) else {
            continue;
        };
        let mut failing: Vec<String> = report
            .checks
            .iter()
            .filter(|c| c.dataset == d.name)
            .filter(|c| {
                let state = match c.status {
                    CheckStatus::Pass => CheckState::Pass,
                    CheckStatus::Warn => CheckState::Warn,
                    CheckStatus::Fail => CheckState::Fail,
                    CheckStatus::Error => CheckState::Error,
                };
                sluice_breaker::machine::counts(&ds.breaker, c.severity, state)
            })
            .map(|c| c.name.clone())
            .collect();
        if d.status == "error" && failing.is_empty() {
            failing.push("unreadable".to_string());
        }
        outcomes.push((
            ds.breaker,
            Outcome {
                run_id: report.run_id.clone(),
                at: finished,
                failing,
            },
            d.name.clone(),
        ));
    }
    let transitions = sluice_breaker::record_run(store, &run, &checks, &outcomes)
        .map_err(|e| store_fail(e, color))?;
    if !quiet {
        let st = crate::render::Style { color };
        for t in &transitions {
            eprintln!("{}", transition_line(t, &st));
        }
    }
    Ok(())
}

fn transition_line(t: &Transition, st: &crate::render::Style) -> String {
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
            "trip" => " · `sluice guard` now stops it and everything downstream",
            _ => "",
        }
    )
}

/// Refuses a name that is not a dataset of `config`, with the engine's did-you-mean.
pub fn known(config: &Config, name: &str, color: bool) -> Result<(), Exit> {
    sluice_engine::select(config, &[name.to_string()], None)
        .map(drop)
        .map_err(|e| fail(anyhow::Error::new(e), code::INVALID, color))
}

/// The lineage graph of `config` (with the files its `lineage:` names), for finding what
/// is upstream of a dataset.
fn graph(config: &Config, color: bool) -> Result<Lineage, Exit> {
    sluice_lineage::load(&Sources::new(Some(config), &[], &[]))
        .map_err(|e| fail(anyhow::Error::new(e), code::INVALID, color))
}

/// The open (or tripped) breakers upstream of `dataset` (itself excluded), in the order
/// the lineage reaches them.
fn upstream_blockers<'a>(lineage: &Lineage, dataset: &str, all: &'a [Breaker]) -> Vec<&'a Breaker> {
    // Only halted breakers matter; usually a handful, looked up by node id.
    let halted: std::collections::HashMap<String, &Breaker> = all
        .iter()
        .filter(|b| !b.effective().flows())
        .map(|b| (format!("dataset:{}", b.dataset), b))
        .collect();
    if halted.is_empty() {
        return vec![];
    }
    let Some(root) = lineage.by_id(&format!("dataset:{dataset}")) else {
        return vec![];
    };
    let imp = sluice_lineage::impact(
        lineage,
        root,
        ImpactOptions {
            direction: Direction::Upstream,
            max_depth: None,
            include_tests: false,
        },
    );
    imp.hits
        .iter()
        .filter_map(|h| {
            lineage
                .node(h.node)
                .ids
                .iter()
                .find_map(|id| halted.get(id).copied())
        })
        .collect()
}

fn breaker_json(b: &Breaker, config: &Config) -> Value {
    let owner = config.dataset(&b.dataset).and_then(|d| d.owner.clone());
    json!({
        "dataset": b.dataset,
        "state": b.effective().as_str(),
        "automatic_state": b.state.as_str(),
        "since": ts(b.since),
        "reason": b.reason,
        "run_id": b.run_id,
        "failing_checks": b.failing_checks,
        "owner": owner,
        "last_run": b.last_run.as_ref().map(|(id, at, s)| json!({"run_id": id, "at": ts(*at), "status": s})),
        "manual": b.manual.as_ref().map(|m| json!({
            "kind": m.kind.as_str(), "until": m.until.map(ts), "reason": m.reason, "by": m.by, "at": ts(m.at),
        })),
    })
}

fn logged_json(l: &Logged) -> Value {
    let t = &l.transition;
    json!({
        "id": l.id, "dataset": t.dataset, "event": t.event, "from": t.from.as_str(), "to": t.to.as_str(),
        "at": ts(t.at), "by": t.by, "reason": t.reason, "run_id": t.run_id,
    })
}

pub fn print(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialise");
    s.push('\n');
    s
}

/// One line about a breaker, for people.
fn describe(b: &Breaker, config: &Config) -> String {
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
    if b.state == sluice_breaker::State::Open
        && let Some(run) = &b.run_id
    {
        write!(s, " · run {run}").ok();
    }
    if let Some(o) = config.dataset(&b.dataset).and_then(|d| d.owner.as_deref()) {
        write!(s, " · owner {o}").ok();
    }
    s
}

/// `sluice breaker ...`.
pub fn breaker(cmd: &BreakerCommand, color: bool) -> Result<u8, Exit> {
    match cmd {
        BreakerCommand::Status(args) => {
            let config = load_config(&args.config, color)?;
            if let Some(d) = &args.dataset {
                known(&config, d, color)?;
            }
            let mut store = open_store(&config, color)?;
            let now = Utc::now();
            let all =
                sluice_breaker::breakers(&mut store, now).map_err(|e| store_fail(e, color))?;
            let lineage = graph(&config, color)?;
            let names: Vec<String> = match &args.dataset {
                Some(d) => vec![d.clone()],
                None => config.datasets.iter().map(|d| d.name.clone()).collect(),
            };
            let mut rows = Vec::new();
            for name in &names {
                let stored = all.iter().find(|b| &b.dataset == name).cloned();
                let seen = stored.is_some();
                let b = stored.unwrap_or_else(|| Breaker::new(name, now));
                let blockers = upstream_blockers(&lineage, name, &all);
                rows.push((b, blockers, seen));
            }
            match args.format {
                StateFormat::Json => {
                    let v: Vec<Value> = rows
                        .iter()
                        .map(|(b, blockers, seen)| {
                            let mut j = breaker_json(b, &config);
                            if !seen {
                                j["since"] = Value::Null;
                            }
                            j["blocked_by"] = json!(
                                blockers
                                    .iter()
                                    .map(|x| x.dataset.clone())
                                    .collect::<Vec<_>>()
                            );
                            j
                        })
                        .collect();
                    print(&pretty(&json!({"store": store.what(), "breakers": v})));
                }
                StateFormat::Text => {
                    let width = names.iter().map(String::len).max().unwrap_or(0);
                    let mut out = String::new();
                    for (b, blockers, seen) in &rows {
                        if *seen {
                            write!(out, "{:<width$}  {}", b.dataset, describe(b, &config)).ok();
                            if let Some((id, at, status)) = &b.last_run {
                                write!(out, " · last run {status} {} ({id})", ts(*at)).ok();
                            }
                        } else {
                            write!(out, "{:<width$}  closed · no runs yet", b.dataset).ok();
                        }
                        if !blockers.is_empty() {
                            let by: Vec<String> = blockers
                                .iter()
                                .map(|x| format!("{} ({})", x.dataset, x.effective().as_str()))
                                .collect();
                            write!(out, " · blocked by {}", by.join(", ")).ok();
                        }
                        out.push('\n');
                    }
                    write!(out, "\nstate store: {}\n", store.what()).ok();
                    print(&out);
                }
            }
            Ok(code::PASSED)
        }
        BreakerCommand::History(args) => {
            let config = load_config(&args.config, color)?;
            known(&config, &args.dataset, color)?;
            let mut store = open_store(&config, color)?;
            let log = sluice_breaker::history(&mut store, Some(&args.dataset), args.limit)
                .map_err(|e| store_fail(e, color))?;
            match args.format {
                StateFormat::Json => print(&pretty(&json!(
                    log.iter().map(logged_json).collect::<Vec<_>>()
                ))),
                StateFormat::Text => {
                    let mut out = String::new();
                    if log.is_empty() {
                        writeln!(out, "{}: no transitions yet", args.dataset).ok();
                    }
                    for l in &log {
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
                    print(&out);
                }
            }
            Ok(code::PASSED)
        }
        BreakerCommand::Report(a) => report(a, color),
        BreakerCommand::Trip(a) => manual(a, "trip", color),
        BreakerCommand::Reset(a) => manual(a, "reset", color),
        BreakerCommand::Override(a) => manual(a, "override", color),
    }
}

/// A time given as RFC 3339 (`2026-11-23T08:00:00Z`) or as a duration (`2h`, `90d`),
/// which `--until` counts forward from now and `--since` back.
fn when(text: &str, now: DateTime<Utc>, forward: bool) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    let d = match sluice_spec::duration::parse(text) {
        Ok(d) => chrono::Duration::from_std(d).map_err(|_| format!("`{text}` is too far away"))?,
        Err(e @ sluice_spec::duration::DurationError::TooLong { .. }) => return Err(e.to_string()),
        Err(_) => {
            return Err(format!(
                "`{text}` is neither a time (2026-11-23T08:00:00Z) nor a duration (2h, 90d)"
            ));
        }
    };
    if forward {
        now.checked_add_signed(d)
    } else {
        now.checked_sub_signed(d)
    }
    .ok_or_else(|| format!("`{text}` is too far away"))
}

fn manual(a: &ManualArgs, what: &str, color: bool) -> Result<u8, Exit> {
    let bad = |m: String| fail(anyhow!(m), code::INVALID, color);
    let reason = a
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .ok_or_else(|| {
            bad(format!(
                "`sluice breaker {what}` needs a reason, kept in the audit log: --reason \"...\""
            ))
        })?;
    let config = load_config(&a.config, color)?;
    known(&config, &a.dataset, color)?;
    let now = Utc::now();
    let until = a
        .until
        .as_deref()
        .map(|u| when(u, now, true))
        .transpose()
        .map_err(|m| bad(format!("--until {m}")))?;
    if let Some(u) = until
        && u <= now
    {
        return Err(bad(format!("--until {} is in the past", ts(u))));
    }
    let cmd = match (what, until) {
        ("trip", until) => Command::Trip { until },
        ("override", Some(until)) => Command::Override { until },
        ("override", None) => {
            return Err(bad(
                "an override always expires: add --until (a time, or a duration like 4h)".into(),
            ));
        }
        (_, Some(_)) => return Err(bad("`reset` takes no --until".into())),
        _ => Command::Reset,
    };
    let by = sluice_breaker::actor(a.by.as_deref());
    let mut store = open_store(&config, color)?;
    let (b, logged) = sluice_breaker::command(&mut store, &a.dataset, &cmd, reason, &by, now)
        .map_err(|e| store_fail(e, color))?;
    match a.format {
        StateFormat::Json => print(&pretty(&json!({
            "breaker": breaker_json(&b, &config),
            "transitions": logged.iter().map(logged_json).collect::<Vec<_>>(),
        }))),
        StateFormat::Text => {
            let st = crate::render::Style { color };
            let mut out = String::new();
            for l in &logged {
                writeln!(out, "{}", transition_line(&l.transition, &st)).ok();
            }
            writeln!(out, "{}  {}", b.dataset, describe(&b, &config)).ok();
            print(&out);
        }
    }
    Ok(code::PASSED)
}

/// `sluice guard X`: 0 if X may publish, 3 if not.
pub fn guard(args: &GuardArgs, color: bool) -> Result<u8, Exit> {
    let config = load_config(&args.config, color)?;
    known(&config, &args.dataset, color)?;
    let mut store = open_store(&config, color)?;
    let (may, text, json) = verdict(&mut store, &config, &args.dataset, color)?;
    match args.format {
        StateFormat::Json => print(&pretty(&json)),
        StateFormat::Text => print(&text),
    }
    Ok(if may { code::PASSED } else { code::BLOCKED })
}

/// Whether `dataset` may publish, with the verdict for people and as JSON.
pub fn verdict(
    store: &mut Store,
    config: &Config,
    dataset: &str,
    color: bool,
) -> Result<(bool, String, Value), Exit> {
    let now = Utc::now();
    let all = sluice_breaker::breakers(store, now).map_err(|e| store_fail(e, color))?;
    let own = all.iter().find(|b| b.dataset == dataset);
    // An override on X lets X through whatever is upstream; otherwise X's own breaker and
    // every breaker upstream must let data flow.
    let overridden = own.is_some_and(|b| b.effective() == Effective::Override);
    let mut blockers: Vec<&Breaker> = Vec::new();
    if !overridden {
        blockers.extend(own.filter(|b| !b.effective().flows()));
        blockers.extend(upstream_blockers(&graph(config, color)?, dataset, &all));
    }
    let may = blockers.is_empty();
    let json = json!({
        "dataset": dataset,
        "may_publish": may,
        "override": own.filter(|_| overridden).map(|b| breaker_json(b, config)),
        "blocked_by": blockers.iter().map(|b| breaker_json(b, config)).collect::<Vec<_>>(),
    });
    let st = crate::render::Style { color };
    let mut out = String::new();
    if may {
        let how = if overridden {
            let m = own
                .and_then(|b| b.manual.as_ref())
                .expect("an override has an overlay");
            format!(
                "overridden by {} until {}: {}",
                m.by,
                m.until.map(ts).unwrap_or_default(),
                m.reason
            )
        } else {
            "its breaker and every breaker upstream are closed".to_string()
        };
        writeln!(
            out,
            "{} {dataset} may publish: {how}",
            st.paint("1;32", "ok:")
        )
        .ok();
    } else {
        writeln!(
            out,
            "{} {dataset} may not publish: {} breaker{} stop{} it",
            st.paint("1;31", "blocked:"),
            blockers.len(),
            if blockers.len() == 1 { "" } else { "s" },
            if blockers.len() == 1 { "s" } else { "" },
        )
        .ok();
        for b in &blockers {
            let whose = if b.dataset == dataset {
                " (its own)"
            } else {
                " (upstream)"
            };
            writeln!(out, "  {}{whose}  {}", b.dataset, describe(b, config)).ok();
        }
        writeln!(
            out,
            "fix the data and rerun its checks, or `sluice breaker reset {} --reason \"...\"`",
            blockers[0].dataset
        )
        .ok();
    }
    Ok((may, out, json))
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

fn report(a: &ReportArgs, color: bool) -> Result<u8, Exit> {
    let config = load_config(&a.config, color)?;
    let now = Utc::now();
    let since = when(&a.since, now, false)
        .map_err(|m| fail(anyhow!("--since {m}"), code::INVALID, color))?;
    let mut store = open_store(&config, color)?;
    let r = sluice_breaker::report(&mut store, since, now).map_err(|e| store_fail(e, color))?;
    match a.format {
        StateFormat::Json => print(&pretty(
            &serde_json::to_value(&r).expect("the report serialises"),
        )),
        StateFormat::Text => {
            let mut out = String::new();
            writeln!(
                out,
                "Breaker report {} → {} · {}",
                r.since.format("%Y-%m-%d"),
                r.until.format("%Y-%m-%d"),
                store.what()
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
            print(&out);
        }
    }
    Ok(code::PASSED)
}
