//! Query strings and path segments, parsed strictly: an unknown or repeated parameter, a
//! number that is not one, a value out of range are 400s that name the parameter and what
//! it takes.

use std::collections::BTreeMap;

use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, Query};
use axum::http::request::Parts;

use crate::error::ApiError;

/// The query parameters of a request.
#[derive(Debug, Default)]
pub struct Params(BTreeMap<String, String>);

impl Params {
    /// Parses the query of `uri`, accepting only `allowed` names, each once.
    pub fn parse(uri: &axum::http::Uri, allowed: &[&str]) -> Result<Params, ApiError> {
        let pairs: Query<Vec<(String, String)>> = Query::try_from_uri(uri)
            .map_err(|e| ApiError::invalid(format!("the query string is not valid: {e}")))?;
        let mut out = BTreeMap::new();
        for (k, v) in pairs.0 {
            if !allowed.contains(&k.as_str()) {
                let takes = if allowed.is_empty() {
                    "no parameters".to_string()
                } else {
                    allowed.join(", ")
                };
                return Err(ApiError::invalid(format!(
                    "unknown query parameter `{}`: this route takes {takes}",
                    k.chars().take(60).collect::<String>()
                )));
            }
            if out.insert(k.clone(), v).is_some() {
                return Err(ApiError::invalid(format!(
                    "query parameter `{k}` is given twice: give it once"
                )));
            }
        }
        Ok(Params(out))
    }

    /// A text parameter (an empty value counts as absent).
    pub fn text(&self, name: &str) -> Option<String> {
        self.0.get(name).filter(|v| !v.is_empty()).cloned()
    }

    /// A whole number in `range`.
    pub fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<Option<u64>, ApiError> {
        let Some(v) = self.text(name) else {
            return Ok(None);
        };
        let n: u64 = v.parse().map_err(|_| {
            ApiError::invalid(format!(
                "`{name}` must be a whole number from {} to {}, not `{}`",
                range.start(),
                range.end(),
                v.chars().take(40).collect::<String>()
            ))
        })?;
        if !range.contains(&n) {
            return Err(ApiError::invalid(format!(
                "`{name}` is {n}: it must be from {} to {}",
                range.start(),
                range.end()
            )));
        }
        Ok(Some(n))
    }

    /// One of `choices` (the first when absent).
    pub fn choice(&self, name: &str, choices: &[&'static str]) -> Result<&'static str, ApiError> {
        match self.text(name) {
            None => Ok(choices[0]),
            Some(v) => choices.iter().find(|c| **c == v).copied().ok_or_else(|| {
                ApiError::invalid(format!(
                    "`{name}` is `{}`: it takes {}",
                    v.chars().take(40).collect::<String>(),
                    choices.join(" or ")
                ))
            }),
        }
    }
}

/// One path segment (a dataset, node or run id), percent-decoded; a segment that does not
/// decode is a 400.
#[derive(Debug)]
pub struct Segment(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Segment {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let p: Result<Path<String>, PathRejection> = Path::from_request_parts(parts, state).await;
        let s = p
            .map_err(|e| ApiError::invalid(format!("bad path: {e}")))?
            .0;
        if s.len() > 512 {
            return Err(ApiError::invalid(
                "the name in the path is longer than 512 bytes: no dataset, node or run has such a name",
            ));
        }
        Ok(Segment(s))
    }
}
