//! Seeding goals: a torrent that has seeded enough (ratio, time seeding, time seeding without
//! uploading) is paused or removed. Goals are server-wide (`/api/settings` `seeding`) and
//! per torrent (`PATCH /api/torrents/{infoHash}`: `-1` = the server's, `0` = none), each
//! torrent with its own action or the server's. Checked once a second. The time seeding counts
//! over the torrent's whole life (loaded at start, saved with its progress); the idle clock
//! counts this run only.
//!
//! Lock order: `Goals::inner` is a leaf lock: nothing else is taken while it is held, and it is
//! never held across an await (acting on a goal happens after it is released).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use app::types::{
    GoalAction, Role, SeedingGoals, SeedingGoalsPatch, TorrentGoalAction, TorrentGoals,
};
use engine::status::TorrentState;
use engine::InfoHash;
use tokio::sync::watch;

use super::{Library, LibraryError};
use crate::auth::AuthUser;

/// Where the server-wide goals are stored in `settings`.
const SETTINGS_KEY: &str = "seeding_goals";
const CHECK_EVERY: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(super) struct Goals {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    global: SeedingGoals,
    per_torrent: HashMap<InfoHash, TorrentGoals>,
    clocks: HashMap<InfoHash, Clock>,
    /// Time seeding over each torrent's whole life.
    seeded: HashMap<InfoHash, Duration>,
}

/// Since when a torrent seeds without uploading (this run, while it seeds).
#[derive(Clone, Copy)]
struct Clock {
    idle: Duration,
    uploaded: u64,
}

/// The limits in force for one torrent: `None` = no limit.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Effective {
    ratio: Option<f64>,
    seeding: Option<Duration>,
    idle: Option<Duration>,
}

fn effective(own: &TorrentGoals, global: &SeedingGoals) -> Effective {
    let minutes = |own: i64, global: u64| {
        let m = if own < 0 { global } else { own as u64 };
        (m > 0).then(|| Duration::from_secs(m.saturating_mul(60)))
    };
    let ratio = if own.ratio_limit < 0.0 {
        global.ratio_limit
    } else {
        own.ratio_limit
    };
    Effective {
        ratio: (ratio > 0.0).then_some(ratio),
        seeding: minutes(own.seeding_time_limit, global.seeding_time_limit),
        idle: minutes(
            own.inactive_seeding_time_limit,
            global.inactive_seeding_time_limit,
        ),
    }
}

/// Which goal `ratio`, the time `seeded` and `clock` meet under `limits`, if any.
fn reached(
    limits: &Effective,
    ratio: f64,
    seeded: Duration,
    clock: &Clock,
) -> Option<&'static str> {
    if limits.ratio.is_some_and(|r| ratio >= r) {
        Some("ratio")
    } else if limits.seeding.is_some_and(|t| seeded >= t) {
        Some("seeding time")
    } else if limits.idle.is_some_and(|t| clock.idle >= t) {
        Some("inactive seeding time")
    } else {
        None
    }
}

fn check_minutes(name: &str, v: i64) -> Result<(), LibraryError> {
    if v < -1 {
        return Err(LibraryError::BadSelection(format!(
            "{name} must be -1 (the server's), 0 (none) or minutes"
        )));
    }
    Ok(())
}

fn check_ratio(v: f64, allow_inherit: bool) -> Result<(), LibraryError> {
    let min = if allow_inherit { -1.0 } else { 0.0 };
    if !v.is_finite() || v < min || (v < 0.0 && v != -1.0) {
        return Err(LibraryError::BadSelection(if allow_inherit {
            "ratioLimit must be -1 (the server's), 0 (none) or a positive ratio".into()
        } else {
            "ratioLimit must be 0 (none) or a positive ratio".into()
        }));
    }
    Ok(())
}

impl Goals {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_torrent(&self, ih: InfoHash, goals: TorrentGoals) {
        self.lock().per_torrent.insert(ih, goals);
    }

    pub fn torrent(&self, ih: &InfoHash) -> TorrentGoals {
        self.lock().per_torrent.get(ih).copied().unwrap_or_default()
    }

    pub fn forget(&self, ih: &InfoHash) {
        let mut g = self.lock();
        g.per_torrent.remove(ih);
        g.clocks.remove(ih);
        g.seeded.remove(ih);
    }

