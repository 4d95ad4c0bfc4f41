//! Dependent checks: the order `after:` imposes on one dataset's checks, and which of them
//! are `skipped` because a check they wait for failed, errored or was skipped.
//!
//! How a dataset's run honours it, keeping one fused scan:
//!
//! 1. Before the scan, the checks decided by planning alone — `schema` checks, and checks
//!    that cannot be planned (a missing column, bad SQL) — are settled, and every check
//!    waiting (transitively) for one of them that failed or errored is skipped: it is left
//!    out of the fused scan altogether. This is where structural failures stop the rest.
//! 2. The fused scan runs once, with every check not skipped, including those waiting for
//!    a check the scan itself decides (`row_count`, `not_null`...): their aggregates ride
//!    along at next to no cost, where a second scan would read the data again.
//! 3. After the scan, checks are settled in dependency order: own queries (`unique`,
//!    `references`) run in waves, a check's only once everything it waits for passed or
//!    warned. A check whose prerequisite failed is skipped: its scanned values are
//!    discarded, it runs no own query and takes no samples.
//!
//! Besides `after:`, a failing `schema` check (one without an `after:` of its own) stands
//! before every check that cannot be planned because it needs a column that schema check
//! reports missing: such a check is `skipped` with the schema check and the column as the
//! reason, rather than `error`.

use std::collections::HashMap;

use datafusion::arrow::datatypes::Schema;
use sluice_spec::{CheckKind, SchemaSpec};

use super::plan::CheckPlan;
use crate::report::CheckStatus;

/// One check another waits for.
#[derive(Clone, Debug, PartialEq)]
struct Edge {
    /// The index of the check waited for.
    to: usize,
    /// For a schema check standing before a check by default: the missing columns that
    /// check needs.
    missing: Vec<String>,
}

/// Why a check is skipped.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Skip {
    /// The checks it waits for that failed, errored or were skipped.
    pub by: Vec<String>,
    /// The message: `skipped: schema failed`.
    pub message: String,
    /// The first root cause, for the checks waiting for this one: `schema failed`.
    root: String,
}

/// Where a check stands.
#[derive(Clone, Debug, PartialEq)]
enum State {
    /// Not decided yet.
    Pending,
    /// Decided: its status (its result is computed at the end).
    Done(CheckStatus),
    /// Skipped, and why.
    Skipped(Skip),
}

/// The order of one dataset's checks: for each, the checks it waits for.
#[derive(Debug)]
pub(super) struct Order {
    edges: Vec<Vec<Edge>>,
    names: Vec<String>,
    /// Where each check stands.
    states: Vec<State>,
}

