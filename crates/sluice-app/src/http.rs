//! Outbound HTTP: the one way sluice posts JSON to someone else (OpenLineage endpoints,
//! alert webhooks, Slack). Blocking, with a timeout per attempt and bounded retries with
//! exponential backoff; async callers run it on `tokio::task::spawn_blocking`.
//!
//! Delivery never decides a run's outcome: callers log a failure as a warning and go on.
//! URLs are shown redacted ([`redact_url`]): a Slack webhook's path *is* its secret, and
//! credentials may sit in a URL's user-info or query.

use std::time::{Duration, Instant};

/// How hard to try before giving up on one delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The pause after the first failed attempt; doubled after each further one.
    pub initial_backoff: Duration,
    /// No new attempt starts once this much time has passed since the first.
    pub max_total: Duration,
}

impl Retry {
    /// One attempt, no retry.
    pub const ONCE: Retry = Retry {
        attempts: 1,
        initial_backoff: Duration::ZERO,
        max_total: Duration::ZERO,
    };
}

/// One attempt's failure: worth another attempt, or not.
#[derive(Debug)]
pub enum Failed<E> {
    /// No answer, a timeout, a 5xx: try again.
    Retry(E),
    /// Another attempt would fail the same way.
    Stop(E),
}

impl Retry {
    /// Calls `attempt` (with its number, from 1) until it succeeds, fails for good, or the
    /// attempts or the time run out, pausing `initial_backoff`, then twice as long after
    /// each further failure; returns the last error.
    pub fn run<T, E: std::fmt::Display>(
        &self,
        mut attempt: impl FnMut(u32) -> Result<T, Failed<E>>,
    ) -> Result<T, E> {
        let started = Instant::now();
        let mut backoff = self.initial_backoff;
        let mut n = 0;
        loop {
            n += 1;
            let error = match attempt(n) {
                Ok(v) => return Ok(v),
                Err(Failed::Stop(e)) => return Err(e),
                Err(Failed::Retry(e)) => e,
            };
            if n >= self.attempts.max(1) || started.elapsed() + backoff > self.max_total {
                return Err(error);
            }
            tracing::debug!(attempt = n, %error, "delivery failed; retrying");
            std::thread::sleep(backoff);
            backoff = backoff.saturating_mul(2);
        }
    }
}

impl Default for Retry {
    /// Four attempts, 0.5 s then 1 s then 2 s apart, for at most 30 s.
    fn default() -> Self {
        Retry {
            attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_total: Duration::from_secs(30),
        }
    }
}

/// Why a delivery failed (after its retries).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The URL does not parse or is not http(s).
    #[error("{url} is not an http:// or https:// URL: {cause}")]
    BadUrl {
        /// The URL, redacted.
        url: String,
        /// What the parser said.
        cause: String,
    },
    /// No answer: connection refused, DNS, TLS or a timeout.
    #[error("could not reach {url} after {attempts} attempt(s): {cause}")]
    Unreachable {
        /// The URL, redacted.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last attempt's error.
        cause: String,
    },
    /// The server answered with a status that is not 2xx.
    #[error("{url} answered {status} after {attempts} attempt(s){}", body_suffix(.body))]
    Status {
        /// The URL, redacted.
        url: String,
        /// The last status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// The start of the last response body, if any.
        body: String,
    },
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

/// Posts `body` as JSON to `url` with extra `headers`, retrying failures (no answer, 5xx,
/// 408, 429) as `retry` allows; 4xx other than those are not retried. Returns the 2xx status.
pub fn post_json(
    url: &str,
    headers: &[(&str, &str)],
    body: &serde_json::Value,
    timeout: Duration,
    retry: Retry,
) -> Result<u16, HttpError> {
    let shown = redact_url(url);
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(HttpError::BadUrl {
            url: shown,
            cause: "the scheme must be http or https".into(),
        });
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("sluice/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let payload = serde_json::to_vec(body).expect("a JSON value serialises");
    retry.run(|attempt| {
        let mut request = agent.post(url).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        match request.send(&payload[..]) {
            Ok(mut response) => {
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    return Ok(status);
                }
                let text = response
                    .body_mut()
                    .with_config()
                    .limit(2048)
                    .read_to_string()
                    .unwrap_or_default();
                let error = HttpError::Status {
                    url: shown.clone(),
                    status,
                    attempts: attempt,
                    body: text.trim().chars().take(200).collect(),
                };
                if status >= 500 || status == 408 || status == 429 {
                    Err(Failed::Retry(error))
                } else {
                    Err(Failed::Stop(error))
                }
            }
            Err(ureq::Error::BadUri(cause)) => Err(Failed::Stop(HttpError::BadUrl {
                url: shown.clone(),
                cause,
            })),
            Err(error) => Err(Failed::Retry(HttpError::Unreachable {
                url: shown.clone(),
                attempts: attempt,
                cause: error.to_string(),
            })),
        }
    })
}