    /// Sets the time a torrent has seeded (from the store, at start).
    pub fn set_seeded(&self, ih: InfoHash, seeded: Duration) {
        self.lock().seeded.insert(ih, seeded);
    }

    /// The time a torrent has seeded over its whole life.
    pub fn seeded(&self, ih: &InfoHash) -> Duration {
        self.lock().seeded.get(ih).copied().unwrap_or_default()
    }
}

impl Library {
    /// Loads the server-wide goals (at start).
    pub async fn load_goals(&self) -> Result<(), LibraryError> {
        if let Some(json) = crate::db::settings::get(&self.db, SETTINGS_KEY).await? {
            match serde_json::from_str(&json) {
                Ok(g) => self.goals.lock().global = g,
                Err(e) => tracing::warn!("stored seeding goals unreadable, using none: {e}"),
            }
        }
        Ok(())
    }

    pub fn global_goals(&self) -> SeedingGoals {
        self.goals.lock().global.clone()
    }

    /// Changes the server-wide goals (validated first: nothing changes on an error).
    pub async fn set_global_goals(
        &self,
        patch: &SeedingGoalsPatch,
    ) -> Result<SeedingGoals, LibraryError> {
        let mut g = self.global_goals();
        if let Some(r) = patch.ratio_limit {
            check_ratio(r, false)?;
            g.ratio_limit = r;
        }
        g.seeding_time_limit = patch.seeding_time_limit.unwrap_or(g.seeding_time_limit);
        g.inactive_seeding_time_limit = patch
            .inactive_seeding_time_limit
            .unwrap_or(g.inactive_seeding_time_limit);
        g.action = patch.action.unwrap_or(g.action);
        let json = serde_json::to_string(&g).unwrap_or_default();
        crate::db::settings::put(&self.db, SETTINGS_KEY, &json).await?;
        self.goals.lock().global = g.clone();
        Ok(g)
    }

    /// A torrent's own goals and action; `None` keeps a value.
    pub async fn set_torrent_goals(
        &self,
        user: &AuthUser,
        ih: &InfoHash,
        ratio: Option<f64>,
        seeding_minutes: Option<i64>,
        inactive_minutes: Option<i64>,
        action: Option<TorrentGoalAction>,
    ) -> Result<(), LibraryError> {
        self.entry_for(user, ih)?;
        let mut g = self.goals.torrent(ih);
        if let Some(r) = ratio {
            check_ratio(r, true)?;
            g.ratio_limit = r;
        }
        if let Some(m) = seeding_minutes {
            check_minutes("seedingTimeLimit", m)?;
            g.seeding_time_limit = m;
        }
        if let Some(m) = inactive_minutes {
            check_minutes("inactiveSeedingTimeLimit", m)?;
            g.inactive_seeding_time_limit = m;
        }
        g.action = action.unwrap_or(g.action);
        crate::db::selection::set_goals(&self.db, &ih.to_hex(), &g).await?;
        self.goals.set_torrent(*ih, g);
        Ok(())
    }

    pub fn torrent_goals(&self, ih: &InfoHash) -> TorrentGoals {
        self.goals.torrent(ih)
    }

    pub(super) fn forget_goals(&self, ih: &InfoHash) {
        self.goals.forget(ih);
    }

