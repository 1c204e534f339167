//! Web seeds (BEP 19) as sources beside peers. Each URL is a pseudo-peer that has every
//! piece: its blocks are picked like a peer's, under its own `PeerKey`, fetched as contiguous
//! runs with checked `Range` requests (`crate::webseed`), and kept through the same block path
//! as peers' (`incoming::keep_block`), so its pieces are hashed, written and smart-banned
//! alike.
//!
//! State note. A seed is `Idle`/`Active` while it may be asked (it picks only while the
//! torrent runs and downloads), `BackingOff` after a failed request (5 s doubling to 2 min,
//! jittered; requests already out still land), and `Dropped` for the session after
//! [`MAX_FAILURES`] failures in a row, a URL the SSRF rule refuses, or data that failed a
//! hash check (it is convicted through `strike`, under its own made-up address).
//! Invariants: a block in a seed's `pending` is requested in the picker under the seed's key,
//! and `release` undoes both; the seed's full bitfield counts in the picker's availability
//! exactly while `online`. Everything here lives under the torrent lock.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::task::{JoinHandle, JoinSet};

use super::shared::Shared;
use super::Torrent;
use crate::peer::rate::RateMeter;
use crate::picker::BlockOutcome;
use crate::session::ratelimit::PeerLimits;
use crate::webseed::fetch::{fetch_range, Policy, RangeRequest};
use crate::webseed::{file_url, WebSeedError, WebSeedState, WebSeedStatus};
use crate::wire::{BlockRequest, BLOCK_SIZE};
use crate::{Bitfield, PeerKey};

/// Range requests in flight per web seed.
const MAX_JOBS: usize = 4;
/// Bytes one request asks for: a piece, at least 1 MiB, at most 4 MiB.
const MIN_JOB: u64 = 1 << 20;
const MAX_JOB: u64 = 4 << 20;
/// Failures in a row after which a seed is dropped.
pub(crate) const MAX_FAILURES: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(120);
/// How long a server may send nothing before its request fails.
const IDLE: Duration = Duration::from_secs(30);
/// How often an idle seed looks for work.
const POLL: Duration = Duration::from_secs(1);

/// One web seed as the torrent sees it.
pub(crate) struct WebSeed {
    pub url: String,
    /// `None` when the URL did not parse (the seed starts dropped).
    base: Option<url::Url>,
    key: PeerKey,
    /// A made-up address in the discard prefix 100::/64 that names the seed's blocks in
    /// assembly and smart ban (never dialled, never banned).
    addr: SocketAddr,
    pending: Vec<BlockRequest>,
    jobs: usize,
    online: bool,
    dropped: bool,
    downloaded: u64,
    down: RateMeter,
    failures: u32,
    last_error: Option<String>,
    retry_at: Option<Instant>,
}

/// A torrent's web seeds, and the bitfield they all pick with.
#[derive(Default)]
pub(crate) struct WebSeeds {
    list: Vec<WebSeed>,
    full: Bitfield,
}

/// One contiguous run of blocks, fetched with one request per file it covers.
pub(crate) struct Job {
    blocks: Vec<BlockRequest>,
    piece: u32,
    offset: u32,
    len: u64,
}

/// What a seed should do next.
enum Next {
    Fetch(Vec<Job>),
    Wait,
    Stop,
}

impl WebSeeds {
    /// The seeds of `urls` (each once), keyed from `key`.
    pub fn new(urls: &[String], pieces: usize, mut key: impl FnMut() -> PeerKey) -> Self {
        let mut list: Vec<WebSeed> = Vec::new();
        for url in urls {
            if list.iter().any(|s| &s.url == url) {
                continue;
            }
            let base = url::Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https"));
            let n = list.len() as u16 + 1;
            list.push(WebSeed {
                url: url.clone(),
                dropped: base.is_none(),
                last_error: base.is_none().then(|| "not an http(s) url".to_string()),
                base,
                key: key(),
                addr: SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, n)), 0),
                pending: Vec::new(),
                jobs: 0,
                online: false,
                downloaded: 0,
                down: RateMeter::default(),
                failures: 0,
                retry_at: None,
            });
        }
        WebSeeds {
            list,
            full: Bitfield::full(pieces),
        }
    }

    pub fn tick(&mut self, dt: Duration) {
        for s in &mut self.list {
            s.down.tick(s.downloaded, dt);
        }
    }

    pub fn statuses(&self, now: Instant) -> Vec<WebSeedStatus> {
        self.list
            .iter()
            .map(|s| WebSeedStatus {
                url: s.url.clone(),
                state: if s.dropped {
                    WebSeedState::Dropped
                } else if s.retry_at.is_some_and(|t| t > now) {
                    WebSeedState::BackingOff
                } else if s.jobs > 0 {
                    WebSeedState::Active
                } else {
                    WebSeedState::Idle
                },
                downloaded: s.downloaded,
                download_rate: s.down.rate(),
                requests: s.jobs,
                failures: s.failures,
                last_error: s.last_error.clone(),
                retry_in_secs: s
                    .retry_at
                    .filter(|_| !s.dropped)
                    .map(|t| t.saturating_duration_since(now).as_secs())
                    .filter(|&s| s > 0),
            })
            .collect()
    }
}

