//! `distribution`: a column against a reference (another dataset, or the published
//! version of this one).
//!
//! Numeric columns: the two-sample Kolmogorov–Smirnov statistic `D`, **exact** — both
//! samples' values are grouped (`GROUP BY x`), their counts accumulated in value order (a
//! window sum) and `D = max |F_new(x) − F_ref(x)|` taken over every distinct value, which
//! is what scipy's `ks_2samp` computes; the cost is a sort of the distinct values. Its
//! p-value is the asymptotic one (the Kolmogorov distribution at `sqrt(n·m/(n+m))·D`,
//! scipy's `kstwobign.sf`). PSI over `bins` bins cut at the reference's quantiles (exact
//! `percentile_cont` up to 1,000,000 reference values, `approx_percentile_cont` beyond),
//! each side's counts in one scan of `count(*) FILTER (...)`s.
//!
//! Categorical columns (strings, booleans, or `categorical: true`): counts per value
//! (`GROUP BY`, at most 10,000 values), PSI over the values, and the chi-square test of
//! homogeneity of the two samples (no continuity correction).

use serde_json::{Map, Value, json};
use sluice_spec::DistributionSpec;

use super::stats::{chi2_homogeneity, ks_pvalue, psi, share};
use super::{Comparison, Other, Query, exact, f64_column, lit, round, short};
use crate::compile::{field, ident};
use crate::error::{CheckError, CheckErrorKind as K};
use crate::values::{as_f64, as_u64};

/// Reference values up to which the PSI bin edges are exact quantiles.
const EXACT_QUANTILES: u64 = 1_000_000;

/// Distinct values a categorical comparison takes at most.
const MAX_CATEGORIES: usize = 10_000;

pub(super) async fn run(
    q: &Query<'_>,
    spec: &DistributionSpec,
    other: &Other,
) -> Result<Comparison, CheckError> {
    let schema = &q
        .cx
        .sources
        .get(&q.ds.name)
        .and_then(|s| s.as_ref().ok())
        .ok_or_else(|| CheckError::new(K::Internal, "the dataset is not open"))?
        .schema;
    let dt = field(schema, &q.ds.name, &spec.column)?.data_type().clone();
    let categorical = spec.categorical.unwrap_or(!dt.is_numeric());
    let side = Sides {
        new: format!(
            "SELECT {} AS x FROM {} WHERE {} IS NOT NULL{}",
            cast(&spec.column, categorical),
            q.table(),
            ident(&spec.column),
            q.and_scope()
        ),
        reference: format!(
            "SELECT {} AS x FROM {} WHERE {} IS NOT NULL",
            cast(spec.reference_column(), categorical),
            ident(&other.table),
            ident(spec.reference_column())
        ),
    };
    let mut observed = Map::new();
    observed.insert("reference".into(), json!(other.label));
    observed.insert("column".into(), json!(spec.column));
    observed.insert("reference_column".into(), json!(spec.reference_column()));
    let cmp = if categorical {
        observed.insert("type".into(), json!("categorical"));
        categorical_cmp(q, &side, observed).await?
    } else {
        observed.insert("type".into(), json!("numeric"));
        numeric_cmp(q, spec, &side, observed).await?
    };
    Ok(Comparison {
        message: format!("{} vs {}", cmp.message, describe(spec, other)),
        ..cmp
    })
}

/// `sales.units`, `the published version v3`.
fn describe(spec: &DistributionSpec, other: &Other) -> String {
    if other.table.ends_with("@published") {
        other.label.clone()
    } else {
        format!("{}.{}", other.label, spec.reference_column())
    }
}

/// Each side's values as a subquery with one column `x`.
struct Sides {
    new: String,
    reference: String,
}

fn cast(column: &str, categorical: bool) -> String {
    let t = if categorical { "VARCHAR" } else { "DOUBLE" };
    format!("CAST({} AS {t})", ident(column))
}

