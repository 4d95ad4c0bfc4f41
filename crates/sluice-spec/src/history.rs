//! Checks over metric history (`change`, `anomaly`) and the history's retention
//! (`history: { keep: 400d }`).
//!
//! A *metric* is what a run records per dataset: the observed value of every check (a
//! number, or each numeric field of an object as `check.field`) and the dataset metrics
//! computed in the one scan (`row_count`; `null_count(c)`, `min(c)`, `max(c)`, `mean(c)` of
//! the checked columns). History checks name one by [`MetricRef`].

use std::fmt;
use std::time::Duration;

/// `history:`: how long metric history is kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct HistoryPolicy {
    /// `keep:`: values older than this are deleted when a run is recorded.
    pub keep: Duration,
}

impl Default for HistoryPolicy {
    fn default() -> Self {
        HistoryPolicy {
            keep: Duration::from_secs(400 * 86_400),
        }
    }
}

/// The dataset metrics a run records besides its checks' observed values.
pub const DATASET_METRICS: &[&str] = &["row_count", "null_count", "min", "max", "mean"];

/// A metric a history check watches, as written in `metric:`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum MetricRef {
    /// A check's observed value (`not_null(x)`), or a numeric field of it
    /// (`distribution(x).psi`): the name as recorded.
    Check(String),
    /// `row_count` of the dataset (every row, not a check's scope).
    RowCount,
    /// `null_count(c)`, `min(c)`, `max(c)` or `mean(c)` of a column.
    Column {
        /// `null_count`, `min`, `max` or `mean`.
        func: ColumnMetric,
        /// The column.
        column: String,
    },
}

/// A per-column dataset metric.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColumnMetric {
    /// NULLs in the column.
    NullCount,
    /// Smallest value (numeric columns).
    Min,
    /// Largest value (numeric columns).
    Max,
    /// Mean (numeric columns).
    Mean,
}

impl ColumnMetric {
    /// Every per-column metric.
    pub const ALL: [ColumnMetric; 4] = [
        ColumnMetric::NullCount,
        ColumnMetric::Min,
        ColumnMetric::Max,
        ColumnMetric::Mean,
    ];

    /// Its name: `null_count`, `min`, `max`, `mean`.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnMetric::NullCount => "null_count",
            ColumnMetric::Min => "min",
            ColumnMetric::Max => "max",
            ColumnMetric::Mean => "mean",
        }
    }

    /// Whether it needs a numeric column.
    pub fn numeric_only(self) -> bool {
        self != ColumnMetric::NullCount
    }
}

impl MetricRef {
    /// Reads `text`: `row_count`, `null_count(c)`/`min(c)`/`max(c)`/`mean(c)`, or else a
    /// check name. Whether the check exists is decided against the dataset
    /// ([`MetricRef::check_name`]).
    pub fn parse(text: &str) -> MetricRef {
        if text == "row_count" {
            return MetricRef::RowCount;
        }
        for func in ColumnMetric::ALL {
            if let Some(rest) = text.strip_prefix(func.as_str())
                && let Some(col) = rest.strip_prefix('(').and_then(|r| r.strip_suffix(')'))
                && !col.trim().is_empty()
            {
                return MetricRef::Column {
                    func,
                    column: col.trim().to_string(),
                };
            }
        }
        MetricRef::Check(text.to_string())
    }

    /// For a check's value: the check's name (without a `.field` suffix when the full
    /// name is not itself a check in `names`).
    pub fn check_name<'a>(&'a self, names: &[&str]) -> Option<&'a str> {
        let MetricRef::Check(n) = self else {
            return None;
        };
        if names.contains(&n.as_str()) {
            return Some(n);
        }
        match n.rsplit_once('.') {
            Some((base, _)) if names.contains(&base) => Some(base),
            _ => Some(n),
        }
    }
}

impl fmt::Display for MetricRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricRef::Check(n) => f.write_str(n),
            MetricRef::RowCount => f.write_str("row_count"),
            MetricRef::Column { func, column } => write!(f, "{}({column})", func.as_str()),
        }
    }
}

/// `vs:` of a `change` check: which earlier run the metric is compared with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Baseline {
    /// The last run of the same series in which the dataset passed.
    Previous,
    /// The run of the same series whose logical date is 7 days earlier.
    SameWeekday,
    /// The run `n` logical dates back (any status).
    RunsAgo(u32),
}

impl fmt::Display for Baseline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Baseline::Previous => f.write_str("the previous passing run"),
            Baseline::SameWeekday => f.write_str("the same weekday last week"),
            Baseline::RunsAgo(1) => f.write_str("the run before"),
            Baseline::RunsAgo(n) => write!(f, "the run {n} runs ago"),
        }
    }
}

/// How an `anomaly` check scores a value against its baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnomalyMethod {
    /// Modified z-score: 0.6745 × (x − median) / MAD (Iglewicz & Hoaglin); robust to
    /// outliers in the history.
    Mad,
    /// Classic z-score: (x − mean) / standard deviation.
    Zscore,
}

impl AnomalyMethod {
    /// Its name in `sluice.yaml`.
    pub fn as_str(self) -> &'static str {
        match self {
            AnomalyMethod::Mad => "mad",
            AnomalyMethod::Zscore => "zscore",
        }
    }

    /// The score above which a value is anomalous, unless `max_score` says otherwise.
    pub fn default_max_score(self) -> f64 {
        match self {
            AnomalyMethod::Mad => 3.5,
            AnomalyMethod::Zscore => 3.0,
        }
    }
}

/// `window:` of an `anomaly` check: which history makes the baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// The last `n` values (after the seasonal filter).
    Runs(u32),
    /// Values whose logical date is within this long before the current one.
    Span(Duration),
}

/// What an `anomaly` check does with too little history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TooLittleHistory {
    /// Passes, with a note (the default).
    Pass,
    /// Warns.
    Warn,
}

/// `anomaly:` options.
#[derive(Clone, Debug, PartialEq)]
pub struct AnomalySpec {
    /// The metric watched.
    pub metric: MetricRef,
    /// `method:` (default `mad`).
    pub method: AnomalyMethod,
    /// `window:` (default: the last 30 values).
    pub window: Window,
    /// `seasonality: weekly`: only values of the same weekday make the baseline.
    pub weekly: bool,
    /// `min_history:` (default 7): fewer baseline values than this and the check does not
    /// judge.
    pub min_history: u32,
    /// `too_little_history:` (default `pass`).
    pub too_little: TooLittleHistory,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_parse() {
        assert_eq!(MetricRef::parse("row_count"), MetricRef::RowCount);
        assert_eq!(
            MetricRef::parse("mean(amount)"),
            MetricRef::Column {
                func: ColumnMetric::Mean,
                column: "amount".into()
            }
        );
        assert_eq!(
            MetricRef::parse("not_null(amount)"),
            MetricRef::Check("not_null(amount)".into())
        );
        assert_eq!(MetricRef::parse("min()"), MetricRef::Check("min()".into()));
        let m = MetricRef::parse("distribution(x).psi");
        assert_eq!(m.check_name(&["distribution(x)"]), Some("distribution(x)"));
        assert_eq!(m.to_string(), "distribution(x).psi");
    }
}
