//! Peer connection encryption (MSE/PE) as a server setting: `ENCRYPTION`/`--encryption`
//! gives the policy until an admin changes it (`PATCH /api/settings`), then the stored one
//! (`settings`, name `encryption`) wins, like the speed settings. The engine applies it to
//! connections made or accepted from then on.

use app::types::EncryptionPolicy;
use engine::config::Encryption;
use engine::session::Session;

use crate::db::{settings, Db, DbError};

const KEY: &str = "encryption";

/// Serializes changes with their database writes, so the last change is the one stored.
static WRITE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn to_api(e: Encryption) -> EncryptionPolicy {
    match e {
        Encryption::Disabled => EncryptionPolicy::Disabled,
        Encryption::Enabled => EncryptionPolicy::Enabled,
        Encryption::Required => EncryptionPolicy::Required,
    }
}

pub fn from_api(e: EncryptionPolicy) -> Encryption {
    match e {
        EncryptionPolicy::Disabled => Encryption::Disabled,
        EncryptionPolicy::Enabled => Encryption::Enabled,
        EncryptionPolicy::Required => Encryption::Required,
    }
}

/// Applies the stored policy, if an admin ever set one (the session started with the
/// configuration's).
pub async fn restore(session: &Session, db: &Db) -> Result<(), DbError> {
    if let Some(stored) = settings::get(db, KEY).await? {
        match stored.parse::<Encryption>() {
            Ok(e) => session.set_encryption(e),
            Err(e) => tracing::warn!("stored encryption policy ignored: {e}"),
        }
    }
    Ok(())
}

/// The policy in force.
pub fn current(session: &Session) -> EncryptionPolicy {
    to_api(session.encryption())
}

/// Changes the policy (new connections) and stores it.
pub async fn set(session: &Session, db: &Db, policy: EncryptionPolicy) -> Result<(), DbError> {
    let _write = WRITE.lock().await;
    let e = from_api(policy);
    session.set_encryption(e);
    settings::put(db, KEY, e.as_str()).await
}

/// Transmission's `encryption` session field. Transmission has no "off": `tolerated` (its
/// least) stands for `disabled`, `preferred` for `enabled`.
pub fn to_transmission(p: EncryptionPolicy) -> &'static str {
    match p {
        EncryptionPolicy::Disabled => "tolerated",
        EncryptionPolicy::Enabled => "preferred",
        EncryptionPolicy::Required => "required",
    }
}

pub fn from_transmission(s: &str) -> Option<EncryptionPolicy> {
    match s {
        "tolerated" => Some(EncryptionPolicy::Disabled),
        "preferred" => Some(EncryptionPolicy::Enabled),
        "required" => Some(EncryptionPolicy::Required),
        _ => None,
    }
}

/// qBittorrent's `encryption` preference: 0 prefer, 1 force on, 2 force off.
pub fn to_qbittorrent(p: EncryptionPolicy) -> i64 {
    match p {
        EncryptionPolicy::Enabled => 0,
        EncryptionPolicy::Required => 1,
        EncryptionPolicy::Disabled => 2,
    }
}

pub fn from_qbittorrent(n: i64) -> Option<EncryptionPolicy> {
    match n {
        0 => Some(EncryptionPolicy::Enabled),
        1 => Some(EncryptionPolicy::Required),
        2 => Some(EncryptionPolicy::Disabled),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outside_name_round_trips() {
        for p in EncryptionPolicy::ALL {
            assert_eq!(from_api(p).as_str(), p.as_str());
            assert_eq!(to_api(from_api(p)), p);
            assert_eq!(from_transmission(to_transmission(p)), Some(p));
            assert_eq!(from_qbittorrent(to_qbittorrent(p)), Some(p));
        }
        assert_eq!(from_transmission("sometimes"), None);
        assert_eq!(from_qbittorrent(3), None);
    }
}
