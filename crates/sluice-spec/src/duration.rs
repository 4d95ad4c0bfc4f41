//! Durations as people write them in configs: `6h`, `90m`, `1d 12h`, `2 days`.
//!
//! Every duration is at most [`MAX`] (52000 weeks, about 1000 years): longer ones are refused
//! with a message, not turned into a panic or an overflow further on (`Instant + d`,
//! `now ± d` in chrono, the freshness cut-off all stay in range below it).

use std::fmt;
use std::time::Duration;

/// The longest duration accepted anywhere (config `max_age`, `--wait`, `--until`, `--since`):
/// 52000 weeks, about 1000 years. Far beyond any real freshness window or override, and far
/// within what `std::time::Instant` and chrono's dates can add or subtract.
pub const MAX: Duration = Duration::from_secs(MAX_WEEKS * 604_800);

const MAX_WEEKS: u64 = 52_000;

/// Why a text is not a duration.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DurationError {
    /// Not written as a duration at all (`6 parsecs`, `-5m`, `h`).
    Invalid {
        /// The text as given.
        text: String,
    },
    /// A duration, but longer than [`MAX`] (`99999999999999w`, `1e20`).
    TooLong {
        /// The text as given.
        text: String,
    },
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Invalid { text } if text.trim().is_empty() => {
                f.write_str("empty duration")
            }
            DurationError::Invalid { text } => write!(
                f,
                "`{text}` is not a duration; write e.g. `45s`, `30m`, `6h`, `1d`, `1d 12h` or `2w`"
            ),
            DurationError::TooLong { text } => write!(
                f,
                "`{text}` is too long; a duration is at most {MAX_WEEKS}w (about 1000 years)"
            ),
        }
    }
}

impl std::error::Error for DurationError {}

/// Parses `6h`, `30m`, `1d12h`, `1 day`, `45s`, `2w`. A bare number is seconds. The message
/// of the error says what is wrong (see [`DurationError`]).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    parse(text).map_err(|e| e.to_string())
}

/// [`parse_duration`] with a typed error, for callers that treat "too long" apart.
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let bad = || DurationError::Invalid {
        text: text.to_string(),
    };
    let t = text.trim();
    if t.is_empty() {
        return Err(bad());
    }
    // A bare number of seconds (`90`, `1.5`, `1e3`); not `inf` or `nan`, which Rust's float
    // parser would take.
    if t.trim_start_matches('+')
        .starts_with(|c: char| c.is_ascii_digit() || c == '.')
        && let Ok(secs) = t.parse::<f64>()
    {
        return checked(secs, text);
    }
    let mut total = 0.0;
    let mut rest = t;
    while !rest.is_empty() {
        rest = rest.trim_start();
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(bad());
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        let secs = match unit {
            "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
            "m" | "min" | "mins" | "minute" | "minutes" => 60.0,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
            "d" | "day" | "days" => 86_400.0,
            "w" | "week" | "weeks" => 604_800.0,
            _ => return Err(bad()),
        };
        total += n * secs;
        rest = rest[unit_len..].trim_start_matches([',', ' ']);
    }
    checked(total, text)
}

/// A whole number of seconds as a duration, refused beyond [`MAX`] (`max_age: 3600`).
pub fn from_secs(secs: u64, text: &str) -> Result<Duration, DurationError> {
    let d = Duration::from_secs(secs);
    if d > MAX {
        Err(DurationError::TooLong {
            text: text.to_string(),
        })
    } else {
        Ok(d)
    }
}

fn checked(secs: f64, text: &str) -> Result<Duration, DurationError> {
    if secs.is_nan() || secs < 0.0 {
        Err(DurationError::Invalid {
            text: text.to_string(),
        })
    } else if secs > MAX.as_secs_f64() {
        // Infinite too: `1e400` parses as a float, and so does a number of 400 digits.
        Err(DurationError::TooLong {
            text: text.to_string(),
        })
    } else {
        Ok(Duration::from_secs_f64(secs))
    }
}

/// Shows a duration the way it would be written in a config: `1d 6h`, `45m`, `12s`.
pub struct HumanDuration(pub Duration);

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut secs = self.0.as_secs();
        if secs == 0 {
            return write!(f, "{}ms", self.0.as_millis());
        }
        let mut parts = Vec::new();
        for (unit, len) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
            if secs >= len {
                parts.push(format!("{}{unit}", secs / len));
                secs %= len;
            }
            if parts.len() == 2 {
                break;
            }
        }
        write!(f, "{}", parts.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let s = |t| parse_duration(t).unwrap().as_secs();
        assert_eq!(s("6h"), 21_600);
        assert_eq!(s("1d 12h"), 129_600);
        assert_eq!(s("1d12h"), 129_600);
        assert_eq!(s("2 days"), 172_800);
        assert_eq!(s("90"), 90);
        assert_eq!(s("1.5h"), 5400);
        assert!(parse_duration("6 parsecs").is_err());
        assert!(parse_duration("h").is_err());
        assert!(parse_duration("-5m").is_err());
        assert!(parse_duration("inf").is_err());
        assert!(parse_duration("nan").is_err());
    }

    #[test]
    fn refuses_durations_too_long_to_fit() {
        for text in [
            "99999999999999w",
            "1e20",
            "1e400",
            &"9".repeat(400),
            "52001w",
        ] {
            assert!(
                matches!(parse(text), Err(DurationError::TooLong { .. })),
                "{text}"
            );
        }
        let msg = parse_duration("99999999999999w").unwrap_err();
        assert_eq!(
            msg,
            "`99999999999999w` is too long; a duration is at most 52000w (about 1000 years)"
        );
        assert_eq!(parse("52000w").unwrap(), MAX);
        assert!(from_secs(MAX.as_secs() + 1, "x").is_err());
        assert_eq!(from_secs(60, "60").unwrap(), Duration::from_secs(60));
    }

    #[test]
    fn displays_compactly() {
        let d = |s| HumanDuration(Duration::from_secs(s)).to_string();
        assert_eq!(d(93_784), "1d 2h");
        assert_eq!(d(3600), "1h");
        assert_eq!(d(61), "1m 1s");
    }
}
