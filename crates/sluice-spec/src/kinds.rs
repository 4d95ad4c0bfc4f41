//! The registry of check kinds: for each, the name written in `sluice.yaml`, the options it
//! takes and the thresholds it takes — one table that the config decoder, the model and
//! the engine all read, instead of each matching kind names on its own. A kind is a
//! [`Kind`]; code that treats kinds differently matches on it (exhaustively, so adding a
//! kind is a compile error everywhere it must be handled), never on a name.
//!
//! To add a kind: a variant of [`Kind`] and its row in [`KINDS`] (same order), a variant
//! of [`crate::CheckKind`] with its options, its decoding in the decoder's
//! `kind_options`, its compilation in the engine's `compile` (one function per kind).

/// Which thresholds a check kind takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ThresholdClass {
    /// `min`, `max`, `between`, `equals` on a value (`row_count`, `metric`).
    Bounds,
    /// `max_invalid`, `max_invalid_pct` on failing rows (the row-level kinds).
    Invalid,
    /// `max_age` (`freshness`).
    MaxAge,
    /// None: any mismatch fails (`schema`).
    Exact,
    /// `min`, `max`, `between`, `equals` on the change, or `min_pct`, `max_pct`,
    /// `between_pct` on the change in percent (`change`).
    Change,
    /// `max_score` (`anomaly`).
    Score,
    /// Limits on named statistics (`max_psi`, `min_ks_p`, `max_wape_pct`...): a key
    /// `max_<stat>` or `min_<stat>` bounds the statistic `<stat>` the check reports.
    Limits(&'static [&'static str]),
}

impl ThresholdClass {
    /// The threshold keys of this class.
    pub fn keys(self) -> &'static [&'static str] {
        match self {
            ThresholdClass::Bounds => &["min", "max", "between", "equals"],
            ThresholdClass::Invalid => &["max_invalid", "max_invalid_pct"],
            ThresholdClass::MaxAge => &["max_age"],
            ThresholdClass::Exact => &[],
            ThresholdClass::Change => &[
                "min",
                "max",
                "between",
                "equals",
                "min_pct",
                "max_pct",
                "between_pct",
            ],
            ThresholdClass::Score => &["max_score"],
            ThresholdClass::Limits(keys) => keys,
        }
    }
}

/// A check kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Kind {
    /// `row_count`.
    RowCount,
    /// `not_null`.
    NotNull,
    /// `unique`.
    Unique,
    /// `accepted_values`.
    AcceptedValues,
    /// `forbidden_values`.
    ForbiddenValues,
    /// `range`.
    Range,
    /// `matches`.
    Matches,
    /// `format`.
    Format,
    /// `length`.
    Length,
    /// `freshness`.
    Freshness,
    /// `schema`.
    Schema,
    /// `rows_satisfy`.
    RowsSatisfy,
    /// `metric`.
    Metric,
    /// `references`.
    References,
    /// `change`.
    Change,
    /// `anomaly`.
    Anomaly,
    /// `distribution`.
    Distribution,
    /// `within_history`.
    WithinHistory,
    /// `change_vs_published`.
    ChangeVsPublished,
    /// `forecast_accuracy`.
    ForecastAccuracy,
    /// `completeness`.
    Completeness,
    /// `quantiles_ordered`.
    QuantilesOrdered,
    /// `not_constant`.
    NotConstant,
    /// `interval_contains`.
    IntervalContains,
}

/// What the registry says of a kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindInfo {
    /// The kind.
    pub kind: Kind,
    /// Its name in `sluice.yaml` and in reports.
    pub name: &'static str,
    /// Its own option keys (besides `name`, `severity`, `where`, `samples`, `warn`, `fail`, `after`
    /// and its threshold keys).
    pub options: &'static [&'static str],
    /// The thresholds it takes.
    pub thresholds: ThresholdClass,
}

