//! The server's speed settings: global and alternative limits, the alternative schedule and
//! the "alternative speed" toggle. Decides which pair is in force and pushes it to the engine
//! (`Session::set_rate_limits`); persisted in the database (`settings`, name `speed`).
//! The configuration (`DOWNLOAD_LIMIT`, `ALT_*`) gives the values until the first change
//! through the API; from then on the stored ones win.

pub mod schedule;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::types::{AltSchedule, Settings, SettingsPatch};
use engine::session::Session;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;

use crate::config::Config;
use crate::db::{settings, Db, DbError};
use schedule::{AltToggle, ScheduleError, Window};

const KEY: &str = "speed";
/// How often the schedule is looked at: an edge takes effect within this.
const TICK: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum SpeedError {
    #[error("altSchedule: {0}")]
    Schedule(#[from] ScheduleError),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What the database keeps.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
struct Stored {
    download_limit: u64,
    upload_limit: u64,
    alt_download_limit: u64,
    alt_upload_limit: u64,
    alt_schedule: AltSchedule,
    /// The toggle, while it overrides the schedule.
    manual: Option<bool>,
}

struct State {
    stored: Stored,
    window: Window,
    toggle: AltToggle,
    alt_on: bool,
}

/// The local weekday (0 = Monday) and minute of the day; a field so tests can set the time.
type Clock = Box<dyn Fn() -> (u8, u16) + Send + Sync>;

/// The speed settings and the engine they drive.
pub struct Speed {
    session: Session,
    db: Db,
    clock: Clock,
    state: Mutex<State>,
    /// Serializes changes with their database writes, so the last change is the one stored.
    write: tokio::sync::Mutex<()>,
}

/// The local weekday (0 = Monday) and minute of the day.
pub fn local_now() -> (u8, u16) {
    use chrono::{Datelike, Timelike};
    let n = chrono::Local::now();
    (
        n.weekday().num_days_from_monday() as u8,
        (n.hour() * 60 + n.minute()) as u16,
    )
}

impl Speed {
    /// Loads the stored settings (else the configuration's) and applies them.
    pub async fn load(session: Session, db: Db, config: &Config) -> Result<Speed, SpeedError> {
        Self::load_with(session, db, from_config(config), Box::new(local_now)).await
    }

    async fn load_with(
        session: Session,
        db: Db,
        defaults: Stored,
        clock: Clock,
    ) -> Result<Speed, SpeedError> {
        let stored = match settings::get(&db, KEY).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::warn!(
                    "stored speed settings are unreadable ({e}); using the configuration"
                );
                defaults.clone()
            }),
            None => defaults,
        };
        let window = Window::from_api(&stored.alt_schedule).unwrap_or_else(|e| {
            tracing::warn!("stored alternative schedule ignored: {e}");
            Window {
                enabled: false,
                from: 0,
                to: 0,
                days: 0,
            }
        });
        let speed = Speed {
            session,
            db,
            clock,
            state: Mutex::new(State {
                toggle: AltToggle::new(stored.manual),
                stored,
                window,
                alt_on: false,
            }),
            write: tokio::sync::Mutex::new(()),
        };
        speed.refresh((speed.clock)());
        Ok(speed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn settings(&self) -> Settings {
        let st = self.lock();
        let s = &st.stored;
        Settings {
            download_limit: s.download_limit,
            upload_limit: s.upload_limit,
            alt_download_limit: s.alt_download_limit,
            alt_upload_limit: s.alt_upload_limit,
            alt_schedule: st.window.to_api(),
            alt_enabled: st.alt_on,
            alt_manual: st.toggle.manual.is_some(),
            // Filled in by the settings endpoint from the library's goals and the session.
            seeding: Default::default(),
            encryption: Default::default(),
            network: Default::default(),
        }
    }

    /// Applies a change (validated first: nothing changes on an error), stores it and
    /// pushes the limits in force to the engine.
    pub async fn update(&self, patch: SettingsPatch) -> Result<Settings, SpeedError> {
        let window = patch
            .alt_schedule
            .as_ref()
            .map(Window::from_api)
            .transpose()?;
        let _write = self.write.lock().await;
        let json = {
            let mut st = self.lock();
            let s = &mut st.stored;
            s.download_limit = patch.download_limit.unwrap_or(s.download_limit);
            s.upload_limit = patch.upload_limit.unwrap_or(s.upload_limit);
            s.alt_download_limit = patch.alt_download_limit.unwrap_or(s.alt_download_limit);
            s.alt_upload_limit = patch.alt_upload_limit.unwrap_or(s.alt_upload_limit);
            if let Some(w) = window {
                st.stored.alt_schedule = w.to_api();
                st.window = w;
                st.toggle.rebase();
            }
            if let Some(on) = patch.alt_enabled {
                st.toggle.manual = Some(on);
            }
            self.apply(&mut st, (self.clock)());
            serde_json::to_string(&st.stored).unwrap_or_default()
        };
        settings::put(&self.db, KEY, &json).await?;
        Ok(self.settings())
    }

    /// Re-evaluates the schedule at `now`; returns what to store when the toggle expired.
    fn refresh(&self, now: (u8, u16)) -> Option<String> {
        let mut st = self.lock();
        let before = st.toggle.manual;
        self.apply(&mut st, now);
        (st.toggle.manual != before).then(|| serde_json::to_string(&st.stored).unwrap_or_default())
    }

    /// Decides which limits are in force and tells the engine.
    fn apply(&self, st: &mut State, (weekday, minute): (u8, u16)) {
        let scheduled = st.window.is_open(weekday, minute);
        let on = st.toggle.step(scheduled);
        st.stored.manual = st.toggle.manual;
        if on != st.alt_on {
            tracing::info!("alternative speed limits {}", if on { "on" } else { "off" });
        }
        st.alt_on = on;
        let s = &st.stored;
        let (down, up) = if on {
            (s.alt_download_limit, s.alt_upload_limit)
        } else {
            (s.download_limit, s.upload_limit)
        };
        self.session.set_rate_limits(down, up);
    }

    /// Follows the schedule until shutdown.
    pub fn spawn(self: Arc<Self>, shutdown: watch::Receiver<bool>) {
        crate::supervise::spawn("speed schedule", move || self.clone().run(shutdown.clone()));
    }

    async fn run(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.changed() => return,
                }
                let _write = self.write.lock().await;
                if let Some(json) = self.refresh((self.clock)()) {
                    if let Err(e) = settings::put(&self.db, KEY, &json).await {
                        tracing::warn!("cannot store the speed settings: {e}");
                    }
                }
            }
        }
    }
}

