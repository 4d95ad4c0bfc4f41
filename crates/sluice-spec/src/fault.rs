//! The crash-safety test hook, compiled in only with the `fault-injection` feature (the
//! test build of the root package turns it on; release binaries have no such hook).
//!
//! `SLUICE_FAULT=<point>` aborts the process at that point (like a SIGKILL: no destructor
//! runs, nothing is flushed); `<point>:pause` says so on stderr and waits, for the test to
//! SIGKILL it; `<point>:until=<file>` says so and waits until `<file>` exists, then goes
//! on (for a test to change the world under a running command, e.g. delete an object).

/// Stops here as `SLUICE_FAULT` says, when it names `point`.
#[cfg(feature = "fault-injection")]
pub fn fault(point: &str) {
    let Ok(f) = std::env::var("SLUICE_FAULT") else {
        return;
    };
    if f == point {
        eprintln!("fault injected at {point}");
        std::process::abort();
    }
    if f.strip_suffix(":pause") == Some(point) {
        eprintln!("paused at {point}");
        std::thread::sleep(std::time::Duration::from_secs(600));
    }
    if let Some((p, file)) = f.split_once(":until=")
        && p == point
    {
        eprintln!("paused at {point}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        while !std::path::Path::new(file).exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
}

/// The crash-safety test hook: a no-op in builds without the `fault-injection` feature.
#[cfg(not(feature = "fault-injection"))]
#[inline(always)]
pub fn fault(_point: &str) {}
