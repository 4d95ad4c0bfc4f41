//! `sluice serve`: the HTTP surface of sluice. A JSON API, the web dashboard (assets
//! embedded in the binary) and a Prometheus endpoint, over the same application layer the
//! CLI calls ([`sluice_app`]): every route parses its request, calls one use case and
//! renders what comes back; nothing here reimplements a use case.
//!
//! | module | what |
//! | --- | --- |
//! | [`state`] | the server's state: the workspace (reloaded when its config changes), the token, the background runs |
//! | [`routes`] | the routes of the JSON API, `/healthz`, `/metrics` |
//! | [`auth`] | bearer tokens for mutating calls, compared in constant time |
//! | [`error`] | [`sluice_app::ErrorKind`] to HTTP statuses, errors as JSON |
//! | [`page`] | the dashboard's embedded assets, and the self-contained HTML run report |

#![warn(missing_docs)]

pub mod auth;
pub mod error;
pub mod page;
pub mod routes;
pub mod state;

pub use state::{ServeError, ServeOptions, serve};
