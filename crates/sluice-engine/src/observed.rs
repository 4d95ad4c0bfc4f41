//! What a parity or reconciliation check observed, as typed values. The engine builds
//! them; they serialise to the `observed` field of the JSON report (the contract, below),
//! and a renderer reads them back typed with [`ParityObserved::of`] and
//! [`ReconcileObserved::of`] rather than by key.
//!
//! Parity:
//!
//! ```json
//! { "source": "orders", "target": "orders_target",
//!   "row_count": { "source": 5000000, "target": 4999991, "diff": -9, "tolerance": "exact", "ok": false },
//!   "aggregates": [ { "metric": "sum(amount)", "source": 335274641.65, "target": 335273911.22,
//!                     "diff": -730.43, "tolerance": "± 0.01", "ok": false } ],
//!   "groups": { "group_by": ["region"], "groups": 8, "out_of_tolerance": 1, "source_only": 0,
//!               "target_only": 0, "worst": [ { "group": {"region": "eu"}, "metric": "sum(amount)",
//!               "source": 1.0, "target": 2.0, "diff": 1.0 } ], "ok": false },
//!   "rows": { "keys": ["order_id"], "compared": ["amount"], "matched": 4997491, "missing": 9,
//!             "extra": 0, "changed": 7, "changed_by_column": { "amount": 7 },
//!             "duplicate_keys": { "source": 2500, "target": 2500 }, "null_keys": { "source": 0, "target": 0 },
//!             "diff_file": null, "join": "hash", "ok": false } }
//! ```
//!
//! `join` is `hash`, or `sort_merge` when the hash join did not fit in `--memory-limit` and
//! the diff ran again as a sort-merge join (which spills).
//!
//! Reconciliation:
//!
//! ```json
//! { "datasets": ["experiments", "payments", "ledger"], "key": ["payment_id"],
//!   "measures": ["amount"], "keys": 1000, "disagreeing_keys": 4, "partial_keys": 3,
//!   "missing": { "experiments": 0, "payments": 2, "ledger": 1 },
//!   "pairs": [ { "a": "experiments", "b": "payments", "both": 998, "disagree": 2,
//!                "only_a": 2, "only_b": 0 } ],
//!   "duplicate_keys": { "ledger": 1 } }
//! ```

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::report::CheckResult;

/// What a parity check observed; the parts it was asked to compare are present.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParityObserved {
    /// The source dataset (`against:`).
    pub source: String,
    /// The target dataset (the one carrying the parity).
    pub target: String,
    /// Row counts compared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<RowCountDiff>,
    /// Aggregates compared (`sum`, `avg`, ...), in config order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aggregates: Vec<AggregateDiff>,
    /// The per-group comparison (`group_by`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<GroupsDiff>,
    /// The keyed row diff (`keys`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<RowsDiff>,
}

impl ParityObserved {
    /// The observations of a `parity` check result (`None` for other kinds).
    pub fn of(c: &CheckResult) -> Option<ParityObserved> {
        (c.kind == "parity")
            .then(|| serde_json::from_value(c.observed.clone()).ok())
            .flatten()
    }
}

/// Row counts of both sides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowCountDiff {
    /// Rows in the source.
    pub source: u64,
    /// Rows in the target.
    pub target: u64,
    /// Target minus source.
    pub diff: i64,
    /// The tolerance, as text (`exact`, `± 10`, `± 0.1%`).
    pub tolerance: String,
    /// Within the tolerance.
    pub ok: bool,
}

/// One aggregate of both sides.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AggregateDiff {
    /// `sum(amount)`.
    pub metric: String,
    /// The source's value (a number, a date as text...).
    pub source: Value,
    /// The target's value.
    pub target: Value,
    /// Target minus source, when both are numbers (dates as seconds).
    pub diff: Value,
    /// The tolerance, as text.
    pub tolerance: String,
    /// Within the tolerance.
    pub ok: bool,
}

/// The per-group comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupsDiff {
    /// The grouping columns.
    pub group_by: Vec<String>,
    /// Groups on either side.
    pub groups: usize,
    /// Groups on both sides with a metric out of tolerance.
    pub out_of_tolerance: u64,
    /// Groups only in the source.
    pub source_only: u64,
    /// Groups only in the target.
    pub target_only: u64,
    /// The groups furthest out of tolerance (relative difference), worst first.
    pub worst: Vec<GroupDiff>,
    /// No group out of tolerance or on one side only.
    pub ok: bool,
}

/// One group's metric out of tolerance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupDiff {
    /// The group's values of the grouping columns.
    pub group: Map<String, Value>,
    /// The metric.
    pub metric: String,
    /// The source's value.
    pub source: Value,
    /// The target's value.
    pub target: Value,
    /// Target minus source (`null` unless both are numbers).
    pub diff: Value,
}

/// A value per side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PerSide {
    /// In the source.
    pub source: u64,
    /// In the target.
    pub target: u64,
}

/// The keyed row diff.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RowsDiff {
    /// The key columns (the target's names).
    pub keys: Vec<String>,
    /// The columns compared on matched keys.
    pub compared: Vec<String>,
    /// Keys on both sides.
    pub matched: u64,
    /// Keys only in the source.
    pub missing: u64,
    /// Keys only in the target.
    pub extra: u64,
    /// Matched keys with a compared column that differs.
    pub changed: u64,
    /// Changed rows per compared column.
    pub changed_by_column: Map<String, Value>,
    /// Values of the key occurring more than once, per side (not compared).
    pub duplicate_keys: PerSide,
    /// Rows with a NULL in the key, per side (not compared).
    pub null_keys: PerSide,
    /// The Parquet file of the differing rows (`--diff-output`).
    pub diff_file: Option<String>,
    /// `hash`, or `sort_merge` after the hash join ran out of memory.
    pub join: String,
    /// Within `max_missing`, `max_extra`, `max_changed`, `max_duplicates`.
    pub ok: bool,
}

/// What a reconciliation observed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileObserved {
    /// The datasets, in config order.
    pub datasets: Vec<String>,
    /// The key columns.
    pub key: Vec<String>,
    /// The measures compared.
    pub measures: Vec<String>,
    /// Keys seen in any dataset.
    pub keys: u64,
    /// Keys whose measures disagree between two datasets that have them.
    pub disagreeing_keys: u64,
    /// Keys missing from some dataset.
    pub partial_keys: u64,
    /// Keys missing from each dataset.
    pub missing: Map<String, Value>,
    /// Per pair of datasets.
    pub pairs: Vec<PairDiff>,
    /// Values of the key occurring more than once, per dataset (not compared).
    pub duplicate_keys: Map<String, Value>,
}

impl ReconcileObserved {
    /// The observations of a `reconcile` check result (`None` for other kinds, or one
    /// that could not run).
    pub fn of(c: &CheckResult) -> Option<ReconcileObserved> {
        (c.kind == "reconcile")
            .then(|| serde_json::from_value(c.observed.clone()).ok())
            .flatten()
    }
}

/// Two datasets of a reconciliation, side by side.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairDiff {
    /// The first.
    pub a: String,
    /// The second.
    pub b: String,
    /// Keys both have.
    pub both: u64,
    /// Keys both have whose measures disagree.
    pub disagree: u64,
    /// Keys only `a` has.
    pub only_a: u64,
    /// Keys only `b` has.
    pub only_b: u64,
}

/// A typed observation as the report's JSON value.
pub(crate) fn to_value(v: &impl Serialize) -> Value {
    serde_json::to_value(v).expect("observations serialise")
}
