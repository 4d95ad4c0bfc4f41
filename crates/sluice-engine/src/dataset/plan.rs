//! The plan of one dataset's run: each check compiled and planned on its own (so one bad
//! check cannot sink the scan), with the aggregates it adds to the fused scan; and the
//! extra aggregates other comparisons (parity, reconciliation) asked of the dataset.

use chrono::{DateTime, Utc};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::Expr;
use sluice_spec::{Check, CheckKind, Dataset, QuantileOrder};

use super::RunContext;
use super::explain::{check_exprs, explain, scoped};
use super::own::OwnOutcome;
use crate::compile::{Compiled, Eval, OwnQuery, compile, ident};
use crate::error::{CheckError, CheckErrorKind as K, df_message};
use crate::evaluate::{Measure, errored, evaluate};
use crate::native::NativeKind;
use crate::parity::Extra;
use crate::query::alias_all;
use crate::report::{CheckResult, CheckStatus};
use crate::source::Source;
use crate::values::{as_f64, as_instant, as_u64};

/// Aggregates evaluated together in the fused scan: a check's, or one extra's.
#[derive(Debug)]
pub(super) struct Unit {
    /// Its aggregates, or why it cannot run.
    pub exprs: Result<Vec<Expr>, CheckError>,
    /// Their values, once scanned.
    pub values: Option<Vec<ScalarValue>>,
    /// Wanted only if the dataset is scanned anyway (the dataset metrics a run records
    /// when no history check needs them): left out when the footers answer the rest.
    pub optional: bool,
}

impl Unit {
    fn new(exprs: Result<Vec<Expr>, CheckError>) -> Unit {
        Unit {
            exprs,
            values: None,
            optional: false,
        }
    }

    /// Marks it failed (when it failed on the data, run alone).
    pub fn fail(&mut self, e: CheckError) {
        self.exprs = Err(e);
        self.values = None;
    }

    /// The value of an extra aggregate, or why there is none.
    pub fn into_value(self) -> Result<ScalarValue, CheckError> {
        match (self.values, self.exprs) {
            (Some(v), _) => v
                .into_iter()
                .next()
                .ok_or_else(|| CheckError::new(K::Internal, "no value")),
            (None, Err(e)) => Err(e),
            (None, Ok(_)) => Err(CheckError::new(K::Internal, "not evaluated")),
        }
    }
}

/// One check of the dataset, from compilation to its result.
#[derive(Debug)]
pub(super) struct CheckPlan<'a> {
    /// The check.
    pub check: &'a Check,
    /// How it is evaluated (`None`: it did not compile; the unit holds why).
    pub compiled: Option<Compiled>,
    /// Its aggregates in the fused scan.
    pub unit: Unit,
    /// Its own query's outcome and duration, for checks that run one.
    pub own: Option<(Result<OwnOutcome, CheckError>, u64)>,
    /// Where the fused scan computed its own query's totals ([`crate::native`]).
    pub native: Option<NativePlan>,
}

/// A grouped check computed in the fused scan.
#[derive(Debug)]
pub(super) struct NativePlan {
    /// The position of the native aggregate among the unit's values.
    pub index: usize,
    /// `completeness`: the size of each grid dimension.
    pub sizes: Vec<u64>,
}