impl Order {
    /// The order of `plans` (the dataset's checks, planned against `schema`): the
    /// `after:` of each, plus the default edges from failing schema checks to the checks
    /// needing a column they report missing.
    pub fn new(plans: &[CheckPlan<'_>], schema: &Schema) -> Order {
        let names: Vec<String> = plans.iter().map(|p| p.check.name.clone()).collect();
        let index: HashMap<&str, usize> = names
            .iter()
            .enumerate()
            .rev()
            .map(|(i, n)| (n.as_str(), i))
            .collect();
        // Schema checks that wait for nothing, with the columns they find missing.
        let schemas: Vec<(usize, Vec<String>)> = plans
            .iter()
            .enumerate()
            .filter(|(_, p)| p.check.after.is_empty())
            .filter_map(|(i, p)| match &p.check.kind {
                CheckKind::Schema(spec) => Some((i, missing_columns(spec, schema))),
                _ => None,
            })
            .filter(|(_, missing)| !missing.is_empty())
            .collect();
        let edges = plans
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let mut out: Vec<Edge> = p
                    .check
                    .after
                    .iter()
                    .filter_map(|a| index.get(a.name.as_str()).copied())
                    .filter(|&j| j != i)
                    .map(|to| Edge {
                        to,
                        missing: vec![],
                    })
                    .collect();
                let needs = needed_columns(p);
                for (s, missing) in &schemas {
                    if *s == i {
                        continue;
                    }
                    let named: Vec<String> = missing
                        .iter()
                        .filter(|m| needs.contains(&m.as_str()))
                        .cloned()
                        .collect();
                    if named.is_empty() {
                        continue;
                    }
                    match out.iter_mut().find(|e| e.to == *s) {
                        Some(e) => e.missing = named,
                        None => out.push(Edge {
                            to: *s,
                            missing: named,
                        }),
                    }
                }
                out
            })
            .collect();
        Order {
            edges,
            names,
            states: vec![State::Pending; plans.len()],
        }
    }

    /// Whether check `i` was skipped.
    pub fn skipped(&self, i: usize) -> Option<&Skip> {
        match &self.states[i] {
            State::Skipped(s) => Some(s),
            _ => None,
        }
    }

    /// Settles every pending check it can, in dependency order: one waiting for a check
    /// that failed, errored or was skipped is skipped; one whose prerequisites all passed
    /// or warned is decided by `decide` if `ready` says it can be, else stays pending.
    /// Returns the pending checks whose prerequisites are all settled (and not stopping).
    pub fn settle(
        &mut self,
        ready: impl Fn(usize) -> bool,
        mut decide: impl FnMut(usize) -> CheckStatus,
    ) -> Vec<usize> {
        loop {
            let mut changed = false;
            for i in 0..self.states.len() {
                if self.states[i] != State::Pending {
                    continue;
                }
                match self.prerequisites(i) {
                    Prerequisites::Pending => {}
                    Prerequisites::Stopped(skip) => {
                        self.states[i] = State::Skipped(skip);
                        changed = true;
                    }
                    Prerequisites::Clear if ready(i) => {
                        self.states[i] = State::Done(decide(i));
                        changed = true;
                    }
                    Prerequisites::Clear => {}
                }
            }
            if !changed {
                break;
            }
        }
        (0..self.states.len())
            .filter(|&i| {
                self.states[i] == State::Pending
                    && matches!(self.prerequisites(i), Prerequisites::Clear)
            })
            .collect()
    }

    /// Where the prerequisites of check `i` stand.
    fn prerequisites(&self, i: usize) -> Prerequisites {
        // (name, why it stops this check, its root cause)
        let mut stops: Vec<(String, String, String)> = Vec::new();
        let mut pending = false;
        for e in &self.edges[i] {
            let name = self.names[e.to].clone();
            let missing = match e.missing.as_slice() {
                [] => String::new(),
                [one] => format!(": column `{one}` is missing"),
                many => format!(
                    ": columns {} are missing",
                    many.iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            };
            let (why, root) = match &self.states[e.to] {
                State::Pending => {
                    pending = true;
                    continue;
                }
                State::Done(CheckStatus::Fail) => {
                    let why = format!("{name} failed{missing}");
                    (why.clone(), why)
                }
                State::Done(CheckStatus::Error) => {
                    let why = format!("{name} errored");
                    (why.clone(), why)
                }
                State::Done(_) => continue,
                State::Skipped(s) => (format!("{name} was skipped ({})", s.root), s.root.clone()),
            };
            stops.push((name, why, root));
        }
        if stops.is_empty() {
            return if pending {
                Prerequisites::Pending
            } else {
                Prerequisites::Clear
            };
        }
        // Skipped as soon as one prerequisite stops it; the message names every
        // prerequisite known to stop it by then.
        let message = format!(
            "skipped: {}",
            stops
                .iter()
                .map(|(_, why, _)| why.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
        let root = stops[0].2.clone();
        Prerequisites::Stopped(Skip {
            by: stops.into_iter().map(|(name, _, _)| name).collect(),
            message,
            root,
        })
    }
}

/// Where a check's prerequisites stand.
enum Prerequisites {
    /// Some are not decided yet, none stops it.
    Pending,
    /// All passed or warned (or there are none).
    Clear,
    /// One or more failed, errored or were skipped.
    Stopped(Skip),
}

/// The columns of `spec` absent from `schema`.
fn missing_columns(spec: &SchemaSpec, schema: &Schema) -> Vec<String> {
    spec.columns
        .iter()
        .filter(|(name, _)| schema.field_with_name(name).is_err())
        .map(|(name, _)| name.clone())
        .collect()
}

/// The columns a check that could not be planned needs: those it names, and the one its
/// planning error is about (an unknown column in its SQL). None if it was planned.
fn needed_columns<'p>(p: &'p CheckPlan<'_>) -> Vec<&'p str> {
    let Err(e) = &p.unit.exprs else {
        return vec![];
    };
    let mut cols = p.check.columns();
    if let Some(c) = &e.column {
        cols.push(c.as_str());
    }
    cols
}
