//! A stage's SQL as a script: its statements in order, with the tables the script itself
//! creates followed through it.
//!
//! A table the script creates is **internal** — neither an input nor an output of the
//! stage — when it does not outlive the script (temporary, dropped, or renamed away) or
//! when a later statement consumes it to write another table (an intermediate step). What
//! an internal table read is read by the stage: its inputs flow through to the final
//! outputs. A created table that is only queried afterwards (a row-count check) stays an
//! output. A table both read and written by the stage (`INSERT OVERWRITE t SELECT … FROM
//! t`, or a read of an output later in the script) is a **self-read**: kept apart, so the
//! graph gets no cycle.

use std::collections::{BTreeMap, BTreeSet};

use sqlparser::ast::Statement;

use super::TableFlow;
use super::statement::{Effect, effect, inner};

/// The flow of a whole script.
pub(super) fn analyse(statements: &[Statement]) -> TableFlow {
    let mut leaves = Vec::new();
    flatten(statements.iter(), &mut leaves);
    let mut s = Script::default();
    for st in leaves {
        s.apply(effect(st));
    }
    s.finish()
}

fn flatten<'a>(sts: impl Iterator<Item = &'a Statement>, out: &mut Vec<&'a Statement>) {
    for st in sts {
        match inner(st) {
            Some(children) => flatten(children.into_iter(), out),
            None => out.push(st),
        }
    }
}

#[derive(Default)]
struct Script {
    /// Tables the script created that still exist, and whether temporary.
    created: BTreeMap<String, bool>,
    internal: BTreeSet<String>,
    reads: BTreeSet<String>,
    writes: BTreeSet<String>,
    self_reads: BTreeSet<String>,
}

impl Script {
    fn apply(&mut self, e: Effect) {
        let targets: BTreeSet<&str> = e
            .writes
            .iter()
            .map(String::as_str)
            .chain(e.creates.iter().map(|(n, _)| n.as_str()))
            .chain(e.renames.iter().map(|(_, b)| b.as_str()))
            .collect();
        for r in &e.reads {
            if self.created.contains_key(r) {
                // Consumed to write another table: an intermediate step.
                if targets.iter().any(|t| *t != r) {
                    self.internal.insert(r.clone());
                }
            } else if targets.contains(r.as_str()) {
                self.self_reads.insert(r.clone());
            } else {
                self.reads.insert(r.clone());
            }
        }
        for w in e.writes {
            if !self.created.contains_key(&w) {
                self.writes.insert(w);
            }
        }
        for (name, temporary) in e.creates {
            if !temporary {
                self.writes.insert(name.clone());
            }
            self.internal.remove(&name);
            self.created.insert(name, temporary);
        }
        for d in e.drops {
            if self.created.remove(&d).is_some() {
                self.internal.insert(d);
            } else {
                self.writes.insert(d);
            }
        }
        for (from, to) in e.renames {
            match self.created.remove(&from) {
                Some(temporary) => {
                    self.internal.insert(from);
                    if !temporary {
                        self.writes.insert(to.clone());
                    }
                    self.created.insert(to, temporary);
                }
                None => {
                    self.reads.insert(from);
                    self.writes.insert(to);
                }
            }
        }
    }

    fn finish(mut self) -> TableFlow {
        for (name, temporary) in &self.created {
            if *temporary {
                self.internal.insert(name.clone());
            }
        }
        let internal = &self.internal;
        let writes: BTreeSet<String> = self
            .writes
            .into_iter()
            .filter(|w| !internal.contains(w))
            .collect();
        let mut self_reads = self.self_reads;
        let mut reads = BTreeSet::new();
        for r in self.reads {
            if internal.contains(&r) {
                continue;
            }
            if writes.contains(&r) {
                self_reads.insert(r);
            } else {
                reads.insert(r);
            }
        }
        TableFlow {
            reads: reads.into_iter().collect(),
            self_reads: self_reads
                .into_iter()
                .filter(|r| writes.contains(r))
                .collect(),
            writes: writes.into_iter().collect(),
            columns: vec![],
        }
    }
}
