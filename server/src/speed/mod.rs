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

/// The speed settings and the engine they drive.
pub struct Speed {
    session: Session,
    db: Db,
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
        let stored = match settings::get(&db, KEY).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_else(|e| {
                tracing::warn!(
                    "stored speed settings are unreadable ({e}); using the configuration"
                );
                from_config(config)
            }),
            None => from_config(config),
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
            state: Mutex::new(State {
                toggle: AltToggle::new(stored.manual),
                stored,
                window,
                alt_on: false,
            }),
            write: tokio::sync::Mutex::new(()),
        };
        speed.refresh(local_now());
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
            self.apply(&mut st, local_now());
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
    pub fn spawn(self: Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = shutdown.changed() => return,
                }
                let _write = self.write.lock().await;
                if let Some(json) = self.refresh(local_now()) {
                    if let Err(e) = settings::put(&self.db, KEY, &json).await {
                        tracing::warn!("cannot store the speed settings: {e}");
                    }
                }
            }
        });
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