impl<'a> CheckPlan<'a> {
    /// Compiles `check` against the dataset's schema and, when `alone`, plans its
    /// aggregates alone: a missing column, a wrong type or SQL that does not plan is this
    /// check's error only. (Without `alone`, [`plans_together`] must plan them.)
    pub fn new(
        cx: &RunContext<'_>,
        ds: &Dataset,
        source: &Source,
        df: &DataFrame,
        check: &'a Check,
        alone: bool,
    ) -> CheckPlan<'a> {
        let others = |name: &str| match cx.sources.get(name) {
            Some(Ok(s)) => Some(Ok(s.schema.as_ref())),
            Some(Err(e)) => Some(Err(e.message.as_str())),
            // No published version yet: the comparison passes with a note.
            None if crate::compare::uses_published(check) => None,
            None => Some(Err("it was not opened")),
        };
        let planned = compile(check, &ds.name, &source.schema, &others).and_then(|c| {
            let exprs = check_exprs(df, &c, check, &ds.name, &source.schema)?;
            if alone && !exprs.is_empty() {
                df.clone()
                    .aggregate(vec![], alias_all(&exprs, "v"))
                    .and_then(|d| d.into_optimized_plan())
                    .map_err(|e| explain(check, &e, &source.schema, K::Sql))?;
            }
            Ok((c, exprs))
        });
        let (compiled, exprs) = match planned {
            Ok((c, exprs)) => (Some(c), Ok(exprs)),
            Err(e) => (None, Err(e)),
        };
        CheckPlan {
            check,
            compiled,
            unit: Unit::new(exprs),
            own: None,
            native: None,
        }
    }

    /// Moves a grouped check's totals into the fused scan when [`crate::native`] covers
    /// it (a `completeness` grid's values are read first); otherwise leaves it to its own
    /// query. Returns the queries it ran.
    pub async fn attach_native(&mut self, cx: &RunContext<'_>, source: &Source) -> u32 {
        let mut queries = 0;
        // A cluster's executors cannot run an aggregate built for one check: its own
        // query answers instead.
        if self.check.filter.is_some() || cx.distributed {
            return queries;
        }
        let (Some(compiled), Ok(exprs)) = (&self.compiled, &mut self.unit.exprs) else {
            return queries;
        };
        let schema = &source.schema;
        let typed = |cols: Vec<&'a str>| -> Option<Vec<(&'a str, DataType)>> {
            cols.into_iter()
                .map(|c| Some((c, schema.field_with_name(c).ok()?.data_type().clone())))
                .collect()
        };
        let (kind, columns, keys, sizes) = match (&self.check.kind, &compiled.own) {
            (CheckKind::NotConstant { series, column }, Some(OwnQuery::Groups(_))) => {
                let cols = series.iter().map(String::as_str).chain([column.as_str()]);
                let Some(columns) = typed(cols.collect()) else {
                    return queries;
                };
                (NativeKind::NotConstant, columns, series.len(), vec![])
            }
            (
                CheckKind::QuantilesOrdered(QuantileOrder::Long {
                    level,
                    value,
                    by,
                    tolerance,
                }),
                Some(OwnQuery::Groups(_)),
            ) => {
                let cols = by
                    .iter()
                    .map(String::as_str)
                    .chain([level.as_str(), value.as_str()]);
                let Some(columns) = typed(cols.collect()) else {
                    return queries;
                };
                let kind = NativeKind::QuantileOrder {
                    tolerance: *tolerance,
                };
                (kind, columns, by.len(), vec![])
            }
            (CheckKind::Completeness(_), Some(OwnQuery::Completeness(grid))) => {
                let Some(dims) = grid.static_dimensions() else {
                    return queries;
                };
                let mut maps = Vec::with_capacity(dims.len());
                let mut columns = Vec::with_capacity(dims.len());
                for (column, relation) in &dims {
                    let Ok(field) = schema.field_with_name(column) else {
                        return queries;
                    };
                    let sql = format!("SELECT {} FROM ({relation}) AS \"__r\"", ident(column));
                    queries += 1;
                    let values = match cx.session.sql(&sql).await {
                        Ok(df) => df.collect().await,
                        Err(e) => Err(e),
                    };
                    let Ok(batches) = values else {
                        // Its own query reports what is wrong.
                        return queries;
                    };
                    let arrays: Vec<_> = batches.iter().map(|b| b.column(0).clone()).collect();
                    let Some(map) = crate::native::dimension(&arrays, field.data_type()) else {
                        return queries;
                    };
                    maps.push(map);
                    columns.push((field.name().as_str(), field.data_type().clone()));
                }
                let sizes: Vec<u64> = maps.iter().map(|m| m.len() as u64).collect();
                let total = sizes.iter().try_fold(1u64, |a, b| a.checked_mul(*b));
                if !total.is_some_and(|t| t > 0 && t <= crate::pack::MAX_FAST_GRID) {
                    return queries;
                }
                let keys = maps.len();
                (NativeKind::Grid { dims: maps }, columns, keys, sizes)
            }
            _ => return queries,
        };
        let refs: Vec<(&str, &DataType)> = columns.iter().map(|(c, t)| (*c, t)).collect();
        if let Some(call) = crate::native::call(kind, &refs, keys) {
            exprs.push(call);
            self.native = Some(NativePlan {
                index: exprs.len() - 1,
                sizes,
            });
        }
        queries
    }

    /// The totals the fused scan computed natively for its own query, if it did.
    pub fn native_totals(&self) -> Option<(u64, u64)> {
        let n = self.native.as_ref()?;
        crate::native::result(self.unit.values.as_ref()?.get(n.index)?)
    }

    /// Whether planning alone decides it: it could not be planned, or it reads nothing
    /// from the data (`schema`).
    pub fn settled_by_planning(&self) -> bool {
        match (&self.unit.exprs, &self.compiled) {
            (Err(_), _) => true,
            (Ok(exprs), Some(c)) => exprs.is_empty() && c.own.is_none(),
            (Ok(_), None) => false,
        }
    }

    /// Whether it runs a query of its own after the fused scan (it was scanned, and its
    /// kind needs one).
    pub fn has_own_query(&self) -> bool {
        self.unit.values.is_some() && self.compiled.as_ref().is_some_and(|c| c.own.is_some())
    }

    /// What the check measured, from its aggregates (and own query).
    fn measure(&self, now: DateTime<Utc>, total_rows: u64) -> Result<Measure, CheckError> {
        let compiled = match (&self.compiled, &self.unit.exprs) {
            (Some(c), Ok(_)) => c,
            (_, Err(e)) => return Err(e.clone()),
            (None, Ok(_)) => return Err(CheckError::new(K::Internal, "not compiled")),
        };
        let v = self.unit.values.clone().unwrap_or_default();
        let first = || v.first().map(as_u64).unwrap_or(0);
        Ok(match &compiled.eval {
            Eval::RowCount => Measure::Rows(first()),
            Eval::Invalid => Measure::Invalid {
                failing: first(),
                in_scope: v.get(1).map(as_u64).unwrap_or(total_rows),
                duplicates: None,
            },
            // Their last aggregate counts the rows in scope; for duplicates the first counts
            // rows with a complete key, so distinct = those - extra rows.
            Eval::Duplicates | Eval::OwnInvalid => match &self.own {
                Some((Ok(own), _)) => Measure::Invalid {
                    failing: own.failing,
                    in_scope: own
                        .in_scope
                        .unwrap_or_else(|| v.last().map(as_u64).unwrap_or(total_rows)),
                    duplicates: own
                        .duplicated_values
                        .map(|d| (d, first().saturating_sub(own.failing))),
                },
                Some((Err(e), _)) => return Err(e.clone()),
                None => return Err(CheckError::new(K::Internal, "its own query did not run")),
            },
            Eval::Freshness => Measure::Newest(
                v.first()
                    .and_then(as_instant)
                    .map(|at| (at, (now - at).num_seconds())),
            ),
            Eval::Metric => Measure::Value(v.first().and_then(as_f64)),
            Eval::GroupBounds => match &self.own {
                Some((Ok(own), _)) => Measure::Groups {
                    fail: own.failing,
                    warn: own.warning,
                    groups: own.in_scope.unwrap_or(0),
                },
                Some((Err(e), _)) => return Err(e.clone()),
                None => return Err(CheckError::new(K::Internal, "its own query did not run")),
            },
            Eval::Schema(problems) => Measure::Problems(problems.clone()),
            Eval::History => {
                return Err(CheckError::new(
                    K::Internal,
                    "judged after the other checks",
                ));
            }
            Eval::Compared => match &self.own {
                Some((Ok(own), _)) => match &own.compared {
                    Some(c) => Measure::Compared(c.clone()),
                    None => return Err(CheckError::new(K::Internal, "no comparison")),
                },
                Some((Err(e), _)) => return Err(e.clone()),
                None => return Err(CheckError::new(K::Internal, "its own query did not run")),
            },
        })
    }

    /// The check's result (samples come later, for the checks that failed).
    pub fn result(&self, cx: &RunContext<'_>, ds: &Dataset, total_rows: u64) -> CheckResult {
        let location = cx.config.location(self.check.span).to_string();
        let measure = match self.measure(cx.now, total_rows) {
            Ok(m) => m,
            Err(e) => return errored(self.check, &ds.name, location, Some(total_rows), e.message),
        };
        let mut r = evaluate(self.check, &ds.name, location, total_rows, measure);
        if let Some((own, ms)) = &self.own {
            r.duration_ms = Some(*ms);
            if let Ok(own) = own
                && let Some(m) = &own.message
            {
                r.message = m.clone();
            }
            if let Ok(own) = own
                && matches!(r.status, CheckStatus::Fail | CheckStatus::Warn)
            {
                r.samples = own
                    .samples
                    .iter()
                    .take(self.check.samples as usize)
                    .cloned()
                    .collect();
            }
        }
        r
    }
}