fn from_config(c: &Config) -> Stored {
    Stored {
        download_limit: c.download_limit,
        upload_limit: c.upload_limit,
        alt_download_limit: c.alt_download_limit,
        alt_upload_limit: c.alt_upload_limit,
        alt_schedule: c.alt_schedule.clone().unwrap_or_default(),
        manual: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU16, Ordering};

    /// A clock that stays on a Monday, at the minute the test sets.
    fn monday_clock(minute: &Arc<AtomicU16>) -> Clock {
        let minute = minute.clone();
        Box::new(move || (0, minute.load(Ordering::SeqCst)))
    }

    fn mon(h: u16, m: u16) -> (u8, u16) {
        (0, h * 60 + m)
    }

    #[tokio::test]
    async fn the_schedule_and_the_toggle_drive_the_engine() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("t.db").display());
        let db = Db::connect(&url).await.unwrap();
        let session = Session::start(engine::config::SessionConfig {
            listen_addr: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        })
        .await
        .unwrap();
        let defaults = Stored {
            download_limit: 1000,
            upload_limit: 2000,
            alt_download_limit: 10,
            alt_upload_limit: 20,
            alt_schedule: schedule::parse_spec("mon 08:00-09:00").unwrap(),
            manual: None,
        };
        let now = Arc::new(AtomicU16::new(mon(7, 59).1));
        let load = || {
            Speed::load_with(
                session.clone(),
                db.clone(),
                defaults.clone(),
                monday_clock(&now),
            )
        };
        let speed = load().await.unwrap();
        assert_eq!(session.rate_limits(), (1000, 2000));

        // The window opens: the alternative pair.
        assert_eq!(speed.refresh(mon(8, 0)), None);
        assert_eq!(session.rate_limits(), (10, 20));
        assert!(speed.settings().alt_enabled);

        // The toggle turns them off inside the window, and that holds there.
        now.store(mon(8, 30).1, Ordering::SeqCst);
        let s = speed
            .update(SettingsPatch {
                alt_enabled: Some(false),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(!s.alt_enabled && s.alt_manual, "{s:?}");
        assert_eq!(session.rate_limits(), (1000, 2000));
        assert_eq!(speed.refresh(mon(8, 45)), None);
        assert_eq!(session.rate_limits(), (1000, 2000));

        // Stored: a restart keeps the toggle.
        let again = load().await.unwrap();
        assert!(again.settings().alt_manual);
        assert_eq!(session.rate_limits(), (1000, 2000));

        // The window closes: an edge ends the toggle (and asks to be stored).
        assert!(speed.refresh(mon(9, 0)).is_some());
        assert!(!speed.settings().alt_manual);
        // Next Monday the schedule rules again.
        assert_eq!(speed.refresh(mon(8, 0)), None);
        assert_eq!(session.rate_limits(), (10, 20));

        // A changed limit of the pair in force applies at once.
        now.store(mon(8, 10).1, Ordering::SeqCst);
        speed
            .update(SettingsPatch {
                alt_download_limit: Some(30),
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(session.rate_limits(), (30, 20));
        session.shutdown().await;
    }
}
