//! `torrentedge`: the dashboard server and the command-line client in one binary.

mod web;

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
enum Command {
    /// Serve the web dashboard and the HTTP API.
    Serve(web::ServeArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,engine=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        match cli.command {
            Command::Serve(args) => web::serve(args).await,
        }
    })
}
