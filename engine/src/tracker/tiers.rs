//! BEP 12 announce-list handling: tiers tried in order, trackers within a tier tried in
//! (once shuffled) order, and a tracker that answers moved to the front of its tier.

use std::collections::HashSet;
use std::time::{SystemTime, UNIX_EPOCH};

use rand::seq::SliceRandom;
use tokio::time::Instant;

use super::{
    AnnounceRequest, AnnounceResponse, AnnounceSummary, TrackerClient, TrackerError, TrackerStatus,
};

struct Entry {
    url: String,
    last_announce_unix: Option<u64>,
    last_result: Option<Result<AnnounceSummary, String>>,
}

/// Trackers kept per torrent: a torrent listing thousands would otherwise make us contact
/// each of them (one timeout each) on every announce. Real torrents list a few dozen at most.
pub const MAX_TRACKERS: usize = 64;

/// A torrent's trackers with their last results.
pub struct TrackerTiers {
    tiers: Vec<Vec<Entry>>,
    next_announce: Option<Instant>,
}

impl TrackerTiers {
    /// Shuffles each tier once (BEP 12) after dropping blank URLs, URLs already listed
    /// (in this or an earlier tier), URLs beyond the first [`MAX_TRACKERS`] and tiers left
    /// empty.
    pub fn new(tiers: Vec<Vec<String>>) -> Self {
        let mut t = Self::ordered(tiers);
        let mut rng = rand::rng();
        for tier in &mut t.tiers {
            tier.shuffle(&mut rng);
        }
        t
    }

