//! A magnet's first stage: find peers, fetch the info dictionary over BEP 9, verify it.
//!
//! The [`Fetcher`] is a [`crate::peer::handler::PeerHandler`] like a torrent: the listener
//! routes incoming connections for the info-hash to it while the torrent has no metadata.
//! When the info dictionary is verified, the session builds the torrent from it and hands
//! it the addresses the fetcher learned; the fetcher's connections are closed.

mod fetcher;
mod pieces;

pub(crate) use fetcher::Fetcher;
