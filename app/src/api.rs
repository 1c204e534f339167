//! Server functions: the dashboard's typed calls into the server.

use crate::types::ServerStatus;
use leptos::prelude::*;

/// The server's version and how long it has been up.
#[server(prefix = "/sfn", endpoint = "server_info")]
pub async fn server_info() -> Result<ServerStatus, ServerFnError> {
    Ok(ServerStatus {
        version: env!("CARGO_PKG_VERSION").to_string(),
        uptime_secs: started().elapsed().as_secs(),
    })
}

/// When the server process started; the server calls this once at boot so uptime counts from there.
#[cfg(feature = "ssr")]
pub fn started() -> std::time::Instant {
    static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    *STARTED.get_or_init(std::time::Instant::now)
}
