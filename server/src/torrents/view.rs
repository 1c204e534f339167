//! Registry entries and engine snapshots as the API's JSON types.

use app::types::{
    AnnounceResult, FileProgress, PeerInfo, PiecesInfo, TorrentDetail, TorrentState,
    TorrentSummary, TrackerInfo, WebSeedInfo, WebSeedState,
};
use engine::metainfo::Metainfo;
use engine::status::{self, PeerSource, PeerStatus, TorrentStatus};
use engine::tracker::TrackerStatus;
use engine::Bitfield;

use super::registry::{Entry, Runner};

pub fn api_state(s: status::TorrentState) -> TorrentState {
    match s {
        status::TorrentState::FetchingMetadata => TorrentState::FetchingMetadata,
        status::TorrentState::Checking => TorrentState::Checking,
        status::TorrentState::Downloading => TorrentState::Downloading,
        status::TorrentState::Seeding => TorrentState::Seeding,
        status::TorrentState::Paused => TorrentState::Paused,
        status::TorrentState::Error => TorrentState::Error,
    }
}

/// The state to show for `e` when the engine reports `engine`: the owner's pause and the
/// queue's hold are shown as such (also before the engine has acted on them), and a torrent
/// the engine still has paused although nothing holds it is about to run. `complete` is
/// asked only then.
pub fn shown_state(
    e: &Entry,
    engine: status::TorrentState,
    complete: impl FnOnce() -> bool,
) -> TorrentState {
    use status::TorrentState as S;
    match engine {
        S::Checking => TorrentState::Checking,
        S::Error => TorrentState::Error,
        _ if e.paused => TorrentState::Paused,
        _ if e.queued => TorrentState::Queued,
        S::Paused if complete() => TorrentState::Seeding,
        S::Paused => TorrentState::Downloading,
        other => api_state(other),
    }
}

fn fraction(done: u64, total: u64) -> f64 {
    if total == 0 {
        0.0
    } else {
        (done as f64 / total as f64).clamp(0.0, 1.0)
    }
}

/// Upload over download; a torrent that never downloaded (it was created here) counts its
/// size instead.
pub(super) fn ratio(uploaded: u64, downloaded: u64, total: u64) -> f64 {
    match (downloaded, total) {
        (0, 0) => 0.0,
        (0, t) => uploaded as f64 / t as f64,
        (d, _) => uploaded as f64 / d as f64,
    }
}

/// The summary of `e`, given its engine status when it runs.
pub fn summary(e: &Entry, st: Option<&TorrentStatus>) -> TorrentSummary {
    let (state, error) = match (&e.runner, st) {
        (Runner::Engine(_), Some(st)) => (
            shown_state(e, st.state, || wanted_complete(st)),
            st.error.clone(),
        ),
        (Runner::Failed { error }, _) => (TorrentState::Error, Some(error.clone())),
        _ => (TorrentState::Checking, None),
    };
    let (total, done) = st.map_or((e.saved_total_bytes, e.saved_bytes_done), |s| {
        (s.total_bytes, s.bytes_done)
    });
    // Progress counts the wanted files only: skipped ones never finish.
    let progress = match st {
        Some(s) if s.wanted_bytes > 0 => fraction(s.wanted_done, s.wanted_bytes),
        _ => fraction(done, total),
    };
    let uploaded = e.base_uploaded + st.map_or(0, |s| s.uploaded);
    let downloaded = e.base_downloaded + st.map_or(0, |s| s.downloaded);
    TorrentSummary {
        info_hash: e.info_hash.to_hex(),
        name: st.map_or_else(|| e.name.clone(), |s| s.name.clone()),
        state,
        error,
        progress,
        total_bytes: total,
        bytes_done: done,
        download_rate: st.map_or(0, |s| s.download_rate),
        upload_rate: st.map_or(0, |s| s.upload_rate),
        downloaded,
        uploaded,
        ratio: ratio(uploaded, downloaded, total),
        peers: st.map_or(0, |s| s.peers),
        seeds: st.map_or(0, |s| s.seeds),
        eta_secs: st.and_then(|s| s.eta_secs),
        priority: e.priority,
        save_path: e.save_path.display().to_string(),
        owner_id: e.owner_id,
        added_at: e.added_at,
        completed_at: e.completed_at,
        magnet_uri: e.magnet.clone(),
        // Filled in by `Library::labelled`.
        id: 0,
        category: None,
        tags: Vec::new(),
        download_limit: st.map_or(0, |s| s.download_limit),
        upload_limit: st.map_or(0, |s| s.upload_limit),
        sequential: st.is_some_and(|s| s.sequential),
        first_last_piece: st.is_some_and(|s| s.first_last_piece),
        super_seeding: st.is_some_and(|s| s.super_seeding),
        // Filled in by `Library::labelled`.
        seconds_seeding: 0,
        goals: Default::default(),
        public: false,
    }
}