async fn numeric_cmp(
    q: &Query<'_>,
    spec: &DistributionSpec,
    side: &Sides,
    mut observed: Map<String, Value>,
) -> Result<Comparison, CheckError> {
    // 1. The reference's bin edges: its quantiles at 1/bins, 2/bins, ...
    let m = as_u64(
        &q.row(&format!("SELECT count(*) FROM ({})", side.reference))
            .await?[0],
    );
    if m == 0 {
        return Err(no_values("the reference", spec.reference_column()));
    }
    let exact_quantiles = m <= EXACT_QUANTILES;
    let func = if exact_quantiles {
        "percentile_cont"
    } else {
        "approx_percentile_cont"
    };
    let qs: Vec<String> = (1..spec.bins)
        .map(|i| {
            format!(
                "{func}({}) WITHIN GROUP (ORDER BY x)",
                i as f64 / spec.bins as f64
            )
        })
        .collect();
    let row = q
        .row(&format!(
            "SELECT {} FROM ({})",
            qs.join(", "),
            side.reference
        ))
        .await?;
    let mut edges: Vec<f64> = row
        .iter()
        .filter_map(as_f64)
        .filter(|e| e.is_finite())
        .collect();
    edges.sort_by(f64::total_cmp);
    edges.dedup();

    // 2. Each side's counts per bin: x <= e1, e1 < x <= e2, ..., x > e_last.
    let bins_sql = bin_filters(&edges);
    let count = |sub: &str| format!("SELECT {bins_sql} FROM ({sub})");
    let new_counts: Vec<u64> = q.row(&count(&side.new)).await?.iter().map(as_u64).collect();
    let ref_counts: Vec<u64> = q
        .row(&count(&side.reference))
        .await?
        .iter()
        .map(as_u64)
        .collect();
    let n: u64 = new_counts.iter().sum();
    if n == 0 {
        return Err(no_values("the checked data", &spec.column));
    }
    let (psi_total, terms) = psi(&new_counts, &ref_counts);

    // 3. KS: the largest gap between the two empirical CDFs, over every distinct value.
    let ks_sql = format!(
        "WITH v AS (SELECT x, 1 AS a, 0 AS b FROM ({new}) UNION ALL SELECT x, 0 AS a, 1 AS b FROM ({reference})), \
         g AS (SELECT x, sum(a) AS a, sum(b) AS b FROM v GROUP BY x), \
         c AS (SELECT x, sum(a) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS ca, \
                         sum(b) OVER (ORDER BY x ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cb FROM g) \
         SELECT x, abs(CAST(ca AS DOUBLE) / {nn} - CAST(cb AS DOUBLE) / {mm}) AS d FROM c ORDER BY d DESC, x LIMIT 1",
        new = side.new,
        reference = side.reference,
        nn = lit(n as f64),
        mm = lit(m as f64),
    );
    let ks = q.row(&ks_sql).await?;
    let d = ks.get(1).and_then(as_f64).unwrap_or(0.0);
    let at = ks.first().and_then(as_f64);
    let p = ks_pvalue(d, n, m);

    observed.insert("values".into(), json!(n));
    observed.insert("reference_values".into(), json!(m));
    observed.insert("ks_d".into(), exact(d));
    observed.insert("ks_p".into(), exact(p));
    observed.insert("ks_at".into(), at.map(round).unwrap_or(Value::Null));
    observed.insert("psi".into(), exact(psi_total));
    observed.insert(
        "quantiles".into(),
        json!(if exact_quantiles {
            "exact"
        } else {
            "approximate"
        }),
    );
    let bins: Vec<Map<String, Value>> = (0..new_counts.len())
        .map(|i| {
            let label = match (i.checked_sub(1).map(|j| edges[j]), edges.get(i)) {
                (None, Some(hi)) => format!("≤ {}", short(*hi)),
                (Some(lo), Some(hi)) => format!("({}, {}]", short(lo), short(*hi)),
                (Some(lo), None) => format!("> {}", short(lo)),
                (None, None) => "all".to_string(),
            };
            bin_row(
                "bin",
                Value::from(label),
                new_counts[i],
                n,
                ref_counts[i],
                m,
                terms[i],
            )
        })
        .collect();
    observed.insert("bins".into(), Value::from(bins.clone()));
    let at_text = at.map(|x| format!(" at {}", short(x))).unwrap_or_default();
    Ok(Comparison {
        stats: vec![("ks_d", d), ("ks_p", p), ("psi", psi_total)],
        failing: None,
        observed: Value::Object(observed),
        message: format!(
            "KS D = {}{at_text} (p = {}), PSI = {} over {} bins; {n} values",
            short(d),
            short(p),
            short(psi_total),
            new_counts.len()
        ),
        samples: heaviest(bins, q.samples()),
    })
}

/// `count(*) FILTER (WHERE x <= e1), ...`: one count per bin.
fn bin_filters(edges: &[f64]) -> String {
    let mut parts = Vec::with_capacity(edges.len() + 1);
    for (i, e) in edges.iter().enumerate() {
        let cond = match i {
            0 => format!("x <= {}", lit(*e)),
            _ => format!("x > {} AND x <= {}", lit(edges[i - 1]), lit(*e)),
        };
        parts.push(format!("count(*) FILTER (WHERE {cond})"));
    }
    match edges.last() {
        Some(e) => parts.push(format!("count(*) FILTER (WHERE x > {})", lit(*e))),
        None => parts.push("count(*)".to_string()),
    }
    parts.join(", ")
}

