//! `torrentedge create`: make a .torrent from a file or folder.

use anyhow::Context;
use engine::{create::CreateOptions, metainfo::Metainfo};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct CreateArgs {
    /// File or folder to share.
    pub path: PathBuf,
    /// Tracker announce URL (repeatable; each is its own tier, or comma-separate URLs of one tier).
    #[arg(long = "tracker", short = 't', value_name = "URL")]
    pub trackers: Vec<String>,
    /// Where to write the .torrent.
    #[arg(short, long)]
    pub output: PathBuf,
    /// Piece size in bytes (a power of two); chosen from the size when omitted.
    #[arg(long)]
    pub piece_size: Option<u32>,
    /// Mark the torrent private (no DHT or PEX).
    #[arg(long)]
    pub private: bool,
    #[arg(long)]
    pub comment: Option<String>,
    /// Name of the torrent (defaults to the file or folder name).
    #[arg(long)]
    pub name: Option<String>,
    /// A BEP 19 web seed: an HTTP(S) URL serving the content (repeatable). A URL ending in
    /// `/` gets the torrent's name (and paths) appended by clients.
    #[arg(long = "web-seed", value_name = "URL")]
    pub web_seeds: Vec<String>,
}

pub fn create(args: CreateArgs) -> anyhow::Result<()> {
    let opts = CreateOptions {
        trackers: args
            .trackers
            .iter()
            .map(|t| {
                t.split(',')
                    .map(|u| u.trim().to_string())
                    .filter(|u| !u.is_empty())
                    .collect()
            })
            .filter(|tier: &Vec<String>| !tier.is_empty())
            .collect(),
        piece_length: args.piece_size,
        private: args.private,
        comment: args.comment,
        created_by: None,
        name: args.name,
        web_seeds: args.web_seeds,
    };
    let bytes = engine::create::create_torrent(&args.path, &opts, &|_| {})
        .with_context(|| format!("cannot create a torrent from {}", args.path.display()))?;
    let meta = Metainfo::from_bytes(&bytes).context("created torrent does not parse")?;
    std::fs::write(&args.output, &bytes)
        .with_context(|| format!("cannot write {}", args.output.display()))?;
    println!("{}", meta.info_hash);
    eprintln!(
        "wrote {} ({} pieces)",
        args.output.display(),
        meta.num_pieces()
    );
    Ok(())
}
