//! "Did you mean ...?": the closest candidate to a misspelt name.
//!
//! Used for config keys, check kinds, dataset names and (by the engine) column names.

/// The candidate closest to `name`, if one is close enough to be a plausible typo.
///
/// A case-insensitive exact match wins; otherwise the smallest edit distance, allowed up to
/// a third of the name's length (at least 1, at most 3).
pub fn did_you_mean<'a, I>(name: &str, candidates: I) -> Option<&'a str>
where
    I: IntoIterator<Item = &'a str>,
{
    let lower = name.to_lowercase();
    let lower_chars: Vec<char> = lower.chars().collect();
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    // Reused for every candidate: this runs over every dataset name of a large config.
    let mut cand_lower = String::new();
    let mut rows = (Vec::new(), Vec::new());
    for cand in candidates {
        if cand == name {
            continue;
        }
        cand_lower.clear();
        if cand.is_ascii() {
            cand_lower.extend(cand.chars().map(|c| c.to_ascii_lowercase()));
        } else {
            cand_lower.push_str(&cand.to_lowercase());
        }
        let d = if cand_lower == lower {
            0
        } else if lower.len().min(cand_lower.len()) >= 4
            && (cand_lower.starts_with(&lower) || lower.starts_with(&cand_lower))
        {
            // `created` for `created_at`: a prefix is as good as a one-letter typo.
            1
        } else {
            match bounded_levenshtein(&lower_chars, &cand_lower, limit, &mut rows) {
                Some(d) => d,
                None => continue,
            }
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
}

/// [`levenshtein`] of `a` and `b` if it is at most `limit`, else `None` — found without
/// finishing the table when the lengths or a row already rule it out.
fn bounded_levenshtein(
    a: &[char],
    b: &str,
    limit: usize,
    (prev, cur): &mut (Vec<usize>, Vec<usize>),
) -> Option<usize> {
    let b_len = b.chars().count();
    if a.len().abs_diff(b_len) > limit {
        return None;
    }
    prev.clear();
    prev.extend(0..=b_len);
    cur.clear();
    cur.resize(b_len + 1, 0);
    for (i, ca) in a.iter().enumerate() {
        cur[0] = i + 1;
        let mut row_min = cur[0];
        for (j, cb) in b.chars().enumerate() {
            let sub = prev[j] + usize::from(*ca != cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
            row_min = row_min.min(cur[j + 1]);
        }
        if row_min > limit {
            return None;
        }
        std::mem::swap(prev, cur);
    }
    Some(prev[b_len]).filter(|&d| d <= limit)
}

/// The help line for an unknown name: "did you mean `x`?" with the candidate closest to
/// `name` (chosen by [`did_you_mean`]), or `None` when none is close enough — the caller then
/// says what the choices are. Every "unknown key / kind / dataset" diagnostic words its
/// suggestion with this, so they all read the same:
///
/// ```
/// use sluice_spec::suggest::hint;
/// assert_eq!(
///     hint("thresold", ["threshold", "severity"]).as_deref(),
///     Some("did you mean `threshold`?")
/// );
/// assert_eq!(hint("zzz", ["threshold"]), None);
/// ```
pub fn hint<'a, I>(name: &str, candidates: I) -> Option<String>
where
    I: IntoIterator<Item = &'a str>,
{
    did_you_mean(name, candidates).map(phrase)
}

/// `did you mean `x`?`: the one wording of a suggestion, for errors that keep the
/// suggested name (to show later) rather than the candidates.
pub fn phrase(suggestion: &str) -> String {
    format!("did you mean `{suggestion}`?")
}

/// Edit distance (insertions, deletions, substitutions) between two strings, by characters.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// A list of names as `a`, `b`, `c` for messages.
pub fn list(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_typos() {
        let keys = ["threshold", "column", "columns", "severity"];
        assert_eq!(did_you_mean("thresold", keys), Some("threshold"));
        assert_eq!(did_you_mean("colum", keys), Some("column"));
        assert_eq!(did_you_mean("Severity", keys), Some("severity"));
        assert_eq!(did_you_mean("zzz", keys), None);
        assert_eq!(
            did_you_mean("created", ["order_id", "created_at"]),
            Some("created_at")
        );
        assert_eq!(did_you_mean("column", keys), Some("columns"));
    }

    #[test]
    fn bounded_distance_agrees_with_the_full_one() {
        let words = [
            "",
            "a",
            "ab",
            "orders",
            "order",
            "ordres",
            "kitten",
            "sitting",
            "größe",
            "grösse",
            "ds_000123",
            "ds_000321",
        ];
        let mut rows = (Vec::new(), Vec::new());
        for a in words {
            let chars: Vec<char> = a.chars().collect();
            for b in words {
                let full = levenshtein(a, b);
                for limit in 0..4 {
                    let got = bounded_levenshtein(&chars, b, limit, &mut rows);
                    assert_eq!(got, (full <= limit).then_some(full), "{a} {b} {limit}");
                }
            }
        }
    }

    #[test]
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("größe", "grösse"), 2);
    }
}