/// Runs every web seed of `t` until aborted (`run_live` aborts it when the torrent stops
/// running, then `release_web_seeds` undoes what was in flight).
pub(super) fn spawn(t: &Arc<Torrent>) -> Option<JoinHandle<()>> {
    let n = t.lock().web_seeds.list.len();
    if n == 0 {
        return None;
    }
    let client = match crate::http::client(
        None,
        t.env.config.tracker_timeout,
        crate::config::USER_AGENT,
        true,
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(torrent = %t.info_hash, error = %e, "no http client for web seeds");
            return None;
        }
    };
    let t = t.clone();
    Some(tokio::spawn(async move {
        let mut seeds = JoinSet::new();
        for i in 0..n {
            seeds.spawn(run_seed(t.clone(), i, client.clone()));
        }
        while seeds.join_next().await.is_some() {}
    }))
}

async fn run_seed(t: Arc<Torrent>, i: usize, client: reqwest::Client) {
    let Some(base) = t.lock().web_seeds.list[i].base.clone() else {
        return;
    };
    // Nothing is sent, not even a DNS lookup, until the torrent needs data.
    while !t.downloading() {
        tokio::time::sleep(POLL).await;
    }
    let cfg = &t.env.config;
    if !cfg.allow_local_trackers {
        if let Err(e) = crate::http::ssrf::check_web_seed(&base, cfg.tracker_timeout).await {
            t.drop_web_seed(&mut t.lock(), i, &WebSeedError::Http(e));
            return;
        }
    }
    let limits = PeerLimits {
        torrent: t.limits.clone(),
        session: t.env.limits.clone(),
    };
    let mut jobs = JoinSet::new();
    loop {
        match t.next_for_web_seed(i, jobs.len()) {
            Next::Stop => return,
            Next::Fetch(new) => {
                for job in new {
                    let (t, client, base, limits) =
                        (t.clone(), client.clone(), base.clone(), limits.clone());
                    jobs.spawn(async move {
                        let r = fetch_job(&t, &client, &base, &limits, &job).await;
                        (job, r)
                    });
                }
            }
            Next::Wait => {}
        }
        match jobs.is_empty() {
            true => tokio::time::sleep(POLL).await,
            false => match jobs.join_next().await {
                Some(Ok((job, Ok(data)))) => t.web_seed_delivered(i, &job, &data),
                Some(Ok((job, Err(e)))) => t.web_seed_failed(i, &job, &e),
                // A job panicked: its blocks are unknown, so free all of the seed's.
                Some(Err(_)) => t.web_seed_failed_all(i),
                None => {}
            },
        }
    }
}

/// Fetches a job's bytes, one request per file the run covers.
async fn fetch_job(
    t: &Torrent,
    client: &reqwest::Client,
    base: &url::Url,
    limits: &PeerLimits,
    job: &Job,
) -> Result<Vec<u8>, WebSeedError> {
    let layout = t.storage.layout();
    let policy = Policy {
        allow_local: t.env.config.allow_local_trackers,
        dns_timeout: t.env.config.tracker_timeout,
        idle: IDLE,
        limits,
    };
    let mut out = Vec::with_capacity(job.len as usize);
    for seg in layout.segments(job.piece, job.offset, job.len as u32) {
        let req = RangeRequest {
            url: file_url(base, &t.meta, seg.file_index)?,
            first: seg.file_offset,
            len: u64::from(seg.len),
            file_len: layout.file_length(seg.file_index),
        };
        fetch_range(client, &req, &policy, &mut out).await?;
    }
    Ok(out)
}

impl Torrent {
    fn downloading(&self) -> bool {
        let sh = self.lock();
        sh.accepting && sh.state == crate::status::TorrentState::Downloading
    }

