//! The fused scan: `count(*)` plus every unit's aggregates, deduplicated, in one query over
//! the dataset — less the aggregates the Parquet footers answer ([`super::footer`]): when
//! they answer every aggregate a check needs, the dataset is not read at all. If it fails, a `count(*)` alone tells an unreadable source (every check
//! `error`) from an aggregate that fails on the data (that unit alone `error`, the others
//! evaluated one by one).

use std::collections::HashMap;

use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::functions_aggregate::count::count_all;
use datafusion::logical_expr::Expr;
use sluice_spec::{Check, Dataset};
use tracing::debug;

use super::RunContext;
use super::explain::{read_error, unit_error};
use super::footer::Footers;
use super::plan::Unit;
use crate::error::{SourceError, df_message};
use crate::query::{Kind, alias_all, one_row};
use crate::report::DatasetReport;
use crate::source::Source;
use crate::values::as_u64;

/// The units of a scan, each with the check it belongs to (`None`: an extra aggregate).
pub(super) type Units<'u, 'c> = Vec<(&'u mut Unit, Option<&'c Check>)>;

/// Runs the fused scan over `units`, storing each unit's values; returns the dataset's row
/// count, or why the source cannot be read.
pub(super) async fn fused(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    df: &DataFrame,
    mut units: Units<'_, '_>,
    report: &mut DatasetReport,
) -> Result<u64, SourceError> {
    // `count(*)` first, then each unit's aggregates, an expression met twice scanned once.
    let mut fused: Vec<Expr> = vec![count_all()];
    let mut slot_of: HashMap<String, usize> = HashMap::new();
    let slots: Vec<Vec<usize>> = units
        .iter()
        .map(|(u, _)| match &u.exprs {
            Ok(exprs) => exprs
                .iter()
                .map(|e| {
                    *slot_of.entry(e.to_string()).or_insert_with(|| {
                        fused.push(e.clone());
                        fused.len() - 1
                    })
                })
                .collect(),
            Err(_) => vec![],
        })
        .collect();
    // What the footers settle; a unit only some checks might use (`optional`) does not
    // make the scan happen on its own.
    let footers = Footers::read(cx.session, source, df).await;
    let answers: Vec<Option<ScalarValue>> = fused
        .iter()
        .map(|e| footers.as_ref().and_then(|f| f.answer(e)))
        .collect();
    let answered = |s: &[usize]| s.iter().all(|&i| answers[i].is_some());
    for ((u, _), s) in units.iter_mut().zip(&slots) {
        if u.exprs.is_ok() && answered(s) {
            u.values = Some(
                s.iter()
                    .map(|&i| answers[i].clone().expect("answered"))
                    .collect(),
            );
        }
    }
    let must_scan = units
        .iter()
        .any(|(u, _)| u.exprs.is_ok() && u.values.is_none() && !u.optional);
    if let Some(f) = footers.as_ref().filter(|_| !must_scan) {
        debug!(
            aggregates = fused.len(),
            "fused scan answered by the Parquet footers"
        );
        return Ok(f.rows());
    }
    // The scan: `count(*)`, then the aggregates the footers left.
    let left: Vec<usize> = (1..fused.len()).filter(|&i| answers[i].is_none()).collect();
    let query: Vec<Expr> = std::iter::once(fused[0].clone())
        .chain(left.iter().map(|&i| fused[i].clone()))
        .collect();
    debug!(
        aggregates = query.len(),
        from_footers = fused.len() - query.len(),
        "fused scan"
    );
    report.queries += 1;
    let scanned = match df.clone().aggregate(vec![], alias_all(&query, "m")) {
        Ok(f) => one_row(f, cx.progress, Kind::Fused)
            .await
            .map_err(|e| df_message(&e)),
        Err(e) => Err(df_message(&e)),
    };
    match scanned {
        Ok(v) => {
            let mut all = answers;
            all[0] = Some(v[0].clone());
            for (&i, value) in left.iter().zip(&v[1..]) {
                all[i] = Some(value.clone());
            }
            for ((u, _), s) in units.iter_mut().zip(&slots) {
                if u.exprs.is_ok() && u.values.is_none() {
                    u.values = Some(
                        s.iter()
                            .map(|&i| all[i].clone().expect("scanned or answered"))
                            .collect(),
                    );
                }
            }
            Ok(as_u64(&v[0]))
        }
        // The cluster failed the query, not the data: every check is `error` with why.
        Err(fused_err) if crate::error::is_cluster_failure(&fused_err) => Err(SourceError::new(
            crate::error::SourceErrorKind::Unreachable,
            &ds.location,
            fused_err,
        )),
        Err(fused_err) => one_by_one(cx, ds, source, df, units, report, &fused_err).await,
    }
}

/// After a failed fused scan: is the source unreadable, or did some unit's expression fail
/// on the data? Runs `count(*)` alone, then each unit alone.
async fn one_by_one(
    cx: &RunContext<'_>,
    ds: &Dataset,
    source: &Source,
    df: &DataFrame,
    units: Units<'_, '_>,
    report: &mut DatasetReport,
    fused_err: &str,
) -> Result<u64, SourceError> {
    report.queries += 1;
    let probe = match df.clone().aggregate(vec![], vec![count_all()]) {
        Ok(c) => one_row(c, cx.progress, Kind::Fused)
            .await
            .map_err(|e| df_message(&e)),
        Err(e) => Err(df_message(&e)),
    };
    let rows: Vec<ScalarValue> = match probe {
        Err(read_err) => return Err(read_error(cx, ds, source, &read_err).await),
        Ok(v) => v,
    };
    debug!(error = %fused_err, "fused scan failed; running units one by one");
    for (unit, check) in units {
        let Ok(exprs) = &unit.exprs else {
            continue;
        };
        if unit.values.is_some() {
            // Answered by the footers.
            continue;
        }
        if exprs.is_empty() {
            unit.values = Some(vec![]);
            continue;
        }
        report.queries += 1;
        let alone = match df.clone().aggregate(vec![], alias_all(exprs, "v")) {
            Ok(a) => one_row(a, None, Kind::Check).await,
            Err(e) => Err(e),
        };
        match alone {
            Ok(vals) => unit.values = Some(vals),
            Err(e) => unit.fail(unit_error(cx, ds, source, check, &e).await),
        }
    }
    Ok(as_u64(&rows[0]))
}
