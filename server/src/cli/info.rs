//! `torrentedge info`: what a .torrent holds.

use super::{progress::human_bytes, read_torrent};
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct InfoArgs {
    /// The .torrent file.
    pub torrent: PathBuf,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn info(args: InfoArgs) -> anyhow::Result<()> {
    let m = read_torrent(&args.torrent)?;
    if args.json {
        let files: Vec<_> = m
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| serde_json::json!({ "index": i + 1, "path": f.path, "length": f.length }))
            .collect();
        let doc = serde_json::json!({
            "name": m.name, "infoHash": m.info_hash.to_hex(), "totalLength": m.total_length,
            "pieceLength": m.piece_length, "pieces": m.num_pieces(), "private": m.private,
            "trackers": m.trackers, "comment": m.comment, "createdBy": m.created_by,
            "creationDate": m.creation_date, "webSeeds": m.web_seeds, "files": files,
            "magnet": m.magnet_link(),
        });
        println!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(());
    }
    println!("Name:        {}", m.name);
    println!("Info hash:   {}", m.info_hash);
    println!(
        "Size:        {} ({} bytes)",
        human_bytes(m.total_length),
        m.total_length
    );
    println!(
        "Pieces:      {} x {}",
        m.num_pieces(),
        human_bytes(m.piece_length as u64)
    );
    println!("Private:     {}", if m.private { "yes" } else { "no" });
    if let Some(c) = &m.comment {
        println!("Comment:     {c}");
    }
    if let Some(c) = &m.created_by {
        println!("Created by:  {c}");
    }
    for (i, tier) in m.trackers.iter().enumerate() {
        println!("Tier {i}:      {}", tier.join(", "));
    }
    for url in &m.web_seeds {
        println!("Web seed:    {url}");
    }
    // Numbered from 1: `download --only-files` takes these numbers.
    println!("Files:");
    for (i, f) in m.files.iter().enumerate() {
        println!(
            "  {:>4}  {:>12}  {}",
            i + 1,
            human_bytes(f.length),
            f.path.display()
        );
    }
    println!("Magnet:      {}", m.magnet_link());
    Ok(())
}
