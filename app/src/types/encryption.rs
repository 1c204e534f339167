//! The peer connections' encryption policy (message stream encryption, MSE/PE) as
//! `/api/settings` shows it.

use serde::{Deserialize, Serialize};

/// `disabled`: plaintext only; `enabled`: both (the default); `required`: RC4 only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EncryptionPolicy {
    Disabled,
    #[default]
    Enabled,
    Required,
}

impl EncryptionPolicy {
    pub const ALL: [EncryptionPolicy; 3] = [
        EncryptionPolicy::Disabled,
        EncryptionPolicy::Enabled,
        EncryptionPolicy::Required,
    ];

    /// The API's name.
    pub fn as_str(self) -> &'static str {
        match self {
            EncryptionPolicy::Disabled => "disabled",
            EncryptionPolicy::Enabled => "enabled",
            EncryptionPolicy::Required => "required",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// What the dashboard says about it.
    pub fn describe(self) -> &'static str {
        match self {
            EncryptionPolicy::Disabled => "plaintext only; encrypted peers are refused",
            EncryptionPolicy::Enabled => "both; plaintext first, encrypted when a peer asks",
            EncryptionPolicy::Required => "RC4-encrypted connections only",
        }
    }
}
