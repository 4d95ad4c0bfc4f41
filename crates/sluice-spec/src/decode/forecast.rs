//! Decoding the forecast pack's single-dataset kinds: `completeness` (wide and long
//! layouts), `quantiles_ordered`, `not_constant`, `interval_contains`.

use super::{Decoder, Entries, Opts, get};
use crate::diag::Diagnostic;
use crate::forecast::*;
use crate::model::{CheckKind, Literal};
use crate::yaml::{Node, Value};

/// Most values a `{ from, to }` range may require (a typo like `to: 1e9` is caught).
const MAX_RANGE: i64 = 10_000_000;
/// Most steps a date grid may have.
const MAX_HORIZON: u64 = 1_000_000;

pub(crate) const WIDE_KEYS: &[&str] = &[
    "series",
    "series_from",
    "date",
    "frequency",
    "start",
    "horizon",
];
pub(crate) const LONG_KEYS: &[&str] = &["keys", "by", "extra"];
pub(crate) const KEY_SPEC_KEYS: &[&str] =
    &["values", "from", "to", "start", "horizon", "frequency"];

impl Decoder<'_> {
    fn required<'n>(&mut self, o: &Opts<'n>, key: &str, example: &str) -> Option<&'n Node> {
        let n = get(o.e, key);
        if n.is_none() {
            self.missing(o.at, key, &o.what(), &format!("e.g. `{example}`"));
        }
        n
    }

    /// `completeness`, in the wide (`series`, `date`...) or long (`keys:`) layout.
    pub(super) fn completeness(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let wide_example = "- completeness: { series: [region], date: ds, frequency: 1d, start: 2026-12-01, horizon: 30 }";
        self.no_shorthand(o, &format!("e.g. `{wide_example}`"))?;
        let wide_keys: Vec<&Node> = WIDE_KEYS.iter().filter_map(|k| get(o.e, k)).collect();
        let long_keys: Vec<&Node> = LONG_KEYS.iter().filter_map(|k| get(o.e, k)).collect();
        let key_node = |e: &Entries, n: &Node| {
            e.iter()
                .find(|(_, v)| std::ptr::eq(v, n))
                .map(|(k, _)| k.span)
        };
        match (wide_keys.is_empty(), get(o.e, "keys")) {
            (false, Some(k)) => {
                let at = key_node(o.e, wide_keys[0]).unwrap_or(o.at);
                self.err(
                    Diagnostic::error(at, "`completeness` mixes the wide layout (`series`, `date`, ...) with `keys:`")
                        .label("wide-layout key")
                        .related(k.span, "long-layout `keys:`")
                        .help("use `series`/`date`/`frequency`/`horizon` for one row per series and date, or `keys:` for a long table; not both"),
                );
                None
            }
            (true, Some(keys)) => self.long_completeness(o, keys),
            (false, None) => {
                if let Some(n) = long_keys.first() {
                    let at = key_node(o.e, n).unwrap_or(o.at);
                    self.err(
                        Diagnostic::error(at, "`by` and `extra` belong to the long layout (`keys:`)")
                            .label("long-layout option")
                            .help("the wide layout always fails rows off the grid; to group, add the columns to `series`"),
                    );
                    return None;
                }
                self.wide_completeness(o)
            }
            (true, None) => {
                self.missing(
                    o.at,
                    "keys",
                    &o.what(),
                    &format!("give `keys:` (long layout), e.g. `- completeness: {{ keys: {{ horizon: [1, 2, 3], output_type_id: [0.1, 0.5, 0.9] }} }}`, or the wide layout: `{wide_example}`"),
                );
                None
            }
        }
    }

    fn wide_completeness(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let example = "series: [region], date: ds, frequency: 1d, horizon: 30";
        let series = match (get(o.e, "series"), get(o.e, "series_from")) {
            (Some(s), _) => self.strings(s, "`series`"),
            (None, Some(f)) => {
                self.missing(f.span, "series", &o.what(), "`series_from:` gives the required values of the series column named by `series:`, e.g. `series: region, series_from: regions.region`");
                None
            }
            (None, None) => {
                self.missing(o.at, "series", &o.what(), &format!("e.g. `{example}`"));
                None
            }
        };
        let from = get(o.e, "series_from").map(|n| self.dataset_column(n, "`series_from`"));
        let date = self
            .required(o, "date", example)
            .and_then(|n| self.string(n, "`date`"));
        let grid = self.date_grid(o.e, o.at, true);
        let (series, date, grid) = (series?, date?, grid?);
        let mut keys: Vec<KeyValues> = Vec::new();
        match from {
            Some(f) => {
                let (dataset, column) = f?;
                if series.len() != 1 {
                    self.err(
                        Diagnostic::error(get(o.e, "series")?.span, "`series_from:` needs exactly one `series` column")
                            .label("several columns")
                            .help("name the one column whose values `series_from` lists, e.g. `series: region, series_from: regions.region`"),
                    );
                    return None;
                }
                keys.push(KeyValues {
                    column: series[0].clone(),
                    sources: vec![KeySource::From { dataset, column }],
                });
            }
            None => keys.extend(series.into_iter().map(|column| KeyValues {
                column,
                sources: vec![KeySource::Present],
            })),
        }
        keys.push(KeyValues {
            column: date,
            sources: vec![KeySource::Dates(grid)],
        });
        Some(vec![CheckKind::Completeness(CompletenessSpec {
            keys,
            by: vec![],
            extra_fail: true,
            wide: true,
        })])
    }

    fn long_completeness(&mut self, o: &Opts<'_>, keys_node: &Node) -> Option<Vec<CheckKind>> {
        let help = "e.g. `keys: { location: { from: locations.location }, horizon: { from: 1, to: 28 }, output_type_id: [0.1, 0.5, 0.9] }`";
        let entries = self.map(keys_node, "`keys`", help)?;
        if entries.is_empty() {
            self.err(Diagnostic::error(keys_node.span, "`keys` is empty").help(help));
            return None;
        }
        let mut keys = Vec::new();
        let mut ok = true;
        for (k, v) in entries {
            match self.key_values(v, k.key()) {
                Some(sources) => keys.push(KeyValues {
                    column: k.key().to_string(),
                    sources,
                }),
                None => ok = false,
            }
        }
        let by = match get(o.e, "by") {
            Some(n) => self.strings(n, "`by`"),
            None => Some(vec![]),
        };
        let extra_fail = match get(o.e, "extra") {
            None => Some(false),
            Some(n) => match self.string(n, "`extra`").as_deref() {
                Some("fail") => Some(true),
                Some("ignore") => Some(false),
                Some(other) => {
                    self.err(
                        Diagnostic::error(n.span, format!("`extra` must be `fail` or `ignore`, found `{other}`"))
                            .label("unknown value")
                            .help("`extra: fail` also fails rows whose key is outside the required grid; `ignore` (the default) lets them pass"),
                    );
                    None
                }
                None => None,
            },
        };
        let (by, extra_fail) = (by?, extra_fail?);
        if !ok {
            return None;
        }
        if let Some(b) = by.iter().find(|b| keys.iter().any(|k| &k.column == *b)) {
            self.err(
                Diagnostic::error(get(o.e, "by")?.span, format!("`{b}` is both a key and a `by` column"))
                    .label("in `keys` too")
                    .help("a `by` column groups the data; the grid is required within each group, so it cannot also be a key"),
            );
            return None;
        }
        Some(vec![CheckKind::Completeness(CompletenessSpec {
            keys,
            by,
            extra_fail,
            wide: false,
        })])
    }

    /// The required values of one key column: a list, a range, dates, `from:`, or a union.
    fn key_values(&mut self, node: &Node, column: &str) -> Option<Vec<KeySource>> {
        let what = format!("the values of key `{column}`");
        match &node.value {
            Value::Seq(items) if !items.is_empty() => {
                let vals: Vec<Option<Literal>> = items
                    .iter()
                    .map(|i| self.literal(i, "each value"))
                    .collect();
                Some(vec![KeySource::List(
                    vals.into_iter().collect::<Option<Vec<_>>>()?,
                )])
            }
            Value::Seq(_) => {
                self.err(
                    Diagnostic::error(node.span, format!("{what} is an empty list"))
                        .label("empty")
                        .help("list the required values, e.g. `[1, 2, 3]`"),
                );
                None
            }
            Value::Int(_) | Value::Float(_) | Value::Str(_) | Value::Bool(_) => {
                Some(vec![KeySource::List(vec![self.literal(node, &what)?])])
            }
            Value::Map(e) => {
                self.check_keys(e, KEY_SPEC_KEYS, &format!("key `{column}`"));
                let mut sources = Vec::new();
                if let Some(v) = get(e, "values") {
                    sources.push(self.key_values(v, column)?.remove(0));
                }
                let from = get(e, "from");
                match (from, get(e, "to")) {
                    (Some(f), Some(t)) => {
                        let (Value::Int(a), Value::Int(b)) = (&f.value, &t.value) else {
                            let bad = if matches!(f.value, Value::Int(_)) {
                                t
                            } else {
                                f
                            };
                            self.type_error(
                                bad,
                                "a range bound",
                                "a whole number",
                                Some("e.g. `{ from: 1, to: 28 }`".into()),
                            );
                            return None;
                        };
                        if a > b {
                            self.err(
                                Diagnostic::error(
                                    t.span,
                                    format!("the range ends ({b}) before it starts ({a})"),
                                )
                                .label("below `from`")
                                .help("swap `from` and `to`"),
                            );
                            return None;
                        }
                        if (*b as i128 - *a as i128) >= MAX_RANGE as i128 {
                            self.err(
                                Diagnostic::error(
                                    t.span,
                                    format!(
                                        "the range {a} to {b} requires more than {MAX_RANGE} values"
                                    ),
                                )
                                .label("too many values")
                                .help("check the bounds"),
                            );
                            return None;
                        }
                        sources.push(KeySource::Range { from: *a, to: *b });
                    }
                    (Some(f), None) if matches!(f.value, Value::Int(_)) => {
                        self.missing(
                            f.span,
                            "to",
                            &format!("the range of key `{column}`"),
                            "a range needs both ends, e.g. `{ from: 1, to: 28 }`",
                        );
                        return None;
                    }
                    (Some(f), None) => {
                        let (dataset, column) = self.dataset_column(f, "`from`")?;
                        sources.push(KeySource::From { dataset, column });
                    }
                    (None, Some(t)) => {
                        self.missing(
                            t.span,
                            "from",
                            &format!("the range of key `{column}`"),
                            "a range needs both ends, e.g. `{ from: 1, to: 28 }`",
                        );
                        return None;
                    }
                    (None, None) => {}
                }
                if ["start", "horizon", "frequency"]
                    .iter()
                    .any(|k| get(e, k).is_some())
                {
                    sources.push(KeySource::Dates(self.date_grid(e, node.span, false)?));
                }
                if sources.is_empty() {
                    self.err(
                        Diagnostic::error(node.span, format!("{what} gives no values"))
                            .help("give `values: [...]`, a range `{ from: 1, to: 28 }`, dates `{ start: 2026-12-01, horizon: 30, frequency: 1d }` or `{ from: DATASET.COLUMN }`"),
                    );
                    return None;
                }
                Some(sources)
            }
            _ => {
                self.type_error(
                    node,
                    &what,
                    "a list or a mapping",
                    Some("e.g. `[0.1, 0.5, 0.9]` or `{ from: 1, to: 28 }`".into()),
                );
                None
            }
        }
    }

    /// `DATASET.COLUMN`.
    fn dataset_column(&mut self, node: &Node, what: &str) -> Option<(String, String)> {
        let text = self.string(node, what)?;
        match text.split_once('.') {
            Some((d, c)) if !d.trim().is_empty() && !c.trim().is_empty() => {
                Some((d.trim().to_string(), c.trim().to_string()))
            }
            _ => {
                self.err(
                    Diagnostic::error(node.span, format!("{what} must name a dataset and a column as `DATASET.COLUMN`, found `{text}`"))
                        .label("not DATASET.COLUMN")
                        .help("e.g. `from: locations.location` (the distinct values of column `location` of dataset `locations`)"),
                );
                None
            }
        }
    }

    /// `start`, `horizon`, `frequency` in `e` (`start` optional: the earliest date present).
    fn date_grid(&mut self, e: &Entries, at: crate::source::Span, wide: bool) -> Option<DateGrid> {
        let example = if wide {
            "frequency: 1d, horizon: 30"
        } else {
            "{ start: 2026-12-01, horizon: 30, frequency: 1d }"
        };
        let frequency = match get(e, "frequency") {
            Some(n) => match &n.value {
                Value::Int(i) if *i > 0 => Some(Frequency::Steps(*i)),
                Value::Str(s) => match Frequency::parse(s) {
                    Ok(f) => Some(f),
                    Err(why) => {
                        self.err(
                            Diagnostic::error(n.span, why)
                                .label("not a frequency")
                                .help("e.g. `1d`, `1h`, `1w` (durations), `1mo`, `1q`, `1y` (calendar), `1bd` (business days), or `1` for an integer date column"),
                        );
                        None
                    }
                },
                _ => {
                    self.type_error(
                        n,
                        "`frequency`",
                        "a step like `1d` or a positive whole number",
                        Some("e.g. `frequency: 1d`".into()),
                    );
                    None
                }
            },
            None => {
                self.missing(at, "frequency", "a date grid", &format!("e.g. `{example}`"));
                None
            }
        };
        let horizon = match get(e, "horizon") {
            Some(n) => match self.uint(n, "`horizon`") {
                Some(0) => {
                    self.err(
                        Diagnostic::error(n.span, "`horizon` is 0: the grid would require nothing")
                            .label("zero steps")
                            .help(
                                "give the number of dates required, at least 1, e.g. `horizon: 30`",
                            ),
                    );
                    None
                }
                Some(h) if h > MAX_HORIZON => {
                    self.err(
                        Diagnostic::error(
                            n.span,
                            format!("`horizon` {h} is more than {MAX_HORIZON} steps"),
                        )
                        .label("too long")
                        .help("check the value"),
                    );
                    None
                }
                h => h.map(|h| h as u32),
            },
            None => {
                self.missing(at, "horizon", "a date grid", &format!("e.g. `{example}`"));
                None
            }
        };
        let start = match get(e, "start") {
            None => Some(None),
            Some(n) => match &n.value {
                Value::Int(i) => Some(Some(GridStart::Int(*i))),
                Value::Str(s) if looks_like_date(s) => match crate::date::impossible(s) {
                    Some(why) => {
                        self.err(
                            Diagnostic::error(n.span, why)
                                .label("no such date")
                                .help("write a date that exists, as `YYYY-MM-DD`"),
                        );
                        None
                    }
                    None => Some(Some(GridStart::Date(s.trim().to_string()))),
                },
                _ => {
                    self.type_error(n, "`start`", "a date `YYYY-MM-DD` (or a whole number for an integer date column)", Some("e.g. `start: 2026-12-01` or `start: ${FORECAST_DATE}`; leave it out to start at the earliest date present".into()));
                    None
                }
            },
        };
        let (frequency, horizon, start) = (frequency?, horizon?, start?);
        match (&start, frequency.is_calendar()) {
            (Some(GridStart::Int(_)), true) => {
                self.err(
                    Diagnostic::error(get(e, "frequency")?.span, format!("frequency `{frequency}` steps through dates, but `start` is a number"))
                        .label("a date step")
                        .help("for an integer date column give a whole-number step, e.g. `frequency: 1`; for dates write `start` as `YYYY-MM-DD`"),
                );
                return None;
            }
            (Some(GridStart::Date(_)), false) => {
                self.err(
                    Diagnostic::error(
                        get(e, "frequency")?.span,
                        format!(
                            "frequency `{frequency}` is a number of steps, but `start` is a date"
                        ),
                    )
                    .label("an integer step")
                    .help("write the step with a unit, e.g. `frequency: 1d` or `1mo`"),
                );
                return None;
            }
            _ => {}
        }
        Some(DateGrid {
            start,
            horizon,
            frequency,
        })
    }

    /// `quantiles_ordered`: `[p10, p50, p90]` / `{ columns, tolerance }` (wide) or
    /// `{ level, value, by, tolerance }` (long).
    pub(super) fn quantiles_ordered(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let tolerance = match get(o.e, "tolerance") {
            None => Some(0.0),
            Some(n) => match self.number(n, "`tolerance`") {
                Some(t) if t < 0.0 => {
                    self.err(
                        Diagnostic::error(n.span, "`tolerance` is negative")
                            .label("negative")
                            .help(format!("`tolerance` is the size of decrease that still passes; forecast hubs accepting -0.01 write `tolerance: {}`", crate::model::num(-t))),
                    );
                    None
                }
                t => t,
            },
        };
        let wide_cols = match (o.shorthand, get(o.e, "columns")) {
            (Some(s), _) => Some(self.strings(s, "the quantile columns")),
            (None, Some(c)) => Some(self.strings(c, "`columns`")),
            (None, None) => None,
        };
        let long =
            get(o.e, "level").is_some() || get(o.e, "value").is_some() || get(o.e, "by").is_some();
        let q = match (wide_cols, long) {
            (Some(_), true) => {
                self.err(
                    Diagnostic::error(o.at, "`quantiles_ordered` mixes `columns` (wide) with `level`/`value` (long)")
                        .help("wide: `- quantiles_ordered: [p10, p50, p90]`; long: `- quantiles_ordered: { level: output_type_id, value: value, by: [location, horizon] }`"),
                );
                return None;
            }
            (Some(cols), false) => {
                let columns = cols?;
                if columns.len() < 2 {
                    self.err(
                        Diagnostic::error(
                            o.shorthand
                                .or(get(o.e, "columns"))
                                .map(|n| n.span)
                                .unwrap_or(o.at),
                            "`quantiles_ordered` needs at least two columns to order",
                        )
                        .label("one column")
                        .help(
                            "list the quantile columns lowest level first, e.g. `[p10, p50, p90]`",
                        ),
                    );
                    return None;
                }
                QuantileOrder::Wide {
                    columns,
                    tolerance: tolerance?,
                }
            }
            (None, true) => {
                let ex = "level: output_type_id, value: value, by: [location, horizon]";
                let level = self
                    .required(o, "level", ex)
                    .and_then(|n| self.string(n, "`level`"));
                let value = self
                    .required(o, "value", ex)
                    .and_then(|n| self.string(n, "`value`"));
                let by = match get(o.e, "by") {
                    Some(n) => self.strings(n, "`by`"),
                    None => Some(vec![]),
                };
                QuantileOrder::Long {
                    level: level?,
                    value: value?,
                    by: by?,
                    tolerance: tolerance?,
                }
            }
            (None, false) => {
                self.missing(o.at, "columns", &o.what(), "wide: `- quantiles_ordered: [p10, p50, p90]`; long: `- quantiles_ordered: { level: output_type_id, value: value, by: [location, horizon] }`");
                return None;
            }
        };
        Some(vec![CheckKind::QuantilesOrdered(q)])
    }

    /// `not_constant: { series: [cols], column }`.
    pub(super) fn not_constant(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let ex = "- not_constant: { series: [region], column: p50 }";
        self.no_shorthand(o, &format!("e.g. `{ex}`"))?;
        let series = self
            .required(o, "series", ex)
            .and_then(|n| self.strings(n, "`series`"));
        let column = self
            .required(o, "column", ex)
            .and_then(|n| self.string(n, "`column`"));
        Some(vec![CheckKind::NotConstant {
            series: series?,
            column: column?,
        }])
    }

    /// `interval_contains: { lower, point, upper }`.
    pub(super) fn interval_contains(&mut self, o: &Opts<'_>) -> Option<Vec<CheckKind>> {
        let ex = "- interval_contains: { lower: p10, point: p50, upper: p90 }";
        self.no_shorthand(o, &format!("e.g. `{ex}`"))?;
        let col = |d: &mut Self, k: &str| {
            d.required(o, k, ex)
                .and_then(|n| d.string(n, &format!("`{k}`")))
        };
        let (lower, point, upper) = (col(self, "lower"), col(self, "point"), col(self, "upper"));
        Some(vec![CheckKind::IntervalContains {
            lower: lower?,
            point: point?,
            upper: upper?,
        }])
    }
}

/// `YYYY-MM-DD...`: text the grid can start at.
fn looks_like_date(s: &str) -> bool {
    let b = s.trim().as_bytes();
    b.len() >= 10
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
}
