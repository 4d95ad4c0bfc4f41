//! Durations as people write them in configs: `6h`, `90m`, `1d 12h`, `2 days`.

use std::fmt;
use std::time::Duration;

/// Parses `6h`, `30m`, `1d12h`, `1 day`, `45s`, `2w`. A bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty duration".into());
    }
    if let Ok(secs) = t.parse::<f64>() {
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
            return Err(bad(text));
        }
        let n: f64 = rest[..num_len].parse().map_err(|_| bad(text))?;
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
            _ => return Err(bad(text)),
        };
        total += n * secs;
        rest = rest[unit_len..].trim_start_matches([',', ' ']);
    }
    checked(total, text)
}

fn checked(secs: f64, text: &str) -> Result<Duration, String> {
    if secs.is_finite() && secs >= 0.0 {
        Ok(Duration::from_secs_f64(secs))
    } else {
        Err(bad(text))
    }
}

fn bad(text: &str) -> String {
    format!("`{text}` is not a duration; write e.g. `45s`, `30m`, `6h`, `1d`, `1d 12h` or `2w`")
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
    }

    #[test]
    fn displays_compactly() {
        let d = |s| HumanDuration(Duration::from_secs(s)).to_string();
        assert_eq!(d(93_784), "1d 2h");
        assert_eq!(d(3600), "1h");
        assert_eq!(d(61), "1m 1s");
    }
}
