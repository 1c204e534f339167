//! One module per page.

pub mod auth;
pub mod chat;
pub mod create;
pub mod detail;
pub mod folders;
pub mod overview;
pub mod search;
pub mod settings;
pub mod statistics;
pub mod torrents;
