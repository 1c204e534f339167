//! The torrent as its peers' [`PeerHandler`].

use std::sync::Arc;

use super::incoming::BatchOut;
use super::Torrent;
use crate::peer::handler::{PeerConn, PeerHandler};
use crate::peer::{DisconnectReason, Out};
use crate::session::env::Env;
use crate::session::ratelimit::PeerLimits;
use crate::storage::Storage;
use crate::wire::{Handshake, Message, DEFAULT_MAX_MESSAGE_LEN};
use crate::{InfoHash, PeerKey};

impl PeerHandler for Torrent {
    fn env(&self) -> &Arc<Env> {
        &self.env
    }

    fn limits(&self) -> PeerLimits {
        PeerLimits {
            torrent: self.limits.clone(),
            session: self.env.limits.clone(),
        }
    }

    fn info_hash(&self) -> InfoHash {
        self.info_hash
    }

    fn handshake(&self) -> Handshake {
        self.env.handshake(self.info_hash)
    }

    fn max_frame_len(&self) -> usize {
        // A bitfield for a huge torrent may exceed the default frame limit.
        DEFAULT_MAX_MESSAGE_LEN.max(self.num_pieces() as usize / 8 + 16)
    }

    fn register(&self, key: PeerKey, conn: PeerConn) -> Result<(), DisconnectReason> {
        self.register_peer(key, conn)
    }

    fn on_messages(
        self: &Arc<Self>,
        key: PeerKey,
        msgs: &mut Vec<Message>,
        out: &mut Vec<Out>,
    ) -> Option<DisconnectReason> {
        let mut batch = BatchOut {
            msgs: std::mem::take(out),
            done: Vec::new(),
            close: None,
        };
        self.apply_batch(key, msgs, &mut batch);
        *out = batch.msgs;
        if !batch.done.is_empty() {
            self.spawn_verify(batch.done.into_iter());
        }
        batch.close
    }

    fn unregister(&self, key: PeerKey, reason: &DisconnectReason) {
        self.on_peer_end(key, reason);
    }

    fn blocks(&self) -> Option<Arc<Storage>> {
        Some(self.storage.clone())
    }

    fn on_read_error(&self, error: String) {
        self.fail(error);
    }
}
