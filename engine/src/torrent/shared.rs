//! The state one torrent's tasks share under its single lock.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, watch};

use super::assembly::Assembly;
use super::choker::Choker;
use super::dialer::PeerBook;
use crate::peer::pipeline::Pipeline;
use crate::peer::rate::RateMeter;
use crate::peer::{Out, WriterCmd};
use crate::picker::Picker;
use crate::status::PeerSource;
use crate::status::TorrentState;
use crate::wire::extended::PeerExtensions;
use crate::wire::{BlockRequest, Message};
use crate::{Bitfield, PeerId, PeerKey};

/// Everything behind the torrent lock. Never held across `.await` or I/O.
pub(crate) struct Shared {
    pub state: TorrentState,
    pub error: Option<String>,
    pub picker: Picker,
    pub assembly: Assembly,
    pub peers: HashMap<PeerKey, PeerEntry>,
    pub book: PeerBook,
    /// Outgoing dials in progress (count against the per-torrent cap).
    pub connecting: usize,
    /// Whether peers may connect (running, not paused/stopped/failed).
    pub accepting: bool,
    pub stats: Stats,
    /// Reused by pipeline top-ups so picking does not allocate.
    pub pick_scratch: Vec<BlockRequest>,
    pub choker: Choker,
    pub down_meter: RateMeter,
    pub up_meter: RateMeter,
    /// The ban list generation last enforced (`banning`).
    pub ban_generation: u64,
    /// Super-seeding: pieces revealed and not yet announced back (`super_seed`).
    pub reveals: super::super_seed::Reveals,
    /// How the latest connections ended, oldest first.
    pub recent_ends: std::collections::VecDeque<crate::status::PeerEnd>,
    /// Open streams' windows of pieces wanted first (`stream`).
    pub streams: super::stream::Windows,
    /// BEP 19 web seeds, pseudo-peers with every piece (`web_seeds`).
    pub web_seeds: super::web_seeds::WebSeeds,
}

#[derive(Default, Clone, Copy)]
pub(crate) struct Stats {
    pub downloaded: u64,
    pub uploaded: u64,
    pub wasted: u64,
    pub bytes_done: u64,
    pub download_rate: u64,
    pub upload_rate: u64,
}

/// Counters the writer task updates without taking the torrent lock.
#[derive(Default)]
pub(crate) struct PeerIo {
    /// Payload bytes sent.
    pub uploaded: AtomicU64,
    /// Block requests accepted from the peer and not yet served or cancelled.
    pub queued: AtomicUsize,
    /// Cancels forwarded to the writer and not yet applied.
    pub cancels: AtomicUsize,
}

/// One connected peer as the torrent sees it.
pub(crate) struct PeerEntry {
    pub addr: SocketAddr,
    pub peer_id: PeerId,
    pub incoming: bool,
    /// RC4 (MSE) on this connection.
    pub encrypted: bool,
    pub tx: mpsc::UnboundedSender<WriterCmd>,
    /// Set to true to make the peer's tasks exit.
    pub kill: Arc<watch::Sender<bool>>,
    pub io: Arc<PeerIo>,
    pub bitfield: Bitfield,
    /// Whether the peer already told us what it has (a later bitfield is ignored).
    pub announced: bool,
    pub am_choking: bool,
    pub am_interested: bool,
    pub peer_choking: bool,
    pub peer_interested: bool,
    pub pipe: Pipeline,
    pub downloaded: u64,
    pub down: RateMeter,
    pub up: RateMeter,
    /// Part of `io.uploaded` already added to the torrent's total.
    pub uploaded_seen: u64,
    pub last_recv: Instant,
    pub connected_at: Instant,
    /// When the peer last sent a block we asked for (anti-snubbing).
    pub last_block: Option<Instant>,
    /// Invalid requests seen; too many and we disconnect.
    pub abuse: u32,
    /// Blocks received that we were not waiting for from this peer.
    pub unrequested: u32,
    /// The peer speaks the BEP 6 fast extension (we always do).
    pub fast: bool,
    /// The peer's BEP 10 extension ids (empty until its extension handshake).
    pub ext: PeerExtensions,
    /// Client name from the extension handshake, better than the peer id's guess.
    pub client: Option<String>,
    /// The peer's listening port (from its extension handshake; for incoming peers).
    pub listen_port: Option<u16>,
    /// Where we learned of this peer.
    pub source: PeerSource,
    /// Extension-protocol bookkeeping (PEX, metadata requests).
    pub ext_state: ExtState,
    /// Pieces verified since we last told this peer. They ride along with the next command for
    /// its writer (usually the next batch of requests, milliseconds later) instead of waking the
    /// writer once per piece; the 1 s tick flushes whatever is left.
    pub haves: Vec<u32>,
    /// Super-seeding: the piece revealed to this peer and not yet announced back.
    pub superseed: Option<u32>,
}

/// Per-peer state of the extensions we speak.
#[derive(Default)]
pub(crate) struct ExtState {
    /// Addresses we last told this peer about through PEX.
    pub pex_sent: std::collections::HashSet<SocketAddr>,
    pub pex_last_sent: Option<Instant>,
    pub pex_last_recv: Option<Instant>,
    /// `ut_metadata` requests answered (bounded per connection).
    pub metadata_served: u32,
}

impl PeerEntry {
    /// Where the peer accepts connections, if we know (for PEX).
    pub fn dialable(&self) -> Option<SocketAddr> {
        if !self.incoming {
            return Some(self.addr);
        }
        self.listen_port.map(|p| SocketAddr::new(self.addr.ip(), p))
    }

    pub fn is_seed(&self) -> bool {
        self.bitfield.is_full()
    }

    /// Moves the pending `have`s into `out`.
    pub fn take_haves(&mut self, out: &mut Vec<Out>) {
        out.extend(self.haves.drain(..).map(|i| Out::Msg(Message::Have(i))));
    }

    pub fn send(&self, cmd: WriterCmd) {
        // A closed channel means the writer is gone and the reader will clean up.
        let _ = self.tx.send(cmd);
    }

    pub fn disconnect(&self) {
        self.kill.send_replace(true);
    }
}