async fn categorical_cmp(
    q: &Query<'_>,
    side: &Sides,
    mut observed: Map<String, Value>,
) -> Result<Comparison, CheckError> {
    let counts = |sub: &str| {
        format!(
            "SELECT x, count(*) AS n FROM ({sub}) GROUP BY x ORDER BY x LIMIT {}",
            MAX_CATEGORIES + 1
        )
    };
    let new = value_counts(&q.batches(&counts(&side.new)).await?);
    let reference = value_counts(&q.batches(&counts(&side.reference)).await?);
    let mut values: Vec<&String> = new.iter().chain(reference.iter()).map(|(v, _)| v).collect();
    values.sort();
    values.dedup();
    if values.len() > MAX_CATEGORIES {
        return Err(CheckError::new(
            K::Evaluation,
            format!(
                "more than {MAX_CATEGORIES} distinct values: too many categories to compare; compare a numeric column, or bucket the values first"
            ),
        ));
    }
    let get = |side: &[(String, u64)], v: &str| {
        side.iter()
            .find(|(k, _)| k == v)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    let a: Vec<u64> = values.iter().map(|v| get(&new, v)).collect();
    let b: Vec<u64> = values.iter().map(|v| get(&reference, v)).collect();
    let (n, m) = (a.iter().sum::<u64>(), b.iter().sum::<u64>());
    if n == 0 {
        return Err(no_values("the checked data", "the column"));
    }
    if m == 0 {
        return Err(no_values("the reference", "the column"));
    }
    let (psi_total, terms) = psi(&a, &b);
    let chi = chi2_homogeneity(&a, &b);
    observed.insert("values".into(), json!(n));
    observed.insert("reference_values".into(), json!(m));
    observed.insert("psi".into(), exact(psi_total));
    let mut stats = vec![("psi", psi_total)];
    let chi_text = match chi {
        Some((stat, dof, p)) => {
            observed.insert("chi2".into(), exact(stat));
            observed.insert("chi2_dof".into(), json!(dof));
            observed.insert("chi2_p".into(), exact(p));
            stats.push(("chi2_p", p));
            format!(", chi² = {} (dof {dof}, p = {})", short(stat), short(p))
        }
        None => ", chi² not computed (a single category)".to_string(),
    };
    let cats: Vec<Map<String, Value>> = values
        .iter()
        .enumerate()
        .map(|(i, v)| bin_row("value", json!(v), a[i], n, b[i], m, terms[i]))
        .collect();
    let heavy = heaviest(cats, 20);
    observed.insert("categories".into(), Value::from(heavy.clone()));
    Ok(Comparison {
        stats,
        failing: None,
        observed: Value::Object(observed),
        message: format!(
            "PSI = {} over {} values{chi_text}; {n} rows",
            short(psi_total),
            values.len()
        ),
        samples: heavy.into_iter().take(q.samples()).collect(),
    })
}

/// `(value, count)` rows of a `GROUP BY`.
fn value_counts(batches: &[datafusion::arrow::array::RecordBatch]) -> Vec<(String, u64)> {
    let values = crate::values::rows(batches);
    let counts = f64_column(batches, 1);
    values
        .into_iter()
        .zip(counts)
        .map(|(row, n)| {
            let v = match row.get("x") {
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            (v, n.unwrap_or(0.0) as u64)
        })
        .collect()
}

/// One bin or category: shares on both sides and its PSI term.
fn bin_row(
    key: &str,
    label: Value,
    a: u64,
    n: u64,
    b: u64,
    m: u64,
    term: f64,
) -> Map<String, Value> {
    let mut r = Map::new();
    r.insert(key.into(), label);
    r.insert("share".into(), round(share(a, n as f64)));
    r.insert("reference_share".into(), round(share(b, m as f64)));
    r.insert("psi".into(), round(term));
    r
}

/// The `k` rows with the largest PSI terms, largest first.
fn heaviest(mut rows: Vec<Map<String, Value>>, k: usize) -> Vec<Map<String, Value>> {
    let term = |r: &Map<String, Value>| r.get("psi").and_then(Value::as_f64).unwrap_or(0.0);
    rows.sort_by(|x, y| term(y).total_cmp(&term(x)));
    rows.truncate(k);
    rows
}

fn no_values(side: &str, column: &str) -> CheckError {
    CheckError::new(
        K::Evaluation,
        format!("{side} has no non-NULL values of `{column}`: no distribution to compare"),
    )
}
