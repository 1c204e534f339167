//! Rate limits: the server-wide speed settings (`/api/settings`) and a torrent's own limits
//! (`PATCH /api/torrents/{infoHash}`). Rates are bytes per second, 0 = unlimited.

use serde::{Deserialize, Serialize};

/// When the alternative limits switch on by themselves: on `days`, from `from` to `to`
/// (local time of the server, `HH:MM`; `to` before `from` runs past midnight, equal times
/// mean the whole day).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AltSchedule {
    pub enabled: bool,
    pub from: String,
    pub to: String,
    /// `mon` … `sun`.
    pub days: Vec<String>,
}

impl Default for AltSchedule {
    fn default() -> Self {
        AltSchedule {
            enabled: false,
            from: "08:00".into(),
            to: "20:00".into(),
            days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// `GET /api/settings` (and `PATCH`'s answer).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub download_limit: u64,
    pub upload_limit: u64,
    pub alt_download_limit: u64,
    pub alt_upload_limit: u64,
    pub alt_schedule: AltSchedule,
    /// The alternative limits are in force now (by the schedule or the toggle).
    pub alt_enabled: bool,
    /// `altEnabled` was set by hand; the schedule takes over again at its next edge.
    pub alt_manual: bool,
    /// Seeding goals of torrents that have none of their own.
    #[serde(default)]
    pub seeding: super::SeedingGoals,
    /// Peer connection encryption (MSE/PE) for new connections.
    #[serde(default)]
    pub encryption: super::EncryptionPolicy,
    /// Listeners and discovery for the next start.
    #[serde(default)]
    pub network: super::NetworkSettings,
}

/// `PATCH /api/settings`: only the fields given change (admins only).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SettingsPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_download_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_upload_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_schedule: Option<AltSchedule>,
    /// The "alternative speed" toggle: overrides the schedule until its next edge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alt_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeding: Option<super::SeedingGoalsPatch>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<super::EncryptionPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<super::NetworkPatch>,
}

/// `PATCH /api/torrents/{infoHash}`: only the fields given change.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TorrentPatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<bool>,
    /// The first and last piece of each wanted file first (previews).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_last_piece: Option<bool>,
    /// BEP 16 super-seeding (acts while the torrent seeds; kept across a restart).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub super_seeding: Option<bool>,
    /// `-1` = the server's goal, `0` = none, above = stop seeding at this ratio.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ratio_limit: Option<f64>,
    /// Minutes; `-1` = the server's, `0` = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seeding_time_limit: Option<i64>,
    /// Minutes without uploading; `-1` = the server's, `0` = none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_seeding_time_limit: Option<i64>,
    /// What happens at this torrent's goal: `server` (the server's action), `pause`, `remove`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goal_action: Option<super::TorrentGoalAction>,
    /// List it in the search catalog (`true`) or take it out (`false`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public: Option<bool>,
}
