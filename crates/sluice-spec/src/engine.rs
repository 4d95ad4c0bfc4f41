//! `engine:` (and `--engine`, `SLUICE_ENGINE`): where a run's queries execute.

use std::fmt;

/// The scheduler port Ballista listens on by default.
pub const BALLISTA_DEFAULT_PORT: u16 = 50050;

/// Where a run's queries execute.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Engine {
    /// DataFusion inside the sluice process (the default), written `datafusion`.
    #[default]
    InProcess,
    /// An Apache Ballista cluster, through its scheduler: `ballista://HOST:PORT`.
    Ballista {
        /// The scheduler's host name or address.
        host: String,
        /// The scheduler's gRPC port (default 50050).
        port: u16,
    },
}

impl Engine {
    /// Parses `datafusion` or `ballista://HOST[:PORT]`; the error says what is accepted.
    pub fn parse(text: &str) -> Result<Engine, String> {
        let t = text.trim();
        if t.eq_ignore_ascii_case("datafusion") {
            return Ok(Engine::InProcess);
        }
        let Some(rest) = t.strip_prefix("ballista://") else {
            return Err(format!(
                "`{text}` is not an engine; use `datafusion` (in-process, the default) or `ballista://HOST:PORT` (a Ballista scheduler)"
            ));
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                let port = p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                    format!("`{text}`: `{p}` is not a port; write `ballista://HOST:PORT`, e.g. `ballista://localhost:50050`")
                })?;
                (h, port)
            }
            _ => (rest, BALLISTA_DEFAULT_PORT),
        };
        if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
            return Err(format!(
                "`{text}` names no scheduler host; write `ballista://HOST:PORT`, e.g. `ballista://localhost:50050`"
            ));
        }
        Ok(Engine::Ballista {
            host: host.to_string(),
            port,
        })
    }

    /// Whether queries run outside this process.
    pub fn is_distributed(&self) -> bool {
        !matches!(self, Engine::InProcess)
    }
}

impl fmt::Display for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Engine::InProcess => f.write_str("datafusion"),
            Engine::Ballista { host, port } => write!(f, "ballista://{host}:{port}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_two_engines_and_says_what_is_wrong() {
        assert_eq!(Engine::parse("datafusion"), Ok(Engine::InProcess));
        assert_eq!(
            Engine::parse("ballista://sched.internal:50070"),
            Ok(Engine::Ballista {
                host: "sched.internal".into(),
                port: 50070
            })
        );
        assert_eq!(
            Engine::parse("ballista://10.0.0.5").unwrap().to_string(),
            "ballista://10.0.0.5:50050"
        );
        assert!(
            Engine::parse("spark://x:7077")
                .unwrap_err()
                .contains("not an engine")
        );
        assert!(
            Engine::parse("ballista://x:port")
                .unwrap_err()
                .contains("not a port")
        );
        assert!(
            Engine::parse("ballista://")
                .unwrap_err()
                .contains("no scheduler host")
        );
    }
}