/// `url` safe to print: user-info dropped, the query replaced by `?…`, and the path kept
/// only up to its first segment (`https://hooks.slack.com/services/…`).
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "<not a URL>".into();
    };
    let (authority, path_and_query) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = authority.rsplit('@').next().unwrap_or(authority);
    let (path, has_query) = match path_and_query.split_once('?') {
        Some((p, _)) => (p, true),
        None => (path_and_query, false),
    };
    let mut segments = path.split('/').filter(|s| !s.is_empty());
    let mut shown = format!("{scheme}://{host}");
    if let Some(first) = segments.next() {
        shown.push('/');
        shown.push_str(first);
        if segments.next().is_some() {
            shown.push_str("/…");
        }
    }
    if has_query {
        shown.push_str("?…");
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A loopback server answering the given statuses in turn; returns its URL and the bodies it got.
    fn serve(statuses: Vec<u16>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!(
            "http://{}/hook/secret-token",
            listener.local_addr().unwrap()
        );
        let handle = std::thread::spawn(move || {
            let mut bodies = Vec::new();
            for status in statuses {
                let (stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream);
                let mut length = 0;
                loop {
                    let mut line = String::new();
                    reader.read_line(&mut line).unwrap();
                    if line == "\r\n" || line.is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap();
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).unwrap();
                bodies.push(String::from_utf8(body).unwrap());
                let mut stream = reader.into_inner();
                write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope"
                )
                .unwrap();
            }
            bodies
        });
        (url, handle)
    }

    fn quick(attempts: u32) -> Retry {
        Retry {
            attempts,
            initial_backoff: Duration::from_millis(10),
            max_total: Duration::from_secs(5),
        }
    }

    #[test]
    fn posts_json_and_retries_after_a_500() {
        let (url, server) = serve(vec![500, 200]);
        let body = serde_json::json!({"a": 1});
        let status = post_json(&url, &[], &body, Duration::from_secs(5), quick(3)).unwrap();
        assert_eq!(status, 200);
        assert_eq!(server.join().unwrap(), vec![r#"{"a":1}"#, r#"{"a":1}"#]);
    }

    #[test]
    fn a_400_is_not_retried_and_the_error_hides_the_secret() {
        let (url, server) = serve(vec![400]);
        let error = post_json(
            &url,
            &[],
            &serde_json::json!({}),
            Duration::from_secs(5),
            quick(3),
        )
        .unwrap_err();
        assert_eq!(server.join().unwrap().len(), 1);
        let text = error.to_string();
        assert!(
            text.contains("answered 400 after 1 attempt(s): nope"),
            "{text}"
        );
        assert!(!text.contains("secret-token"), "{text}");
    }

    #[test]
    fn nobody_listening_is_unreachable_after_the_attempts() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/x");
        let error = post_json(
            &url,
            &[],
            &serde_json::json!({}),
            Duration::from_secs(2),
            quick(2),
        )
        .unwrap_err();
        assert!(
            matches!(error, HttpError::Unreachable { attempts: 2, .. }),
            "{error}"
        );
    }

    #[test]
    fn redaction_keeps_host_and_first_segment_only() {
        assert_eq!(
            redact_url("https://hooks.slack.com/services/T000/B000/XXXX"),
            "https://hooks.slack.com/services/…"
        );
        assert_eq!(
            redact_url("http://user:pw@localhost:5000/api/v1/lineage?key=1"),
            "http://localhost:5000/api/…?…"
        );
        assert_eq!(redact_url("http://h:1"), "http://h:1");
        assert_eq!(redact_url("nonsense"), "<not a URL>");
    }
}