    /// Picks the seed's next runs, or says to wait (backing off, nothing to do) or stop.
    fn next_for_web_seed(&self, i: usize, running: usize) -> Next {
        let now = Instant::now();
        let mut guard = self.lock();
        let sh = &mut *guard;
        let downloading = sh.accepting && sh.state == crate::status::TorrentState::Downloading;
        let seed = &mut sh.web_seeds.list[i];
        if seed.dropped {
            return Next::Stop;
        }
        if !downloading || running >= MAX_JOBS || seed.retry_at.is_some_and(|t| t > now) {
            return Next::Wait;
        }
        if !seed.online {
            seed.online = true;
            sh.picker.add_peer_bitfield(&sh.web_seeds.full);
        }
        let piece_len = u64::from(self.meta.piece_length);
        let want = piece_len
            .clamp(MIN_JOB, MAX_JOB)
            .div_ceil(u64::from(BLOCK_SIZE)) as usize;
        let Shared {
            picker,
            assembly,
            pick_scratch,
            web_seeds,
            ..
        } = sh;
        let seed = &mut web_seeds.list[i];
        pick_scratch.clear();
        picker.pick(seed.key, &web_seeds.full, want, pick_scratch);
        let mut blocks = Vec::with_capacity(pick_scratch.len());
        for r in pick_scratch.drain(..) {
            if !assembly.ensure(r.piece, self.piece_size(r.piece), &self.env.buffers) {
                picker.cancel_request(seed.key, r);
                continue;
            }
            assembly.requested(r.piece);
            seed.pending.push(r);
            blocks.push(r);
        }
        let mut jobs = runs(blocks, |p| self.storage.layout().piece_offset(p));
        // Scattered picks make more runs than there are free request slots: give back the rest.
        for job in jobs.drain(jobs.len().min(MAX_JOBS - running)..) {
            for r in &job.blocks {
                take(&mut seed.pending, r);
                picker.cancel_request(seed.key, *r);
                assembly.unrequested(r.piece, &self.env.buffers);
            }
        }
        seed.jobs += jobs.len();
        if jobs.is_empty() {
            Next::Wait
        } else {
            Next::Fetch(jobs)
        }
    }

    /// A job's bytes arrived: keep every block the seed still had requested.
    fn web_seed_delivered(self: &Arc<Self>, i: usize, job: &Job, data: &[u8]) {
        let mut guard = self.lock();
        let Shared {
            peers,
            picker,
            assembly,
            stats,
            web_seeds,
            ..
        } = &mut *guard;
        let seed = &mut web_seeds.list[i];
        seed.jobs = seed.jobs.saturating_sub(1);
        seed.failures = 0;
        let (mut cancels, mut done, mut at) = (Vec::new(), Vec::new(), 0usize);
        for &r in &job.blocks {
            let Some(block) = data.get(at..at + r.len as usize) else {
                break;
            };
            at += block.len();
            stats.downloaded += block.len() as u64;
            seed.downloaded += block.len() as u64;
            // Released meanwhile (paused, dropped): the block is no longer the seed's to give.
            let expected = take(&mut seed.pending, &r);
            let outcome = match expected {
                true => picker.on_block(seed.key, r),
                false => BlockOutcome::Unrequested,
            };
            let addr = seed.addr;
            self.keep_block(
                picker,
                assembly,
                stats,
                outcome,
                r,
                block,
                addr,
                expected,
                &mut cancels,
                &mut done,
            );
        }
        super::incoming::send_cancels(peers, assembly, &self.env.buffers, cancels);
        drop(guard);
        if !done.is_empty() {
            self.spawn_verify(done.into_iter());
        }
    }

    /// A job failed: its blocks go back to the pool and the seed backs off, or is dropped.
    fn web_seed_failed(&self, i: usize, job: &Job, e: &WebSeedError) {
        let mut guard = self.lock();
        let sh = &mut *guard;
        let seed = &mut sh.web_seeds.list[i];
        seed.jobs = seed.jobs.saturating_sub(1);
        let key = seed.key;
        for r in &job.blocks {
            if take(&mut seed.pending, r) {
                sh.picker.cancel_request(key, *r);
                sh.assembly.unrequested(r.piece, &self.env.buffers);
            }
        }
        self.web_seed_error(sh, i, e);
    }

    fn web_seed_failed_all(&self, i: usize) {
        let mut guard = self.lock();
        let sh = &mut *guard;
        sh.web_seeds.list[i].jobs = 0;
        release(sh, i, &self.env.buffers, false);
        self.web_seed_error(sh, i, &WebSeedError::Url("request task failed".into()));
    }

    fn web_seed_error(&self, sh: &mut Shared, i: usize, e: &WebSeedError) {
        let now = Instant::now();
        let seed = &mut sh.web_seeds.list[i];
        seed.last_error = Some(e.to_string());
        if seed.retry_at.is_some_and(|t| t > now) {
            // Sent before this backoff began: the same outage, not another failure.
            return;
        }
        seed.failures += 1;
        tracing::debug!(torrent = %self.info_hash, url = %seed.url, error = %e, failures = seed.failures, "web seed request failed");
        if seed.failures >= MAX_FAILURES {
            self.drop_web_seed(sh, i, e);
            return;
        }
        let backoff = FIRST_BACKOFF
            .saturating_mul(1 << (seed.failures - 1).min(8))
            .min(MAX_BACKOFF)
            .mul_f64(rand::rng().random_range(0.8..1.2));
        seed.retry_at = Some(now + backoff);
    }

