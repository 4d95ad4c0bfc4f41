//! The progress line on a terminal: datasets done and rows scanned, redrawn in place on
//! stderr. Shown only when stderr is a terminal (never on a pipe or in a CI log), and only
//! once a run has taken longer than half a second.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sluice_app::engine::Progress;

use crate::render::text::thousands;

/// Redraws the progress line until aborted.
pub async fn display(progress: Arc<Progress>, color: bool) {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let mut tick = 0usize;
    loop {
        let s = progress.snapshot();
        let spinner = frames[tick % frames.len()];
        let line = format!(
            "{spinner} checking · {}/{} datasets done · {} rows scanned · {:.1}s",
            s.datasets_done,
            s.datasets_total,
            thousands(s.rows_scanned),
            started.elapsed().as_secs_f64()
        );
        let line = if color {
            format!("\x1b[2m{line}\x1b[0m")
        } else {
            line
        };
        {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K{line}");
            let _ = err.flush();
        }
        tick += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Erases the progress line.
pub fn clear() {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "\r\x1b[2K");
    let _ = err.flush();
}
