//! The alternative-limits schedule as pure functions: parsing, "is the window open at this
//! local time?", and the manual toggle that holds until the schedule's next edge.

use app::types::AltSchedule;

/// Day names, Monday first (bit 0 of a day mask).
pub const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("{0:?} is not a time (HH:MM, 00:00 to 23:59)")]
    Time(String),
    #[error("{0:?} is not a day (mon … sun, a range like mon-fri, every, weekdays, weekends)")]
    Day(String),
    #[error("{0:?} is not a schedule (DAYS HH:MM-HH:MM, e.g. \"mon-fri 08:00-18:00\")")]
    Form(String),
}

/// A validated schedule: minutes of the day and a day mask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub enabled: bool,
    pub from: u16,
    pub to: u16,
    /// Bit `d` set: day `d` (0 = Monday) starts a window.
    pub days: u8,
}

/// `HH:MM` → minutes since midnight.
pub fn parse_time(s: &str) -> Result<u16, ScheduleError> {
    let bad = || ScheduleError::Time(s.to_owned());
    let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h > 23 || m > 59 || s.trim().len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

pub fn format_time(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

fn day_index(s: &str) -> Result<u8, ScheduleError> {
    const FULL: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let s = s.trim().to_ascii_lowercase();
    (0..7)
        .find(|&i| s == DAYS[i] || s == FULL[i])
        .map(|i| i as u8)
        .ok_or(ScheduleError::Day(s))
}

/// A comma-separated day list: names, ranges (`mon-fri`, wrapping `fri-mon`), `every`,
/// `weekdays`, `weekends`.
pub fn parse_days(s: &str) -> Result<u8, ScheduleError> {
    let mut mask = 0u8;
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        mask |= match part.to_ascii_lowercase().as_str() {
            "every" | "daily" | "all" => 0x7f,
            "weekdays" => 0x1f,
            "weekends" => 0x60,
            p => match p.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (day_index(a)?, day_index(b)?);
                    let mut m = 0u8;
                    let mut d = a;
                    loop {
                        m |= 1 << d;
                        if d == b {
                            break;
                        }
                        d = (d + 1) % 7;
                    }
                    m
                }
                None => 1 << day_index(p)?,
            },
        };
    }
    if mask == 0 {
        return Err(ScheduleError::Day(s.to_owned()));
    }
    Ok(mask)
}

/// `DAYS HH:MM-HH:MM` (the `ALT_SCHEDULE` setting), enabled.
pub fn parse_spec(s: &str) -> Result<AltSchedule, ScheduleError> {
    let form = || ScheduleError::Form(s.to_owned());
    let (days, times) = s.trim().rsplit_once(' ').ok_or_else(form)?;
    let (from, to) = times.split_once('-').ok_or_else(form)?;
    let w = Window {
        enabled: true,
        from: parse_time(from)?,
        to: parse_time(to)?,
        days: parse_days(days)?,
    };
    Ok(w.to_api())
}

impl Window {
    /// Validates the API's shape.
    pub fn from_api(s: &AltSchedule) -> Result<Window, ScheduleError> {
        let mut days = 0u8;
        for d in &s.days {
            days |= 1 << day_index(d)?;
        }
        Ok(Window {
            enabled: s.enabled,
            from: parse_time(&s.from)?,
            to: parse_time(&s.to)?,
            days,
        })
    }

    pub fn to_api(self) -> AltSchedule {
        AltSchedule {
            enabled: self.enabled,
            from: format_time(self.from),
            to: format_time(self.to),
            days: DAYS
                .iter()
                .enumerate()
                .filter(|(i, _)| self.days & (1 << i) != 0)
                .map(|(_, d)| (*d).to_owned())
                .collect(),
        }
    }

    /// Whether the window is open on `weekday` (0 = Monday) at `minute` past midnight.
    /// A window running past midnight belongs to the day it starts on.
    pub fn is_open(&self, weekday: u8, minute: u16) -> bool {
        if !self.enabled {
            return false;
        }
        let day = |d: u8| self.days & (1 << (d % 7)) != 0;
        let yesterday = (weekday + 6) % 7;
        match self.from.cmp(&self.to) {
            std::cmp::Ordering::Equal => day(weekday),
            std::cmp::Ordering::Less => day(weekday) && (self.from..self.to).contains(&minute),
            std::cmp::Ordering::Greater => {
                (day(weekday) && minute >= self.from) || (day(yesterday) && minute < self.to)
            }
        }
    }
}

/// Whether the alternative limits are on: the schedule's answer unless the user toggled by
/// hand since its last edge.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AltToggle {
    /// Set by hand; cleared when the schedule's answer changes.
    pub manual: Option<bool>,
    last_scheduled: Option<bool>,
}

impl AltToggle {
    pub fn new(manual: Option<bool>) -> Self {
        AltToggle {
            manual,
            last_scheduled: None,
        }
    }

