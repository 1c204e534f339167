//! Users' tracker passkeys: a random key per user, stored in the database
//! (`db::passkeys`) and mirrored here so an announce checks one in memory. One key per user,
//! so the map is as large as the users who asked for a key.

use std::collections::HashMap;
use std::sync::RwLock;

use rand::Rng;

use crate::db::{Db, DbError};

/// Passkey → user id.
#[derive(Default)]
pub struct Passkeys {
    map: RwLock<HashMap<String, i64>>,
}

impl Passkeys {
    /// Every stored key.
    pub async fn load(db: &Db) -> Result<Passkeys, DbError> {
        let map = crate::db::passkeys::all(db)
            .await?
            .into_iter()
            .map(|(u, k)| (k, u))
            .collect();
        Ok(Passkeys {
            map: RwLock::new(map),
        })
    }

    pub fn is_known(&self, key: &[u8]) -> bool {
        let Ok(key) = std::str::from_utf8(key) else {
            return false;
        };
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(key)
    }

    /// The user's key, made and stored on first use.
    pub async fn key_for(&self, db: &Db, user: i64) -> Result<String, DbError> {
        if let Some(k) = crate::db::passkeys::get(db, user).await? {
            return Ok(k);
        }
        let key = random_key();
        // Two first requests race: the store keeps one, and that one is read back.
        crate::db::passkeys::insert(db, user, &key).await?;
        let stored = crate::db::passkeys::get(db, user).await?.unwrap_or(key);
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(stored.clone(), user);
        Ok(stored)
    }
}

/// 32 lowercase hex digits (128 random bits).
fn random_key() -> String {
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
