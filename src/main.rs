//! The `sluice` command: the command line of the `sluice` library crate ([`sluice::run_cli`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(sluice::run_cli(std::env::args_os()))
}