    /// Gives up on seed `i` for this session.
    fn drop_web_seed(&self, sh: &mut Shared, i: usize, e: &WebSeedError) {
        release(sh, i, &self.env.buffers, true);
        let seed = &mut sh.web_seeds.list[i];
        tracing::info!(torrent = %self.info_hash, url = %seed.url, error = %e, "web seed dropped");
        seed.dropped = true;
        seed.jobs = 0;
        seed.last_error = Some(e.to_string());
    }

    /// Whether `ip` is one of this torrent's web seeds; if so it served a corrupt piece and
    /// is dropped (a web seed is one server: its other answers are not trusted either).
    pub(crate) fn web_seed_convicted(&self, ip: IpAddr) -> bool {
        let mut guard = self.lock();
        let sh = &mut *guard;
        let Some(i) = sh.web_seeds.list.iter().position(|s| s.addr.ip() == ip) else {
            return false;
        };
        if !sh.web_seeds.list[i].dropped {
            self.drop_web_seed(sh, i, &WebSeedError::Corrupt);
        }
        true
    }

    /// The torrent stopped running: every seed's requests and availability are undone
    /// (their tasks were aborted; a late answer finds nothing pending and is discarded).
    pub(super) fn release_web_seeds(&self, sh: &mut Shared) {
        for i in 0..sh.web_seeds.list.len() {
            sh.web_seeds.list[i].jobs = 0;
            release(sh, i, &self.env.buffers, true);
        }
    }
}

/// Returns seed `i`'s pending blocks to the pool and, with `offline`, takes its availability
/// out of the picker.
fn release(sh: &mut Shared, i: usize, budget: &crate::session::budget::Budget, offline: bool) {
    let seed = &mut sh.web_seeds.list[i];
    for r in seed.pending.drain(..) {
        sh.picker.cancel_request(seed.key, r);
        sh.assembly.unrequested(r.piece, budget);
    }
    if offline && seed.online {
        seed.online = false;
        sh.picker.remove_peer_bitfield(&sh.web_seeds.full);
    }
}

/// Removes `r` from `pending`; false if it was not there.
fn take(pending: &mut Vec<BlockRequest>, r: &BlockRequest) -> bool {
    match pending.iter().position(|p| p == r) {
        Some(at) => {
            pending.swap_remove(at);
            true
        }
        None => false,
    }
}

/// Groups picked blocks into runs contiguous in the torrent's byte stream.
fn runs(mut blocks: Vec<BlockRequest>, piece_offset: impl Fn(u32) -> u64) -> Vec<Job> {
    blocks.sort_unstable_by_key(|r| (r.piece, r.offset));
    let mut jobs: Vec<Job> = Vec::new();
    let mut end = u64::MAX;
    for r in blocks {
        let start = piece_offset(r.piece) + u64::from(r.offset);
        match jobs.last_mut() {
            Some(job) if start == end && job.len + u64::from(r.len) <= MAX_JOB => {
                job.len += u64::from(r.len);
                job.blocks.push(r);
            }
            _ => jobs.push(Job {
                blocks: vec![r],
                piece: r.piece,
                offset: r.offset,
                len: u64::from(r.len),
            }),
        }
        end = start + u64::from(r.len);
    }
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(piece: u32, offset: u32, len: u32) -> BlockRequest {
        BlockRequest { piece, offset, len }
    }

    #[test]
    fn runs_join_contiguous_blocks_across_pieces() {
        // Pieces of 32 KiB; the last one is short.
        let off = |p: u32| u64::from(p) * 32768;
        let jobs = runs(
            vec![
                b(1, 16384, 16384),
                b(0, 16384, 16384),
                b(1, 0, 16384),
                b(3, 0, 100),
            ],
            off,
        );
        let got: Vec<_> = jobs
            .iter()
            .map(|j| (j.piece, j.offset, j.len, j.blocks.len()))
            .collect();
        assert_eq!(got, vec![(0, 16384, 49152, 3), (3, 0, 100, 1)]);
    }

    #[test]
    fn runs_stay_under_the_job_size() {
        let n = (MAX_JOB / 16384) as u32 + 3;
        let blocks = (0..n).map(|i| b(i / 4, (i % 4) * 16384, 16384)).collect();
        let jobs = runs(blocks, |p| u64::from(p) * 65536);
        assert_eq!(jobs.len(), 2);
        assert_eq!(jobs[0].len, MAX_JOB);
        assert_eq!(jobs[1].piece, (MAX_JOB / 65536) as u32);
    }
}
