//! The options of the forecast pack's single-dataset kinds (`completeness`,
//! `quantiles_ordered`, `not_constant`, `interval_contains`) and the grid steps
//! (`frequency:`) they are written with.

use std::fmt;

use crate::model::Literal;

/// `completeness`: every required combination of key values present exactly once.
///
/// Both layouts decode to this: the wide one (`series`, `date`, `frequency`, `start`,
/// `horizon`) is the long one with a key per series column (the values present, or
/// `series_from:`) and a date key, and `extra: fail`.
#[derive(Clone, Debug, PartialEq)]
pub struct CompletenessSpec {
    /// The key columns and their required values, in config order.
    pub keys: Vec<KeyValues>,
    /// `by:`: the grid is required within each group of these columns that is present.
    pub by: Vec<String>,
    /// `extra: fail` (always in the wide layout): rows whose key is off the grid fail too.
    pub extra_fail: bool,
    /// Written in the wide layout (`series`/`date`), for messages.
    pub wide: bool,
}

impl CompletenessSpec {
    /// Every key column, in order.
    pub fn columns(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.column.as_str()).collect()
    }

    /// The other datasets the grid reads (`from: DATASET.COLUMN`).
    pub fn datasets(&self) -> Vec<&str> {
        self.keys
            .iter()
            .flat_map(|k| k.sources.iter())
            .filter_map(|s| match s {
                KeySource::From { dataset, .. } => Some(dataset.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// One key column and where its required values come from (their union).
#[derive(Clone, Debug, PartialEq)]
pub struct KeyValues {
    /// The column.
    pub column: String,
    /// The sources of its values; the required set is their union.
    pub sources: Vec<KeySource>,
}

/// A source of required values for a key column.
#[derive(Clone, Debug, PartialEq)]
pub enum KeySource {
    /// A list of values (compared like `accepted_values`).
    List(Vec<Literal>),
    /// `{ from: 1, to: 28 }`: every integer in the range, both ends included.
    Range {
        /// First value.
        from: i64,
        /// Last value.
        to: i64,
    },
    /// `{ start, horizon, frequency }`: `horizon` steps of `frequency` from `start`.
    Dates(DateGrid),
    /// `{ from: DATASET.COLUMN }`: the distinct non-NULL values of another dataset's column.
    From {
        /// The dataset.
        dataset: String,
        /// Its column.
        column: String,
    },
    /// The distinct values present in the checked data (the wide layout's `series`; several
    /// such columns take the combinations present, not their product).
    Present,
}

/// Dates (or integers) on a regular grid.
#[derive(Clone, Debug, PartialEq)]
pub struct DateGrid {
    /// The first one; `None` = the earliest present in the data (within `where:`).
    pub start: Option<GridStart>,
    /// How many steps, at least 1.
    pub horizon: u32,
    /// The step.
    pub frequency: Frequency,
}

/// Where a grid starts.
#[derive(Clone, Debug, PartialEq)]
pub enum GridStart {
    /// A date `YYYY-MM-DD` or timestamp `YYYY-MM-DDTHH:MM[:SS]` (checked to exist).
    Date(String),
    /// An integer, for integer date columns.
    Int(i64),
}

impl fmt::Display for GridStart {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GridStart::Date(d) => f.write_str(d),
            GridStart::Int(i) => write!(f, "{i}"),
        }
    }
}

/// The step of a grid (`frequency:`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Frequency {
    /// A fixed duration in seconds (`1d`, `6h`, `15m`, `1w`).
    Seconds(u64),
    /// Calendar months (`1mo`, `1q` = 3, `1y` = 12); the day of the month is kept, or the
    /// month's last day when it has fewer days.
    Months(u32),
    /// Business days, Monday to Friday (`1bd`).
    BusinessDays(u32),
    /// An integer step, for integer date columns (`frequency: 1`).
    Steps(i64),
}

impl Frequency {
    /// Parses `1d`, `6h`, `30m`, `45s`, `2w`, `1mo`, `1q`, `1y`, `5bd`.
    pub fn parse(text: &str) -> Result<Frequency, String> {
        let t = text.trim();
        let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
        let (n, unit) = (&t[..split], t[split..].trim());
        let bad = || {
            format!(
                "`{t}` is not a frequency: write a count and a unit — s, m, h, d, w (durations), mo, q, y (calendar), bd (business days) — e.g. `1d`, `1mo`, `1bd`; or a whole number of steps for an integer column"
            )
        };
        let n: u64 = n.parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(format!("`{t}` is a step of zero: a grid must move forward"));
        }
        let months = |m: u64| {
            u32::try_from(m)
                .ok()
                .filter(|m| *m <= 12 * 10_000)
                .map(Frequency::Months)
                .ok_or_else(|| format!("`{t}` is too long a step"))
        };
        let secs = |unit: u64| {
            n.checked_mul(unit)
                .filter(|s| *s <= 10_000 * 366 * 86_400)
                .map(Frequency::Seconds)
                .ok_or_else(|| format!("`{t}` is too long a step"))
        };
        match unit {
            "s" => secs(1),
            "m" | "min" => secs(60),
            "h" => secs(3600),
            "d" => secs(86_400),
            "w" => secs(7 * 86_400),
            "mo" => months(n),
            "q" => months(3 * n),
            "y" => months(12 * n),
            "bd" => u32::try_from(n)
                .map(Frequency::BusinessDays)
                .map_err(|_| format!("`{t}` is too long a step")),
            _ => Err(bad()),
        }
    }

    /// Whether it steps through dates (anything but [`Frequency::Steps`]).
    pub fn is_calendar(self) -> bool {
        !matches!(self, Frequency::Steps(_))
    }
}

