//! Admitting and removing peers.

use std::net::SocketAddr;
use std::time::Instant;

use super::Torrent;
use crate::peer::handler::PeerConn;
use crate::peer::pipeline::Pipeline;
use crate::peer::{DisconnectReason, WriterCmd};
use crate::status::PeerSource;
use crate::torrent::shared::{PeerEntry, Shared};
use crate::{Bitfield, PeerKey};

impl Torrent {
    /// Adds a handshaken peer if the torrent is running, below its cap and the peer is not
    /// already connected; queues our bitfield as its first message.
    pub fn register_peer(&self, key: PeerKey, conn: PeerConn) -> Result<(), DisconnectReason> {
        let now = Instant::now();
        let entry = PeerEntry {
            addr: conn.addr,
            peer_id: conn.remote.peer_id,
            incoming: conn.incoming,
            encrypted: conn.encrypted,
            tx: conn.tx,
            kill: conn.kill,
            io: conn.io,
            bitfield: Bitfield::new(self.num_pieces() as usize),
            announced: false,
            am_choking: true,
            am_interested: false,
            peer_choking: true,
            peer_interested: false,
            pipe: Pipeline::new(now),
            downloaded: 0,
            down: Default::default(),
            up: Default::default(),
            uploaded_seen: 0,
            last_recv: now,
            connected_at: now,
            last_block: None,
            abuse: 0,
            unrequested: 0,
            fast: conn.remote.supports_fast(),
            ext: Default::default(),
            client: None,
            listen_port: None,
            source: PeerSource::Incoming,
            ext_state: Default::default(),
            haves: Vec::new(),
            superseed: None,
        };
        let extensions = conn.remote.supports_extensions();
        let mut sh = self.lock();
        if let Some(why) = self.refusal(&sh, &entry) {
            if !entry.incoming {
                sh.book.failed(&entry.addr, Instant::now());
            }
            return Err(why);
        }
        let mut entry = entry;
        let hide = self.super_seeding(sh.state);
        let mut first = self.first_messages(&entry, extensions, sh.picker.have(), hide);
        if hide {
            let sh = &mut *sh;
            super::super_seed::reveal_next(&sh.picker, &mut sh.reveals, &mut entry, &mut first);
        }
        entry.send(WriterCmd::Batch(first));
        if !entry.incoming {
            entry.source = sh.book.source(&entry.addr);
            sh.book.connected(&entry.addr);
        }
        sh.peers.insert(key, entry);
        Ok(())
    }

    fn refusal(&self, sh: &Shared, entry: &PeerEntry) -> Option<DisconnectReason> {
        if !sh.accepting {
            return Some(DisconnectReason::NotRunning);
        }
        if let Some(ban) = self.env.bans.reason(entry.addr.ip()) {
            return Some(DisconnectReason::Banned(ban));
        }
        if entry.peer_id == self.env.config.peer_id {
            return Some(DisconnectReason::Ourselves);
        }
        if sh.peers.len() >= self.env.config.max_peers_per_torrent {
            return Some(DisconnectReason::TorrentLimit);
        }
        if sh
            .peers
            .values()
            .any(|p| p.peer_id == entry.peer_id || p.addr == entry.addr)
        {
            return Some(DisconnectReason::Duplicate);
        }
        None
    }

    /// Removes a peer: its requests go back to the picker, its pieces leave availability,
    /// and why it ended is remembered. Returns its address.
    pub fn unregister_peer(&self, key: PeerKey, reason: &DisconnectReason) -> Option<SocketAddr> {
        let mut guard = self.lock();
        let sh = &mut *guard;
        let mut p = sh.peers.remove(&key)?;
        sh.reveals.forget(&p);
        // We hung up because the address got banned: say so, not just "by us".
        let banned = (*reason == DisconnectReason::ByUs)
            .then(|| self.env.bans.reason(p.addr.ip()))
            .flatten()
            .map(DisconnectReason::Banned);
        super::banning::remember_end(&mut sh.recent_ends, &p, banned.as_ref().unwrap_or(reason));
        for r in p.pipe.drain() {
            sh.assembly.unrequested(r.piece, &self.env.buffers);
        }
        if p.bitfield.count_ones() > 0 {
            sh.picker.remove_peer_bitfield(&p.bitfield);
        }
        sh.picker.peer_gone(key);
        let uploaded = p.io.uploaded.load(std::sync::atomic::Ordering::Relaxed);
        sh.stats.uploaded += uploaded.saturating_sub(p.uploaded_seen);
        if !p.incoming {
            sh.book.disconnected(&p.addr, Instant::now());
        }
        Some(p.addr)
    }
}
