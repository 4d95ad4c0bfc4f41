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
    let limit = (name.chars().count() / 3).clamp(1, 3);
    let mut best: Option<(usize, &'a str)> = None;
    for cand in candidates {
        if cand == name {
            continue;
        }
        let cand_lower = cand.to_lowercase();
        let d = if cand_lower == lower {
            0
        } else if lower.len().min(cand_lower.len()) >= 4
            && (cand_lower.starts_with(&lower) || lower.starts_with(&cand_lower))
        {
            // `created` for `created_at`: a prefix is as good as a one-letter typo.
            1
        } else {
            levenshtein(&lower, &cand_lower)
        };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    best.map(|(_, c)| c)
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
    fn distance() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("größe", "grösse"), 2);
    }
}