impl fmt::Display for Frequency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Frequency::Seconds(s) if s % 604_800 == 0 => write!(f, "{}w", s / 604_800),
            Frequency::Seconds(s) if s % 86_400 == 0 => write!(f, "{}d", s / 86_400),
            Frequency::Seconds(s) if s % 3600 == 0 => write!(f, "{}h", s / 3600),
            Frequency::Seconds(s) if s % 60 == 0 => write!(f, "{}m", s / 60),
            Frequency::Seconds(s) => write!(f, "{s}s"),
            Frequency::Months(m) if m % 12 == 0 => write!(f, "{}y", m / 12),
            Frequency::Months(m) => write!(f, "{m}mo"),
            Frequency::BusinessDays(n) => write!(f, "{n}bd"),
            Frequency::Steps(n) => write!(f, "{n}"),
        }
    }
}

/// `quantiles_ordered`: quantiles never decrease as the level rises.
#[derive(Clone, Debug, PartialEq)]
pub enum QuantileOrder {
    /// `[p10, p50, p90]`: the columns non-decreasing left to right on every row.
    Wide {
        /// The columns, lowest level first (at least two).
        columns: Vec<String>,
        /// Decreases up to this size pass.
        tolerance: f64,
    },
    /// `{ level, value, by, tolerance }`: within each `by` group, `value` non-decreasing in
    /// numeric `level` order.
    Long {
        /// The level column (numbers, or text holding numbers).
        level: String,
        /// The value column.
        value: String,
        /// The columns identifying one forecast (empty: the whole dataset is one).
        by: Vec<String>,
        /// Decreases up to this size pass.
        tolerance: f64,
    },
}

impl QuantileOrder {
    /// The columns it reads.
    pub fn columns(&self) -> Vec<&str> {
        match self {
            QuantileOrder::Wide { columns, .. } => columns.iter().map(String::as_str).collect(),
            QuantileOrder::Long { level, value, .. } => vec![level.as_str(), value.as_str()],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_parse_and_print() {
        for (text, f, shown) in [
            ("1d", Frequency::Seconds(86_400), "1d"),
            ("6h", Frequency::Seconds(21_600), "6h"),
            ("15m", Frequency::Seconds(900), "15m"),
            ("2w", Frequency::Seconds(1_209_600), "2w"),
            ("1mo", Frequency::Months(1), "1mo"),
            ("1q", Frequency::Months(3), "3mo"),
            ("1y", Frequency::Months(12), "1y"),
            ("1bd", Frequency::BusinessDays(1), "1bd"),
        ] {
            assert_eq!(Frequency::parse(text), Ok(f), "{text}");
            assert_eq!(f.to_string(), shown);
        }
        assert!(
            Frequency::parse("daily")
                .unwrap_err()
                .contains("not a frequency")
        );
        assert!(Frequency::parse("1fortnight").is_err());
        assert!(Frequency::parse("0d").unwrap_err().contains("zero"));
        assert!(Frequency::parse("").is_err());
    }
}