/// Every wanted (not skipped) file is verified.
pub fn wanted_complete(st: &TorrentStatus) -> bool {
    st.wanted_bytes > 0 && st.wanted_done >= st.wanted_bytes
}

pub fn detail(e: &Entry, st: Option<&TorrentStatus>, meta: Option<&Metainfo>) -> TorrentDetail {
    let files = st.map_or_else(Vec::new, |s| {
        s.files
            .iter()
            .map(|f| FileProgress {
                path: f.path.display().to_string(),
                length: f.length,
                bytes_done: f.bytes_done,
                progress: fraction(f.bytes_done, f.length),
                priority: super::selection::from_engine(f.priority),
            })
            .collect()
    });
    let trackers = st.map_or_else(Vec::new, |s| s.trackers.iter().map(tracker).collect());
    TorrentDetail {
        summary: summary(e, st),
        pieces_done: st.map_or(0, |s| s.pieces_done),
        num_pieces: st.map_or(0, |s| s.num_pieces),
        piece_length: meta.map_or(0, |m| m.piece_length),
        wasted: st.map_or(0, |s| s.wasted),
        private: meta.is_some_and(|m| m.private),
        comment: meta.and_then(|m| m.comment.clone()),
        created_by: meta.and_then(|m| m.created_by.clone()),
        creation_date: meta.and_then(|m| m.creation_date),
        files,
        trackers,
        web_seeds: meta.map_or_else(Vec::new, |m| m.web_seeds.clone()),
        web_seed_status: st.map_or_else(Vec::new, |s| s.web_seeds.iter().map(web_seed).collect()),
        built_in_tracker: None,
    }
}

fn web_seed(w: &engine::webseed::WebSeedStatus) -> WebSeedInfo {
    use engine::webseed::WebSeedState as E;
    WebSeedInfo {
        url: w.url.clone(),
        state: match w.state {
            E::Idle => WebSeedState::Idle,
            E::Active => WebSeedState::Active,
            E::BackingOff => WebSeedState::BackingOff,
            E::Dropped => WebSeedState::Dropped,
        },
        downloaded: w.downloaded,
        download_rate: w.download_rate,
        requests: w.requests,
        failures: w.failures,
        last_error: w.last_error.clone(),
        retry_in_secs: w.retry_in_secs,
    }
}

pub fn tracker(t: &TrackerStatus) -> TrackerInfo {
    TrackerInfo {
        url: t.url.clone(),
        tier: t.tier,
        last_announce: t.last_announce_unix,
        last_result: t.last_result.as_ref().map(|r| match r {
            Ok(s) => AnnounceResult {
                ok: true,
                error: None,
                peers: Some(s.peers),
                seeders: s.seeders,
                leechers: s.leechers,
                interval_secs: Some(s.interval_secs),
            },
            Err(msg) => AnnounceResult {
                ok: false,
                error: Some(msg.clone()),
                peers: None,
                seeders: None,
                leechers: None,
                interval_secs: None,
            },
        }),
        next_announce_secs: t.next_announce_secs,
    }
}

pub fn peer(p: &PeerStatus, num_pieces: u32) -> PeerInfo {
    PeerInfo {
        addr: p.addr.to_string(),
        client: p.client.clone(),
        incoming: p.incoming,
        download_rate: p.download_rate,
        upload_rate: p.upload_rate,
        downloaded: p.downloaded,
        uploaded: p.uploaded,
        am_choking: p.am_choking,
        am_interested: p.am_interested,
        peer_choking: p.peer_choking,
        peer_interested: p.peer_interested,
        pieces: p.pieces,
        progress: fraction(u64::from(p.pieces), u64::from(num_pieces)),
        source: peer_source(p.source).into(),
        strikes: p.strikes,
        encrypted: p.encrypted,
    }
}

/// The API's name for where a peer came from.
pub fn peer_source(s: PeerSource) -> &'static str {
    match s {
        PeerSource::Incoming => "incoming",
        PeerSource::Tracker => "tracker",
        PeerSource::Dht => "dht",
        PeerSource::Pex => "pex",
        PeerSource::Lsd => "lsd",
        PeerSource::User => "user",
    }
}

pub fn pieces(have: &Bitfield, meta: &Metainfo) -> PiecesInfo {
    PiecesInfo {
        num_pieces: meta.num_pieces(),
        pieces_done: have.count_ones() as u32,
        piece_length: meta.piece_length,
        bitfield: engine::types::hex_encode(have.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_and_fractions() {
        assert_eq!(ratio(0, 0, 0), 0.0);
        assert_eq!(ratio(50, 0, 100), 0.5);
        assert_eq!(ratio(300, 100, 100), 3.0);
        assert_eq!(fraction(5, 0), 0.0);
        assert_eq!(fraction(5, 10), 0.5);
    }
}
