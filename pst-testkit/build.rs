//! Says, where cargo shows it, when the shared data is missing: the tests
//! that need it then pass as skipped, which `cargo test`'s `ok` would hide.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=PST_DATA");
    println!("cargo:rerun-if-env-changed=PST_REQUIRE_DATA");
    let dir = match std::env::var_os("PST_DATA") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default()).join("../../shared/data"),
    };
    // A path that does not exist makes cargo run this again on every build,
    // so the warning shows until the data is there.
    println!("cargo:rerun-if-changed={}", dir.display());
    if !dir.is_dir() {
        println!(
            "cargo:warning=no shared data at {}: the tests that need it will pass as SKIPPED \
             (set PST_DATA to the data folder; PST_REQUIRE_DATA=1 makes them fail instead)",
            dir.display()
        );
    }
}
