//! The dashboard's assets, embedded in the binary (no CDN: it works offline), and the
//! self-contained HTML report of one run (`sluice check --format html`).

use axum::Router;

use crate::state::Shared;

/// The dashboard's routes (`/`, `/assets/...`).
pub fn routes() -> Router<Shared> {
    Router::new()
}