    /// The schedule was edited: its next answer is a fresh start, not an edge.
    pub fn rebase(&mut self) {
        self.last_scheduled = None;
    }

    /// Feeds the schedule's current answer; returns whether alternative limits are on.
    pub fn step(&mut self, scheduled: bool) -> bool {
        if self.last_scheduled.is_some_and(|last| last != scheduled) {
            self.manual = None;
        }
        self.last_scheduled = Some(scheduled);
        self.manual.unwrap_or(scheduled)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MON: u8 = 0;
    const FRI: u8 = 4;
    const SAT: u8 = 5;
    const SUN: u8 = 6;

    fn w(spec: &str) -> Window {
        Window::from_api(&parse_spec(spec).unwrap()).unwrap()
    }

    fn at(h: u16, m: u16) -> u16 {
        h * 60 + m
    }

    #[test]
    fn parses_times_and_days() {
        assert_eq!(parse_time("08:30"), Ok(510));
        assert_eq!(parse_time("23:59"), Ok(1439));
        for bad in ["24:00", "8:30", "08:60", "0830", "", "aa:bb"] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_days("mon-fri"), Ok(0x1f));
        assert_eq!(parse_days("weekends"), Ok(0x60));
        assert_eq!(parse_days("fri-mon"), Ok(0b111_0001));
        assert_eq!(parse_days("tue, thu"), Ok(0b1010));
        assert_eq!(parse_days("every"), Ok(0x7f));
        assert!(parse_days("funday").is_err());
        assert!(parse_days("").is_err());
        assert!(parse_spec("mon-fri").is_err());
        let s = parse_spec("mon-fri 08:00-18:00").unwrap();
        assert_eq!(s.days, ["mon", "tue", "wed", "thu", "fri"]);
        assert_eq!(
            (s.from.as_str(), s.to.as_str(), s.enabled),
            ("08:00", "18:00", true)
        );
    }

    #[test]
    fn daytime_window() {
        let s = w("mon-fri 08:00-18:00");
        assert!(!s.is_open(MON, at(7, 59)));
        assert!(s.is_open(MON, at(8, 0)));
        assert!(s.is_open(FRI, at(17, 59)));
        assert!(!s.is_open(FRI, at(18, 0)));
        assert!(!s.is_open(SAT, at(12, 0)));
    }

    #[test]
    fn window_past_midnight_belongs_to_its_start_day() {
        let s = w("fri 22:00-06:00");
        assert!(!s.is_open(FRI, at(21, 59)));
        assert!(s.is_open(FRI, at(23, 0)));
        assert!(s.is_open(SAT, at(5, 59)));
        assert!(!s.is_open(SAT, at(6, 0)));
        assert!(!s.is_open(SAT, at(23, 0)));
        // Sunday night's window runs into Monday morning.
        let s = w("sun 22:00-06:00");
        assert!(s.is_open(MON, at(1, 0)));
        assert!(!s.is_open(SUN, at(1, 0)));
    }

    #[test]
    fn equal_times_mean_all_day_and_disabled_means_never() {
        let s = w("weekends 00:00-00:00");
        assert!(s.is_open(SAT, 0) && s.is_open(SUN, at(23, 59)));
        assert!(!s.is_open(MON, at(12, 0)));
        let off = Window {
            enabled: false,
            ..w("every 00:00-00:00")
        };
        assert!(!off.is_open(MON, at(12, 0)));
    }

    #[test]
    fn manual_toggle_holds_until_the_next_edge() {
        let mut t = AltToggle::default();
        assert!(!t.step(false));
        t.manual = Some(true);
        assert!(t.step(false), "the toggle overrides the schedule");
        assert!(t.step(false), "and holds while the schedule says the same");
        assert!(
            t.step(true),
            "the window opens: an edge, the schedule rules again"
        );
        assert_eq!(t.manual, None);
        t.manual = Some(false);
        assert!(!t.step(true));
        assert!(!t.step(false), "the window closes: schedule again (off)");
        assert!(t.step(true));
    }

    #[test]
    fn editing_the_schedule_is_not_an_edge() {
        let mut t = AltToggle::default();
        assert!(!t.step(false));
        t.rebase();
        t.manual = Some(false);
        assert!(
            !t.step(true),
            "a new schedule that is open now keeps the toggle"
        );
        assert!(!t.step(false), "the window closes: an edge");
        assert_eq!(t.manual, None);
    }

    #[test]
    fn a_stored_toggle_survives_the_first_step() {
        let mut t = AltToggle::new(Some(true));
        assert!(t.step(false));
        assert_eq!(t.manual, Some(true));
    }

    #[test]
    fn api_shape_round_trips() {
        let s = parse_spec("tue,sat 01:05-02:10").unwrap();
        assert_eq!(Window::from_api(&s).unwrap().to_api(), s);
        let bad = AltSchedule {
            days: vec!["someday".into()],
            ..Default::default()
        };
        assert!(Window::from_api(&bad).is_err());
    }
}