/// Every check kind, in the order of [`Kind`].
pub const KINDS: &[KindInfo] = &[
    info(Kind::RowCount, "row_count", &[], ThresholdClass::Bounds),
    info(
        Kind::NotNull,
        "not_null",
        &["column", "columns"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Unique,
        "unique",
        &["column", "columns", "nulls"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::AcceptedValues,
        "accepted_values",
        &["column", "values"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::ForbiddenValues,
        "forbidden_values",
        &["column", "values"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Range,
        "range",
        &["column", "min", "max", "inclusive"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Matches,
        "matches",
        &["column", "regex"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Format,
        "format",
        &["column", "format"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Length,
        "length",
        &["column", "min", "max"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Freshness,
        "freshness",
        &["column"],
        ThresholdClass::MaxAge,
    ),
    info(
        Kind::Schema,
        "schema",
        &["columns", "forbidden", "allow_extra"],
        ThresholdClass::Exact,
    ),
    info(
        Kind::RowsSatisfy,
        "rows_satisfy",
        &["condition"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Metric,
        "metric",
        &["sql", "group_by"],
        ThresholdClass::Bounds,
    ),
    info(
        Kind::References,
        "references",
        &["column", "dataset", "key"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::Change,
        "change",
        &["metric", "vs"],
        ThresholdClass::Change,
    ),
    info(
        Kind::Anomaly,
        "anomaly",
        &[
            "metric",
            "method",
            "window",
            "seasonality",
            "min_history",
            "too_little_history",
        ],
        ThresholdClass::Score,
    ),
    info(
        Kind::Distribution,
        "distribution",
        &[
            "column",
            "reference",
            "reference_column",
            "bins",
            "categorical",
        ],
        ThresholdClass::Limits(&["max_ks_d", "min_ks_p", "max_psi", "min_chi2_p"]),
    ),
    info(
        Kind::WithinHistory,
        "within_history",
        &[
            "actuals",
            "series",
            "column",
            "actual_column",
            "factor",
            "q_low",
            "q_high",
        ],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::ChangeVsPublished,
        "change_vs_published",
        &["keys", "column"],
        ThresholdClass::Limits(&["max_wape_pct", "max_change_pct"]),
    ),
    info(
        Kind::ForecastAccuracy,
        "forecast_accuracy",
        &[
            "actuals",
            "keys",
            "point",
            "actual_column",
            "lower",
            "upper",
            "season",
        ],
        ThresholdClass::Limits(&["min_coverage_pct", "max_mase", "max_wape_pct"]),
    ),
    info(
        Kind::Completeness,
        "completeness",
        &[
            "series",
            "series_from",
            "date",
            "frequency",
            "start",
            "horizon",
            "keys",
            "by",
            "extra",
        ],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::QuantilesOrdered,
        "quantiles_ordered",
        &["columns", "level", "value", "by", "tolerance"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::NotConstant,
        "not_constant",
        &["series", "column"],
        ThresholdClass::Invalid,
    ),
    info(
        Kind::IntervalContains,
        "interval_contains",
        &["lower", "point", "upper"],
        ThresholdClass::Invalid,
    ),
];

const fn info(
    kind: Kind,
    name: &'static str,
    options: &'static [&'static str],
    thresholds: ThresholdClass,
) -> KindInfo {
    KindInfo {
        kind,
        name,
        options,
        thresholds,
    }
}

impl Kind {
    /// What the registry says of it.
    pub fn info(self) -> &'static KindInfo {
        &KINDS[self as usize]
    }

    /// Its name in `sluice.yaml` and in reports.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// The kind called `name`.
    pub fn parse(name: &str) -> Option<Kind> {
        KINDS.iter().find(|k| k.name == name).map(|k| k.kind)
    }

    /// Whether it judges a metric against the history of earlier runs (`change`,
    /// `anomaly`): evaluated after the dataset's other checks, from the state store.
    pub fn is_history(self) -> bool {
        matches!(self, Kind::Change | Kind::Anomaly)
    }

    /// Whether it counts failing rows (thresholds `max_invalid` / `max_invalid_pct`).
    pub fn is_row_level(self) -> bool {
        self.info().thresholds == ThresholdClass::Invalid
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every kind's name, in registry order.
pub fn names() -> impl Iterator<Item = &'static str> + Clone {
    KINDS.iter().map(|k| k.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_follows_the_enum() {
        for (i, k) in KINDS.iter().enumerate() {
            assert_eq!(k.kind as usize, i, "{} is out of place", k.name);
            assert_eq!(Kind::parse(k.name), Some(k.kind));
        }
        assert_eq!(KINDS.len(), Kind::IntervalContains as usize + 1);
        assert_eq!(Kind::parse("not_a_kind"), None);
    }

    #[test]
    fn row_level_kinds_are_those_with_invalid_thresholds() {
        let row_level: Vec<&str> = KINDS
            .iter()
            .filter(|k| k.kind.is_row_level())
            .map(|k| k.name)
            .collect();
        assert_eq!(
            row_level,
            [
                "not_null",
                "unique",
                "accepted_values",
                "forbidden_values",
                "range",
                "matches",
                "format",
                "length",
                "rows_satisfy",
                "references",
                "within_history",
                "completeness",
                "quantiles_ordered",
                "not_constant",
                "interval_contains"
            ]
        );
    }
}
