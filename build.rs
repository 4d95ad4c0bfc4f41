//! Links the `sluice` binary as a position-dependent executable on Linux.
//!
//! The binary is large (DataFusion, arrow, object stores): linked as a PIE, the dynamic
//! loader relocates every pointer in its data at every start, touching tens of MB of
//! pages before `main` (46% of the page faults of a `sluice check` on a 10-row file; the
//! run took 48 ms, 28 ms without PIE). Linked without PIE, the linker resolves them once. Only the binary's final link changes: the libraries are
//! compiled as before, and the Python extension (a shared object) is unaffected.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}
