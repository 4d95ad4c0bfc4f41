//! Dates and timestamps written as text in a config (`range: { min: '2024-02-01' }`):
//! impossible ones are refused when the config is loaded, not by the engine at run time.
//!
//! Only the calendar is checked — a month from 1 to 12, a day that month has, an hour, a
//! minute and a second that exist. The text is otherwise passed on as written, for the
//! engine to compare with the column.

/// Why `text` cannot be the date or timestamp it looks like (`YYYY-MM-DD`, optionally
/// followed by `T` or a space and `HH:MM[:SS[.fff]]` and a zone), or `None` when it is a
/// possible one or does not look like a date at all.
pub(crate) fn impossible(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        if s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    // `YYYY-MM-DD`, then the end, `T` or a space.
    if b.len() < 10
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b.get(10), None | Some(b'T' | b't' | b' '))
    {
        return None;
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let what = if b.len() == 10 { "date" } else { "timestamp" };
    let not = |why: String| Some(format!("`{text}` is not a {what}: {why}"));
    if !(1..=12).contains(&month) {
        return not(format!("there is no month {month} (months are 01 to 12)"));
    }
    if day == 0 {
        return not("there is no day 0 (days start at 01)".to_string());
    }
    let days = days_in_month(year, month);
    if day > days {
        return not(format!(
            "{} {year} has {days} days",
            MONTHS[month as usize - 1]
        ));
    }
    // A time, if it is written as `HH:MM` or `HH:MM:SS...`; another shape is left alone.
    if b.len() >= 16
        && b[13] == b':'
        && let (Some(h), Some(m)) = (digits(11..13), digits(14..16))
    {
        if h > 23 {
            return not(format!("there is no hour {h} (hours are 00 to 23)"));
        }
        if m > 59 {
            return not(format!("there is no minute {m} (minutes are 00 to 59)"));
        }
        if b.get(16) == Some(&b':')
            && let Some(s) = digits(17..19)
            && s > 59
        {
            return not(format!("there is no second {s} (seconds are 00 to 59)"));
        }
    }
    None
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// Days in `month` (1-12) of `year`, by the Gregorian calendar.
fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn possible_dates_and_other_text_pass() {
        for ok in [
            "2024-02-29",
            "2000-02-29",
            "2023-12-31",
            "2024-01-01T00:00:00",
            "2024-01-01 23:59:59.999",
            "2024-01-01T10:00:00Z",
            "2024-01-01T10:00+02:00",
            "paid",
            "2024",
            "2024-1-1",
            "20240101",
            "",
            "2024-02-30x", // not shaped like a date: left to the engine
        ] {
            assert_eq!(impossible(ok), None, "{ok}");
        }
    }

    #[test]
    fn impossible_dates_say_why() {
        let cases = [
            (
                "2024-02-30",
                "`2024-02-30` is not a date: February 2024 has 29 days",
            ),
            (
                "2023-02-29",
                "`2023-02-29` is not a date: February 2023 has 28 days",
            ),
            (
                "1900-02-29",
                "`1900-02-29` is not a date: February 1900 has 28 days",
            ),
            (
                "2024-04-31",
                "`2024-04-31` is not a date: April 2024 has 30 days",
            ),
            (
                "2024-01-00",
                "`2024-01-00` is not a date: there is no day 0 (days start at 01)",
            ),
            (
                "2024-13-01",
                "`2024-13-01` is not a date: there is no month 13 (months are 01 to 12)",
            ),
            (
                "2024-00-10",
                "`2024-00-10` is not a date: there is no month 0 (months are 01 to 12)",
            ),
            (
                "2024-02-30T10:00:00",
                "`2024-02-30T10:00:00` is not a timestamp: February 2024 has 29 days",
            ),
            (
                "2024-01-01 24:00:00",
                "`2024-01-01 24:00:00` is not a timestamp: there is no hour 24 (hours are 00 to 23)",
            ),
            (
                "2024-01-01T10:60",
                "`2024-01-01T10:60` is not a timestamp: there is no minute 60 (minutes are 00 to 59)",
            ),
            (
                "2024-01-01T10:00:61Z",
                "`2024-01-01T10:00:61Z` is not a timestamp: there is no second 61 (seconds are 00 to 59)",
            ),
        ];
        for (text, message) in cases {
            assert_eq!(impossible(text).as_deref(), Some(message), "{text}");
        }
    }
}
