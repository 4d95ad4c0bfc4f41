//! Errors as HTTP answers: a status from who is at fault ([`sluice_app::ErrorKind`]) and a
//! JSON body that says what was wrong and how to fix it:
//! `{"error": {"status": 404, "code": "not_found", "message": "..."}}`.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sluice_app::ErrorKind;

use crate::auth::Refusal;

/// An error answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable code for scripts: `invalid`, `not_found`, `conflict`, `unavailable`,
    /// `internal`, `unauthorized`, `forbidden`, `payload_too_large`, `method_not_allowed`.
    pub code: &'static str,
    /// What was wrong, and how to fix it.
    pub message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// A 400: the request is wrong.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid", message)
    }

    /// A 404.
    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }
}

impl From<sluice_app::Error> for ApiError {
    fn from(e: sluice_app::Error) -> ApiError {
        let (status, code) = match e.kind() {
            ErrorKind::Invalid => (StatusCode::BAD_REQUEST, "invalid"),
            ErrorKind::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ErrorKind::Conflict => (StatusCode::CONFLICT, "conflict"),
            ErrorKind::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() {
            tracing::error!(error = %e, "request failed");
        }
        ApiError::new(status, code, e.to_string())
    }
}

impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> ApiError {
        match r {
            Refusal::NotConfigured { var } => ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!(
                    "this server has no token, so nobody may trip, reset or run checks through it: set {var} (or name another variable with `serve: {{ token_env: NAME }}` in the config) before starting `sluice serve`, then send `Authorization: Bearer <token>`"
                ),
            ),
            Refusal::Missing => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "this call changes state: send the server's token as `Authorization: Bearer <token>`",
            ),
            Refusal::Wrong => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "the bearer token is not this server's token",
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({
            "error": {"status": self.status.as_u16(), "code": self.code, "message": self.message}
        });
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"sluice\""),
            );
        }
        r
    }
}

/// What a handler returns.
pub type ApiResult<T> = Result<T, ApiError>;
