//! Bearer tokens for the mutating calls (`POST`): the token is read from the environment
//! variable `serve: { token_env: NAME }` names, else `SLUICE_TOKEN`. With none configured,
//! mutating calls are refused (403) with a message saying how to configure one; a missing
//! or wrong `Authorization: Bearer` header is a 401. Tokens are compared in constant time.

use std::sync::Arc;

use sluice_app::spec::Config;

/// A configured token.
#[derive(Clone)]
pub struct Token {
    secret: Arc<[u8]>,
    /// The variable it came from, for messages.
    pub var: String,
}

impl std::fmt::Debug for Token {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Token(from {}, redacted)", self.var)
    }
}

impl Token {
    /// The token `config` names (or `SLUICE_TOKEN`), if that variable is set and not empty.
    pub fn configured(config: &Config) -> Option<Token> {
        let var = config.serve.token_var().to_string();
        Token::from_value(std::env::var(&var).ok()?, var)
    }

    /// A token with this value (`None` if empty).
    pub fn from_value(value: String, var: String) -> Option<Token> {
        let value = value.trim();
        (!value.is_empty()).then(|| Token {
            secret: value.as_bytes().into(),
            var,
        })
    }

    /// Whether `presented` is this token, in time that does not depend on where they differ.
    pub fn matches(&self, presented: &[u8]) -> bool {
        constant_time_eq(&self.secret, presented)
    }
}

/// Equality whose time depends only on the lengths, not on the contents.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    let n = a.len().max(b.len());
    for i in 0..n {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0xff);
        diff |= x ^ y;
    }
    std::hint::black_box(diff) == 0
}

/// Why a mutating call is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// No token is configured: nobody may mutate (403).
    NotConfigured {
        /// The variable that would hold it.
        var: String,
    },
    /// No `Authorization: Bearer` header (401).
    Missing,
    /// A token that is not the configured one (401).
    Wrong,
}

/// Checks the `Authorization` header of a mutating call against the configured token.
pub fn authorize(token: Option<&Token>, header: Option<&[u8]>, var: &str) -> Result<(), Refusal> {
    let Some(token) = token else {
        return Err(Refusal::NotConfigured {
            var: var.to_string(),
        });
    };
    let presented = header
        .and_then(|h| {
            let h = std::str::from_utf8(h).ok()?.trim();
            let (scheme, rest) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .ok_or(Refusal::Missing)?;
    if token.matches(presented.as_bytes()) {
        Ok(())
    } else {
        Err(Refusal::Wrong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tok(v: &str) -> Token {
        Token::from_value(v.into(), "SLUICE_TOKEN".into()).unwrap()
    }

    #[test]
    fn equal_only_when_equal() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"ab", b"abc"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn bearer_header_is_required_and_compared() {
        let t = tok("s3cret");
        assert_eq!(authorize(Some(&t), Some(b"Bearer s3cret"), "X"), Ok(()));
        assert_eq!(authorize(Some(&t), Some(b"bearer  s3cret "), "X"), Ok(()));
        assert_eq!(
            authorize(Some(&t), Some(b"Bearer wrong"), "X"),
            Err(Refusal::Wrong)
        );
        assert_eq!(
            authorize(Some(&t), Some(b"Basic s3cret"), "X"),
            Err(Refusal::Missing)
        );
        assert_eq!(authorize(Some(&t), None, "X"), Err(Refusal::Missing));
        assert_eq!(
            authorize(None, Some(b"Bearer s3cret"), "X"),
            Err(Refusal::NotConfigured { var: "X".into() })
        );
    }

    #[test]
    fn empty_token_is_no_token() {
        assert!(Token::from_value("  ".into(), "V".into()).is_none());
    }

    #[test]
    fn debug_never_shows_the_secret() {
        assert!(!format!("{:?}", tok("s3cret")).contains("s3cret"));
    }
}
