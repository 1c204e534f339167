//! `torrentedge download` and `torrentedge seed`.

use super::{progress::Progress, read_torrent, select::SelectArgs, PeerArgs};
use anyhow::{bail, Context};
use engine::{
    events::Event,
    magnet::Magnet,
    session::{AddTorrentOptions, Session, TorrentHandle},
    status::TorrentState,
};
use std::{path::PathBuf, time::Duration};
use tokio::sync::broadcast::error::RecvError;

#[derive(clap::Args, Debug)]
pub struct DownloadArgs {
    /// The .torrent file, or a magnet link (quote it: it contains '&').
    pub torrent: PathBuf,
    /// Folder to save into (created if missing).
    #[arg(short, long, default_value = ".")]
    pub output: PathBuf,
    /// Keep seeding after the download completes, until interrupted (or `--ratio`).
    #[arg(long)]
    pub seed: bool,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub peer: PeerArgs,
}

#[derive(clap::Args, Debug)]
pub struct SeedArgs {
    /// The .torrent file, or a magnet link.
    pub torrent: PathBuf,
    /// Folder that holds the data (the torrent's files inside it).
    pub dir: PathBuf,
    /// BEP 16 super-seeding: reveal pieces one at a time, so the swarm gets a whole copy
    /// while this seeder uploads little more than one (for an initial seeder).
    #[arg(long)]
    pub super_seed: bool,
    #[command(flatten)]
    pub select: SelectArgs,
    #[command(flatten)]
    pub peer: PeerArgs,
}

/// The hidden folder inside the output folder that holds fast-resume records.
const RESUME_DIR: &str = ".torrentedge";

/// Downloads until every piece is verified; exits 0 only then.
pub async fn download(args: DownloadArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("cannot create {}", args.output.display()))?;
    let (session, handle) =
        start(&args.torrent, args.output.clone(), &args.peer, &args.select).await?;
    let mut progress = Progress::new(args.peer.quiet);
    let outcome = run_until_complete(&session, &handle, &mut progress).await;
    match outcome {
        Ok(()) => {
            let s = handle.status();
            progress.finish(&format!(
                "complete: {} ({}) verified in {}",
                s.name,
                super::progress::human_bytes(s.wanted_bytes),
                args.output.display()
            ));
            if args.seed {
                seed_forever(&handle, &mut progress, &args.select).await;
            }
            session.shutdown().await;
            Ok(())
        }
        Err(e) => {
            session.shutdown().await;
            Err(e)
        }
    }
}

/// Seeds (downloading whatever is missing first) until interrupted.
pub async fn seed(args: SeedArgs) -> anyhow::Result<()> {
    if !args.dir.is_dir() {
        bail!("{} is not a folder", args.dir.display());
    }
    let (session, handle) =
        start(&args.torrent, args.dir.clone(), &args.peer, &args.select).await?;
    if args.super_seed && !handle.set_super_seeding(true) {
        bail!("super-seeding needs the torrent's metadata");
    }
    let mut progress = Progress::new(args.peer.quiet);
    seed_forever(&handle, &mut progress, &args.select).await;
    session.shutdown().await;
    Ok(())
}

async fn start(
    torrent: &std::path::Path,
    save_dir: PathBuf,
    peer: &PeerArgs,
    select: &SelectArgs,
) -> anyhow::Result<(Session, TorrentHandle)> {
    // Running the command again on the same folder continues where it stopped.
    let resume_dir = save_dir.join(RESUME_DIR);
    let mut opts = AddTorrentOptions {
        save_dir,
        paused: false,
        peers: peer.peers.clone(),
        ..Default::default()
    };
    let arg = torrent.to_string_lossy();
    if arg.starts_with("magnet:") {
        opts.selection = select.selection(None)?;
        let magnet = Magnet::parse(&arg)?;
        let session = peer.start_session(resume_dir).await?;
        tracing::info!("listening for peers on {}", session.local_addr());
        let handle = session
            .add_magnet(&magnet, opts)
            .context("cannot add the magnet link")?;
        return Ok((session, handle));
    }
    let meta = read_torrent(torrent)?;
    opts.selection = select.selection(Some(meta.files.len()))?;
    let session = peer.start_session(resume_dir).await?;
    tracing::info!("listening for peers on {}", session.local_addr());
    let handle = session
        .add_torrent(meta, opts)
        .await
        .context("cannot add the torrent")?;
    Ok((session, handle))
}

/// Waits for completion, a fatal error or Ctrl-C, drawing progress twice a second.
async fn run_until_complete(
    session: &Session,
    handle: &TorrentHandle,
    progress: &mut Progress,
) -> anyhow::Result<()> {
    let ih = handle.info_hash();
    let mut events = session.subscribe();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            ev = events.recv() => match ev {
                Ok(Event::Completed { info_hash }) if info_hash == ih => return Ok(()),
                // Data that was already complete (a recheck) never sends Completed: it goes
                // straight to seeding, and the caller should not wait for the next tick.
                Ok(Event::StateChanged { info_hash, state: TorrentState::Seeding })
                    if info_hash == ih && is_complete(handle) => return Ok(()),
                Ok(Event::Error { info_hash, message }) if info_hash == ih => bail!("{message}"),
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => bail!("the engine stopped"),
            },
            _ = tick.tick() => {
                let s = handle.status();
                progress.update(&s);
                if s.state == TorrentState::Seeding && wanted_done(&s) {
                    return Ok(());
                }
                if s.state == TorrentState::Error {
                    bail!("{}", s.error.unwrap_or_else(|| "torrent failed".into()));
                }
            }
            _ = tokio::signal::ctrl_c() => bail!("interrupted before the download completed"),
        }
    }
}

fn is_complete(handle: &TorrentHandle) -> bool {
    wanted_done(&handle.status())
}

/// Every file not skipped is verified.
fn wanted_done(s: &engine::status::TorrentStatus) -> bool {
    s.wanted_bytes > 0 && s.wanted_done == s.wanted_bytes
}

/// Seeds until Ctrl-C, or until `--ratio` is reached.
async fn seed_forever(handle: &TorrentHandle, progress: &mut Progress, select: &SelectArgs) {
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let s = handle.status();
                progress.update(&s);
                if s.state == TorrentState::Seeding && select.ratio_reached(&s) {
                    progress.finish(&format!("ratio {} reached", select.ratio.unwrap_or(0.0)));
                    return;
                }
            }
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    progress.finish("stopped seeding");
}