/// Whether the aggregates of all `plans` plan as one query: then each plans alone too, and
/// planning each alone (an optimizer pass per check, most of a small file's run) is
/// skipped. Otherwise the caller plans each alone, to find which fail and why.
pub(super) fn plans_together(df: &DataFrame, plans: &[CheckPlan<'_>]) -> bool {
    let exprs: Vec<Expr> = plans
        .iter()
        .filter_map(|p| p.unit.exprs.as_ref().ok())
        .flatten()
        .cloned()
        .collect();
    exprs.is_empty()
        || df
            .clone()
            .aggregate(vec![], alias_all(&exprs, "v"))
            .and_then(|d| d.into_optimized_plan())
            .is_ok()
}

/// The unit of an aggregate another comparison asked of the dataset, planned alone.
pub(super) fn extra_unit(df: &DataFrame, x: &Extra) -> Unit {
    let planned = (|| {
        let scope = match &x.filter {
            Some(f) => Some(df.parse_sql_expr(f).map_err(|e| {
                CheckError::new(K::Sql, format!("invalid `where` `{f}`: {}", df_message(&e)))
            })?),
            None => None,
        };
        let sql_error =
            |e: datafusion::error::DataFusionError| CheckError::query(K::Sql, df_message(&e));
        let e = df
            .parse_sql_expr(&x.sql)
            .and_then(|e| scoped(e, scope.as_ref()))
            .map_err(sql_error)?;
        df.clone()
            .aggregate(vec![], vec![e.clone().alias("v")])
            .and_then(|d| d.into_optimized_plan())
            .map_err(sql_error)?;
        Ok(vec![e])
    })();
    Unit::new(planned)
}
