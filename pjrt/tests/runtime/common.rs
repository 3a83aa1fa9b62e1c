//! Shared helpers: one client per test process.

use std::sync::OnceLock;

use pjrt::{Client, Program};

/// The client of the plugin under test (created once; prints the plugin's version once).
pub fn client() -> &'static Client {
    static CLIENT: OnceLock<Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let c = Client::default_cpu().expect("create client of the plugin under test");
        eprintln!(
            "plugin under test: {} (PJRT API {}, platform {} {})",
            c.plugin().path().display(),
            c.plugin().api_version(),
            c.platform_name(),
            c.platform_version()
        );
        c
    })
}

/// The minor API version of the plugin under test.
pub fn minor() -> i32 {
    client().plugin().api_version().minor
}

/// A StableHLO module as a program.
pub fn mlir(text: &str) -> Program {
    Program::mlir_text(text)
}
