//! `torrentedge`: the dashboard server and the command-line client in one binary.

// The compatibility adapters build large `json!` objects.
#![recursion_limit = "256"]

mod api;
mod auth;
mod cli;
mod compat;
mod config;
mod db;
mod dht;
mod encryption;
mod events;
mod folders;
mod kafka;
mod metrics;
mod network;
mod nostr;
mod search;
mod speed;
mod state;
mod stats;
mod supervise;
mod torrents;
mod tracker;
mod web;
mod webseed;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "torrentedge",
    version,
    about = "A fast BitTorrent client with a web dashboard"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
// Parsed once at start: the size of `serve`'s many options does not matter.
#[allow(clippy::large_enum_variant)]
enum Command {
    /// Serve the web dashboard and the HTTP API.
    Serve(web::ServeArgs),
    /// Download a torrent; exits 0 once every piece is verified.
    Download(cli::download::DownloadArgs),
    /// Seed a torrent from data on disk (fetching whatever is missing first).
    Seed(cli::download::SeedArgs),
    /// Create a .torrent from a file or folder.
    Create(cli::create::CreateArgs),
    /// Show what a .torrent holds.
    Info(cli::info::InfoArgs),
    /// Print the live event stream, one JSON line per event (from the API or from Kafka).
    Events(cli::events::EventsArgs),
    /// Search a TorrentEdge server (and the servers it is federated with) by name.
    Search(cli::search::SearchArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // The server logs its life; the CLI commands keep the terminal for their progress line.
    let default_filter = match cli.command {
        Command::Serve(_) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Rendering a dashboard page nests deep futures (much deeper in debug builds).
        .thread_stack_size(8 << 20)
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => web::serve(args).await,
            Command::Download(args) => cli::download::download(args).await,
            Command::Seed(args) => cli::download::seed(args).await,
            Command::Create(args) => cli::create::create(args),
            Command::Info(args) => cli::info::info(args),
            Command::Events(args) => cli::events::events(args).await,
            Command::Search(args) => cli::search::search(args).await,
        }
    })
}