    /// Like [`TrackerTiers::new`] without the shuffle (deterministic order for tests).
    pub(crate) fn ordered(tiers: Vec<Vec<String>>) -> Self {
        let mut seen = HashSet::new();
        let tiers = tiers
            .into_iter()
            .map(|tier| {
                tier.into_iter()
                    .map(|u| u.trim().to_string())
                    .filter(|u| {
                        !u.is_empty() && seen.len() < MAX_TRACKERS && seen.insert(u.clone())
                    })
                    .map(|url| Entry {
                        url,
                        last_announce_unix: None,
                        last_result: None,
                    })
                    .collect::<Vec<_>>()
            })
            .filter(|tier| !tier.is_empty())
            .collect();
        TrackerTiers {
            tiers,
            next_announce: None,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.tiers.is_empty()
    }

    /// Announces to the first tracker that answers, trying tiers in order and trackers in
    /// order within a tier; the one that answered moves to the front of its tier. Returns
    /// the last error if none answered, [`TrackerError::NoTrackers`] if there are none.
    ///
    /// This borrows `self` mutably for the whole walk (up to one timeout per tracker), so
    /// keep the tiers in the task that announces rather than behind a lock others need.
    pub async fn announce(
        &mut self,
        client: &TrackerClient,
        req: &AnnounceRequest,
    ) -> Result<(String, AnnounceResponse), TrackerError> {
        let mut last_err = TrackerError::NoTrackers;
        for tier in &mut self.tiers {
            for i in 0..tier.len() {
                let url = tier[i].url.clone();
                let result = client.announce(&url, req).await;
                let entry = &mut tier[i];
                entry.last_announce_unix = Some(unix_now());
                match result {
                    Ok(resp) => {
                        entry.last_result = Some(Ok(AnnounceSummary::from(&resp)));
                        let e = tier.remove(i);
                        tier.insert(0, e);
                        return Ok((url, resp));
                    }
                    Err(e) => {
                        tracing::debug!(%url, error = %e, "tracker failed, trying next");
                        entry.last_result = Some(Err(e.to_string()));
                        last_err = e;
                    }
                }
            }
        }
        Err(last_err)
    }

    /// Records when the next regular announce is due; status counts down to it.
    pub fn set_next_announce(&mut self, secs: u64) {
        self.next_announce = Some(Instant::now() + std::time::Duration::from_secs(secs));
    }

    /// One line per tracker in tier order. `next_announce_secs` is the same for every
    /// tracker because an announce walks the tiers from the start.
    pub fn status(&self) -> Vec<TrackerStatus> {
        let next = self
            .next_announce
            .map(|t| t.saturating_duration_since(Instant::now()).as_secs());
        self.tiers
            .iter()
            .enumerate()
            .flat_map(|(tier, entries)| {
                entries.iter().map(move |e| TrackerStatus {
                    url: e.url.clone(),
                    tier,
                    last_announce_unix: e.last_announce_unix,
                    last_result: e.last_result.clone(),
                    next_announce_secs: next,
                })
            })
            .collect()
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tracker::http::tests::{ok, serve};
    use crate::tracker::tests::request;
    use crate::tracker::TrackerConfig;

    fn s(v: &[&[&str]]) -> Vec<Vec<String>> {
        v.iter()
            .map(|t| t.iter().map(|u| u.to_string()).collect())
            .collect()
    }

    #[test]
    fn drops_blanks_duplicates_and_empty_tiers() {
        let t = TrackerTiers::new(s(&[
            &["http://a", " ", "http://b"],
            &["http://a"],
            &[],
            &["udp://c:1"],
        ]));
        let st = t.status();
        let mut tier0: Vec<_> = st
            .iter()
            .filter(|s| s.tier == 0)
            .map(|s| s.url.as_str())
            .collect();
        tier0.sort();
        assert_eq!(tier0, ["http://a", "http://b"]);
        assert_eq!(
            st.iter()
                .filter(|s| s.tier == 1)
                .map(|s| s.url.as_str())
                .collect::<Vec<_>>(),
            ["udp://c:1"]
        );
        assert_eq!(st.len(), 3);
        assert!(st
            .iter()
            .all(|s| s.last_result.is_none() && s.next_announce_secs.is_none()));
    }

    #[test]
    fn trackers_are_capped_per_torrent() {
        let tiers: Vec<Vec<String>> = (0..3000)
            .map(|i| vec![format!("http://10.0.{}.{}/announce", i / 256, i % 256)])
            .collect();
        let t = TrackerTiers::new(tiers);
        let st = t.status();
        assert_eq!(st.len(), MAX_TRACKERS);
        assert_eq!(
            st[0].url, "http://10.0.0.0/announce",
            "the first ones are kept"
        );
    }

    /// Announces run inside spawned torrent tasks, so their futures must be `Send`.
    #[test]
    fn announce_futures_are_send() {
        fn assert_send<T: Send>(_: &T) {}
        let client = TrackerClient::new(TrackerConfig {
            allow_local: true,
            ..Default::default()
        })
        .unwrap();
        let mut t = TrackerTiers::new(Vec::new());
        let req = request();
        assert_send(&client.announce("udp://127.0.0.1:1", &req));
        assert_send(&t.announce(&client, &req));
    }

    #[tokio::test]
    async fn empty_tier_list() {
        let mut t = TrackerTiers::new(vec![vec![], vec![" ".into()]]);
        assert!(t.is_empty());
        assert!(t.status().is_empty());
        let client = TrackerClient::new(TrackerConfig {
            allow_local: true,
            ..Default::default()
        })
        .unwrap();
        assert!(matches!(
            t.announce(&client, &request()).await,
            Err(TrackerError::NoTrackers)
        ));
    }

    #[tokio::test]
    async fn fails_over_within_a_tier_and_promotes() {
        let (bad, _a) = serve(vec![ok(b"d14:failure reason4:nopee")]).await;
        let (good, _b) = serve(vec![
            ok(
                b"d8:intervali900e5:peers6:\x7f\x00\x00\x01\x1a\xe1e"
            );
            2
        ])
        .await;
        let (bad, good) = (format!("{bad}/a"), format!("{good}/a"));
        let mut t = TrackerTiers::ordered(s(&[&[&bad, &good], &["udp://127.0.0.1:1"]]));
        let client = TrackerClient::new(TrackerConfig {
            allow_local: true,
            ..Default::default()
        })
        .unwrap();

        let (url, resp) = t.announce(&client, &request()).await.unwrap();
        assert_eq!(url, good);
        assert_eq!(resp.peers.len(), 1);
        t.set_next_announce(900);
        let st = t.status();
        assert_eq!(st[0].url, good, "promoted to the front of tier 0");
        assert_eq!(
            st[0].last_result,
            Some(Ok(AnnounceSummary {
                peers: 1,
                seeders: None,
                leechers: None,
                interval_secs: 900
            }))
        );
        assert_eq!(st[1].url, bad);
        assert!(matches!(&st[1].last_result, Some(Err(m)) if m.contains("nope")));
        assert!(st[1].last_announce_unix.is_some());
        assert!(st[2].last_result.is_none(), "tier 1 untouched");
        assert!(st
            .iter()
            .all(|s| matches!(s.next_announce_secs, Some(899 | 900))));

        // Next time the promoted tracker is asked first, so the failing one is not retried.
        let (url, _) = t.announce(&client, &request()).await.unwrap();
        assert_eq!(url, good);
    }

    #[tokio::test]
    async fn falls_through_to_the_next_tier_and_reports_last_error() {
        let (bad, _a) = serve(vec![ok(b"garbage"), ok(b"garbage")]).await;
        let (good, _b) = serve(vec![ok(b"d8:intervali900ee")]).await;
        let (bad, good) = (format!("{bad}/a"), format!("{good}/a"));
        let client = TrackerClient::new(TrackerConfig {
            allow_local: true,
            ..Default::default()
        })
        .unwrap();

        let mut t = TrackerTiers::ordered(s(&[&[&bad], &[&good]]));
        assert_eq!(t.announce(&client, &request()).await.unwrap().0, good);

        let mut only_bad = TrackerTiers::ordered(s(&[&[&bad]]));
        assert!(matches!(
            only_bad.announce(&client, &request()).await,
            Err(TrackerError::Malformed(_))
        ));
    }
}
