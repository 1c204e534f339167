//! The command-line client: `download`, `seed`, `create`, `info`.

pub mod create;
pub mod download;
pub mod events;
pub mod info;
mod progress;
pub mod rate;
pub mod search;
pub mod select;

use anyhow::Context;
use engine::{metainfo::Metainfo, session::Session};
use std::{
    net::{IpAddr, SocketAddr},
    path::{Path, PathBuf},
};

/// Options every peer-facing command shares.
#[derive(clap::Args, Debug, Clone)]
pub struct PeerArgs {
    /// TCP port to accept peers on (0 picks a free one).
    #[arg(long, default_value_t = 6881)]
    pub port: u16,
    /// Address to accept peers on.
    #[arg(long, default_value = "0.0.0.0")]
    pub bind: IpAddr,
    /// Also connect to this peer (repeatable), besides the trackers' peers.
    #[arg(long = "peer", value_name = "IP:PORT")]
    pub peers: Vec<SocketAddr>,
    /// Print nothing but errors.
    #[arg(long, short)]
    pub quiet: bool,
    /// Download limit: bytes per second, or with K/M/G (1024-based), e.g. 500K, 10M.
    #[arg(long, value_name = "RATE", value_parser = rate::parse_rate, default_value = "0")]
    pub max_down: u64,
    /// Upload limit: bytes per second, or with K/M/G (1024-based), e.g. 500K, 10M.
    #[arg(long, value_name = "RATE", value_parser = rate::parse_rate, default_value = "0")]
    pub max_up: u64,
    #[command(flatten)]
    pub dht: crate::config::DhtArgs,
}

impl PeerArgs {
    /// Starts an engine session listening where these options say, keeping fast-resume
    /// records in `resume_dir`.
    pub async fn start_session(&self, resume_dir: PathBuf) -> anyhow::Result<Session> {
        let dht = self
            .dht
            .resolve()?
            .map(|d| d.engine_config(self.bind, None));
        let mut config = engine::config::SessionConfig {
            listen_addr: SocketAddr::new(self.bind, self.port),
            // The CLI acts for the person running it, on a torrent they chose, and shows
            // tracker errors only to them: their LAN trackers are theirs to use.
            allow_local_trackers: true,
            resume_dir: Some(resume_dir),
            pex: !self.dht.no_pex,
            encryption: self.dht.encryption.unwrap_or_default(),
            dht,
            ..Default::default()
        };
        self.dht
            .network
            .resolve(&Default::default())
            .apply(&mut config);
        let session = Session::start(config)
            .await
            .with_context(|| format!("cannot start the engine on {}:{}", self.bind, self.port))?;
        session.set_rate_limits(self.max_down, self.max_up);
        Ok(session)
    }
}

/// Reads and parses a .torrent file, refusing files larger than any real torrent.
pub fn read_torrent(path: &Path) -> anyhow::Result<Metainfo> {
    let len = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if len > Metainfo::MAX_TORRENT_SIZE as u64 {
        anyhow::bail!(
            "{} is {len} bytes: too large for a .torrent file",
            path.display()
        );
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    Metainfo::from_bytes(&bytes)
        .with_context(|| format!("{} is not a valid torrent", path.display()))
}
