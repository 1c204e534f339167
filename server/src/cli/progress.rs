//! One-line progress display for the terminal.

use engine::status::TorrentStatus;
use std::io::{IsTerminal, Write};

/// `1536` as `1.5 KiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// `75` seconds as `1m15s`.
pub fn human_secs(s: u64) -> String {
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s / 60 % 60),
    }
}

/// Draws status lines: redrawn in place on a terminal, one line every few calls otherwise.
pub struct Progress {
    tty: bool,
    quiet: bool,
    calls: u64,
}

impl Progress {
    pub fn new(quiet: bool) -> Self {
        Progress {
            tty: std::io::stderr().is_terminal(),
            quiet,
            calls: 0,
        }
    }

    pub fn update(&mut self, s: &TorrentStatus) {
        self.calls += 1;
        if self.quiet || (!self.tty && self.calls % 10 != 1) {
            return;
        }
        let line = render(s);
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    /// Ends the in-place line and prints a final message.
    pub fn finish(&mut self, msg: &str) {
        if self.quiet {
            return;
        }
        let mut err = std::io::stderr().lock();
        if self.tty {
            let _ = write!(err, "\r\x1b[2K");
        }
        let _ = writeln!(err, "{msg}");
    }
}

/// `[=====>    ]  52.3%  48.0 MiB/s down  1.2 MiB/s up  peers 3 (2 seeds)  ETA 12s`
pub fn render(s: &TorrentStatus) -> String {
    const WIDTH: usize = 24;
    // Skipped files do not count.
    let frac = if s.wanted_bytes == 0 {
        1.0
    } else {
        s.wanted_done as f64 / s.wanted_bytes as f64
    };
    let filled = ((frac * WIDTH as f64) as usize).min(WIDTH);
    let bar: String = (0..WIDTH)
        .map(|i| {
            if i < filled {
                '='
            } else if i == filled {
                '>'
            } else {
                ' '
            }
        })
        .collect();
    let eta = s.eta_secs.map(human_secs).unwrap_or_else(|| "-".into());
    format!(
        "[{bar}] {:5.1}%  {}/s down  {}/s up  peers {} ({} seeds)  ETA {eta}  {:?}",
        frac * 100.0,
        human_bytes(s.download_rate),
        human_bytes(s.upload_rate),
        s.peers,
        s.seeds,
        s.state,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 << 30), "3.0 GiB");
        assert_eq!(human_secs(75), "1m15s");
        assert_eq!(human_secs(7260), "2h01m");
    }
}
