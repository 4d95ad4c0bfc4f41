//! `-v`/`-q` -> a tracing filter on stderr. `SLUICE_LOG` (EnvFilter syntax) overrides.
//! By default only our own crates log, at `warn`.

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. Logs go to stderr; results to stdout.
pub fn init(verbose: u8, quiet: u8, color: bool) {
    let filter = match std::env::var("SLUICE_LOG") {
        Ok(spec) if !spec.trim().is_empty() => EnvFilter::new(spec),
        _ => EnvFilter::new(match (verbose, quiet) {
            (_, q) if q >= 2 => "off",
            (_, 1) => "sluice=error,sluice_engine=error,sluice_spec=error",
            (0, _) => "sluice=warn,sluice_engine=warn,sluice_spec=warn",
            (1, _) => "sluice=info,sluice_engine=info,sluice_spec=info",
            (2, _) => "sluice=debug,sluice_engine=debug,sluice_spec=debug",
            _ => "trace",
        }),
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(color)
        .with_target(false)
        .try_init();
}
