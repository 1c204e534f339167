//! Integration tests: the real `torrentedge serve` on a free loopback port, against SQLite
//! and against PostgreSQL.

mod lt;
mod qbt;
mod sse;
mod support;

mod auth;
mod bans;
mod chat;
mod dht;
mod encryption;
mod events;
mod folders;
mod hardening;
mod labels;
mod magnet;
mod network;
mod nostr;
mod notifications;
mod ops;
mod qbittorrent;
mod queue;
mod restart;
mod search;
mod selection;
mod speed;
mod sse_scale;
mod stream;
mod torrents;
mod tracker;
mod transmission;
mod webseed;