    /// Advances the seeding clocks by `dt` and acts on every torrent that reached a goal.
    pub async fn check_goals(&self, dt: Duration) {
        let entries = self
            .registry
            .filtered(|e| !e.paused && e.handle().is_some());
        let mut due = Vec::new();
        {
            let mut g = self.goals.lock();
            let Inner {
                global,
                per_torrent,
                clocks,
                seeded,
            } = &mut *g;
            for e in &entries {
                let Some(h) = e.handle() else { continue };
                let st = h.status();
                if st.state != TorrentState::Seeding {
                    clocks.remove(&e.info_hash);
                    continue;
                }
                let uploaded = e.base_uploaded + st.uploaded;
                let clock = clocks.entry(e.info_hash).or_insert(Clock {
                    idle: Duration::ZERO,
                    uploaded,
                });
                let total = seeded.entry(e.info_hash).or_default();
                *total += dt;
                if uploaded > clock.uploaded {
                    clock.idle = Duration::ZERO;
                    clock.uploaded = uploaded;
                } else {
                    clock.idle += dt;
                }
                let own = per_torrent.get(&e.info_hash).copied().unwrap_or_default();
                let limits = effective(&own, global);
                let downloaded = e.base_downloaded + st.downloaded;
                let ratio = super::view::ratio(uploaded, downloaded, st.wanted_bytes);
                if let Some(why) = reached(&limits, ratio, *total, clock) {
                    due.push((e.clone(), why, own.action.or(global.action)));
                }
            }
        }
        for (e, why, action) in due {
            tracing::info!(torrent = %e.info_hash, goal = why, ?action, "seeding goal reached");
            // Acts as the owner would, so the usual events and bookkeeping follow.
            let owner = AuthUser {
                id: e.owner_id,
                username: String::new(),
                role: Role::User,
                token_version: 0,
                expires_at: u64::MAX,
            };
            let done = match action {
                GoalAction::Pause => self.set_paused(&owner, &e.info_hash, true).await.map(drop),
                GoalAction::Remove => self.remove(&owner, &e.info_hash, false).await,
            };
            if let Err(err) = done {
                tracing::warn!(torrent = %e.info_hash, "seeding goal: cannot {action:?}: {err}");
            }
            self.goals.lock().clocks.remove(&e.info_hash);
        }
    }
}

/// Checks the goals every [`CHECK_EVERY`] until shutdown.
pub fn spawn(lib: Arc<Library>, mut shutdown: watch::Receiver<bool>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut last = Instant::now();
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    let now = Instant::now();
                    lib.check_goals(now - last).await;
                    last = now;
                }
                _ = shutdown.changed() => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_goals_override_the_servers() {
        let global = SeedingGoals {
            ratio_limit: 2.0,
            seeding_time_limit: 10,
            inactive_seeding_time_limit: 0,
            action: GoalAction::Pause,
        };
        let inherit = effective(&TorrentGoals::default(), &global);
        assert_eq!(inherit.ratio, Some(2.0));
        assert_eq!(inherit.seeding, Some(Duration::from_secs(600)));
        assert_eq!(inherit.idle, None);
        let own = TorrentGoals {
            ratio_limit: 0.0,
            seeding_time_limit: 1,
            inactive_seeding_time_limit: -1,
            action: TorrentGoalAction::Server,
        };
        let e = effective(&own, &global);
        assert_eq!(e.ratio, None, "0 = no limit for this torrent");
        assert_eq!(e.seeding, Some(Duration::from_secs(60)));
        let clock = Clock {
            idle: Duration::ZERO,
            uploaded: 0,
        };
        let minute = Duration::from_secs(60);
        assert_eq!(
            reached(&e, 100.0, minute - Duration::from_secs(1), &clock),
            None
        );
        assert_eq!(reached(&e, 0.0, minute, &clock), Some("seeding time"));
        assert_eq!(reached(&inherit, 2.0, minute, &clock), Some("ratio"));
    }

    #[test]
    fn a_torrents_action_overrides_the_servers() {
        assert_eq!(
            TorrentGoalAction::Server.or(GoalAction::Remove),
            GoalAction::Remove
        );
        assert_eq!(
            TorrentGoalAction::Pause.or(GoalAction::Remove),
            GoalAction::Pause
        );
        assert_eq!(
            TorrentGoalAction::Remove.or(GoalAction::Pause),
            GoalAction::Remove
        );
        let stored: TorrentGoals = serde_json::from_str(
            r#"{"ratioLimit":1,"seedingTimeLimit":-1,"inactiveSeedingTimeLimit":-1}"#,
        )
        .unwrap();
        assert_eq!(
            stored.action,
            TorrentGoalAction::Server,
            "goals stored before actions"
        );
    }

    #[test]
    fn bad_values_are_refused() {
        assert!(check_ratio(-0.5, true).is_err());
        assert!(check_ratio(-1.0, false).is_err());
        assert!(check_ratio(f64::NAN, true).is_err());
        assert!(check_ratio(-1.0, true).is_ok());
        assert!(check_minutes("x", -2).is_err());
    }
}
