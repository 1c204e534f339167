//! The detail page's tabs.

use leptos::prelude::*;

use super::player::{Media, StreamButtons};
use crate::actions;
use crate::components::piece_map::{decode_bitfield, PieceMap};
use crate::components::{DataTable, ProgressBar};
use crate::format;
use crate::live::use_live;
use crate::types::{
    FilePriority, FileProgress, PeerEndInfo, PeerInfo, PiecesInfo, Role, TorrentDetail,
    TrackerInfo, WebSeedInfo, WebSeedState,
};

#[component]
pub fn Files(
    hash: String,
    files: Vec<FileProgress>,
    playing: RwSignal<Option<(usize, String, Media)>>,
) -> impl IntoView {
    if files.is_empty() {
        return view! { <p class="muted">"No file list yet (waiting for metadata)."</p> }
            .into_any();
    }
    view! {
        <DataTable
            id="files"
            class="files"
            headers=&[("File", ""), ("Size", ""), ("Progress", ""), ("Priority", ""), ("Stream", "")]
        >
                    {files
                        .into_iter()
                        .enumerate()
                        .map(|(i, f)| {
                            let label = format!("{} progress", f.path);
                            let select_label = format!("Priority of {}", f.path);
                            let hash = hash.clone();
                            let path = f.path.clone();
                            view! {
                                <tr>
                                    <th scope="row" class="name">{f.path}</th>
                                    <td class="num" data-label="Size">{format::bytes(f.length)}</td>
                                    <td data-label="Progress">
                                        <ProgressBar fraction=move || f.progress label />
                                    </td>
                                    <td data-label="Priority">
                                        <FilePrioritySelect hash=hash.clone() index=i value=f.priority label=select_label />
                                    </td>
                                    <td data-label="Stream" class="stream">
                                        <StreamButtons hash index=i path playing />
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
        </DataTable>
    }
    .into_any()
}

/// Skip / low / normal / high for one file; saved at once.
#[component]
fn FilePrioritySelect(
    hash: String,
    index: usize,
    value: FilePriority,
    label: String,
) -> impl IntoView {
    let live = use_live();
    let current = RwSignal::new(value);
    view! {
        <select
            id=format!("file-prio-{index}")
            class="file-priority"
            aria-label=label
            on:change=move |ev| {
                if let Some(p) = FilePriority::parse(&event_target_value(&ev)) {
                    current.set(p);
                    actions::set_file_priority(live, hash.clone(), index, p, move |d| {
                        if let Some(f) = d.files.get(index) {
                            current.set(f.priority);
                        }
                    });
                }
            }
        >
            {FilePriority::ALL
                .into_iter()
                .map(|p| {
                    view! {
                        <option value=p.as_str() selected=move || current.get() == p>
                            {match p {
                                FilePriority::Skip => "Skip",
                                FilePriority::Low => "Low",
                                FilePriority::Normal => "Normal",
                                FilePriority::High => "High",
                            }}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}

/// qBittorrent-style flags: D downloading from, d interested but choked, U uploading to,
/// u they are interested but we choke, I incoming connection, E encrypted (RC4).
pub fn peer_flags(p: &PeerInfo) -> String {
    let mut f = String::new();
    match (p.am_interested, p.peer_choking) {
        (true, false) => f.push('D'),
        (true, true) => f.push('d'),
        _ => {}
    }
    match (p.peer_interested, p.am_choking) {
        (true, false) => f.push('U'),
        (true, true) => f.push('u'),
        _ => {}
    }
    if p.incoming {
        f.push('I');
    }
    if p.encrypted {
        f.push('E');
    }
    f
}

const PEER_HEADERS: &[(&str, &str)] = &[
    ("Address", ""),
    ("Client", ""),
    (
        "Flags",
        "D: downloading from; d: we want, they choke; U: uploading to; u: they want, we choke; I: incoming; E: encrypted",
    ),
    ("Encryption", "RC4: the connection is encrypted (MSE/PE); plain: it is not"),
    ("Source", "Where the peer was found: tracker, DHT, PEX (peer exchange), user or incoming"),
    ("Down", ""),
    ("Up", ""),
    ("Their progress", ""),
    ("Strikes", "Proven bad pieces from this address; enough of them and it is banned"),
    ("", ""),
];

/// The peer's address without its port (bans are by address).
fn peer_ip(addr: &str) -> String {
    addr.parse::<std::net::SocketAddr>()
        .map_or_else(|_| addr.to_string(), |a| a.ip().to_string())
}

#[component]
pub fn Peers(peers: Vec<PeerInfo>) -> impl IntoView {
    let live = use_live();
    let admin = move || live.user().is_some_and(|u| u.role == Role::Admin);
    if peers.is_empty() {
        return view! { <p class="muted" id="no-peers">"Not connected to any peer."</p> }
            .into_any();
    }
    view! {
        <DataTable id="peers" class="peers" headers=PEER_HEADERS>
                    {peers
                        .into_iter()
                        .map(|p| {
                            let flags = peer_flags(&p);
                            let label = format!("{} progress", p.addr);
                            let ip = peer_ip(&p.addr);
                            view! {
                                <tr class="peer">
                                    <th scope="row" class="mono">{p.addr}</th>
                                    <td data-label="Client">{p.client}</td>
                                    <td class="mono" data-label="Flags">{flags}</td>
                                    <td data-label="Encryption">
                                        {if p.encrypted {
                                            view! { <span class="badge enc" title="RC4 (MSE/PE)">"RC4"</span> }.into_any()
                                        } else {
                                            view! { <span class="muted">"plain"</span> }.into_any()
                                        }}
                                    </td>
                                    <td class="source" data-label="Source">{p.source}</td>
                                    <td class="num down" data-label="Down">{format::rate(p.download_rate)}</td>
                                    <td class="num up" data-label="Up">{format::rate(p.upload_rate)}</td>
                                    <td data-label="Their progress">
                                        <ProgressBar fraction=move || p.progress label />
                                    </td>
                                    <td class="num strikes" data-label="Strikes">{p.strikes}</td>
                                    <td>
                                        <button
                                            type="button"
                                            class="ban"
                                            title="Ban this address for the session"
                                            disabled=move || !admin()
                                            on:click=move |_| actions::ban(live, ip.clone(), || ())
                                        >
                                            "Ban"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
        </DataTable>
    }
    .into_any()
}

const END_HEADERS: &[(&str, &str)] = &[
    ("Address", ""),
    ("Client", ""),
    ("Why it ended", ""),
    ("Down", ""),
    ("Up", ""),
    ("When", ""),
];

/// How the latest connections ended, newest first.
#[component]
pub fn PeerEnds(ends: Vec<PeerEndInfo>) -> impl IntoView {
    if ends.is_empty() {
        return ().into_any();
    }
    view! {
        <h3>"Recently disconnected"</h3>
        <DataTable id="peer-ends" class="peer-ends" headers=END_HEADERS>
            {ends
                .into_iter()
                .map(|e| {
                    view! {
                        <tr class=format!("peer-end {}", e.kind)>
                            <th scope="row" class="mono">{e.addr}</th>
                            <td data-label="Client">{e.client}</td>
                            <td class="reason" data-label="Why it ended">{e.reason}</td>
                            <td class="num" data-label="Down">{format::bytes(e.downloaded)}</td>
                            <td class="num" data-label="Up">{format::bytes(e.uploaded)}</td>
                            <td data-label="When">{format::datetime(e.at as i64)}</td>
                        </tr>
                    }
                })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

const TRACKER_HEADERS: &[(&str, &str)] = &[
    ("Tier", ""),
    ("URL", ""),
    ("Status", ""),
    ("Seeds", ""),
    ("Leechers", ""),
    ("Last announce", ""),
    ("Next", ""),
];

#[component]
pub fn Trackers(trackers: Vec<TrackerInfo>) -> impl IntoView {
    if trackers.is_empty() {
        return view! { <p class="muted">"This torrent has no trackers."</p> }.into_any();
    }
    view! {
        <DataTable id="trackers" class="trackers" headers=TRACKER_HEADERS>
                    {trackers
                        .into_iter()
                        .map(|t| {
                            let r = t.last_result.clone();
                            let status = match &r {
                                None => view! { <span class="muted">"Not contacted"</span> }.into_any(),
                                Some(r) if r.ok => view! {
                                    <span class="ok">{format!("Working, {} peers", r.peers.unwrap_or(0))}</span>
                                }
                                .into_any(),
                                Some(r) => view! {
                                    <span class="error">{r.error.clone().unwrap_or_else(|| "Failed".into())}</span>
                                }
                                .into_any(),
                            };
                            let num = |v: Option<u32>| v.map_or_else(|| "–".into(), |n| n.to_string());
                            view! {
                                <tr>
                                    <td class="num" data-label="Tier">{t.tier}</td>
                                    <th scope="row" class="mono wrap">{t.url}</th>
                                    <td data-label="Status">{status}</td>
                                    <td class="num" data-label="Seeds">{num(r.as_ref().and_then(|r| r.seeders))}</td>
                                    <td class="num" data-label="Leechers">{num(r.as_ref().and_then(|r| r.leechers))}</td>
                                    <td data-label="Last announce">
                                        {t.last_announce.map_or_else(|| "–".into(), |s| format::datetime(s as i64))}
                                    </td>
                                    <td data-label="Next">
                                        {t.next_announce_secs.map_or_else(|| "–".into(), format::format_duration)}
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
        </DataTable>
    }
    .into_any()
}

const WEB_SEED_HEADERS: &[(&str, &str)] = &[
    ("URL", ""),
    ("Status", ""),
    ("Downloaded", "Bytes received from this web seed"),
    ("Speed", ""),
    ("Requests", "Range requests in flight"),
];

/// The torrent's web seeds (BEP 19), each with its state like a tracker's.
#[component]
pub fn WebSeeds(seeds: Vec<WebSeedInfo>) -> impl IntoView {
    if seeds.is_empty() {
        return ().into_any();
    }
    view! {
        <h3>"Web seeds"</h3>
        <DataTable id="web-seed-status" class="web-seeds" headers=WEB_SEED_HEADERS>
            {seeds
                .into_iter()
                .map(|w| {
                    let error = w.last_error.clone().unwrap_or_default();
                    let status = match w.state {
                        WebSeedState::Active => view! { <span class="ok">"Downloading"</span> }.into_any(),
                        WebSeedState::Idle if w.downloaded > 0 => view! { <span class="ok">"Working"</span> }.into_any(),
                        WebSeedState::Idle => view! { <span class="muted">"Idle"</span> }.into_any(),
                        WebSeedState::BackingOff => view! {
                            <span class="error">
                                {format!(
                                    "{error} (retry in {})",
                                    format::format_duration(w.retry_in_secs.unwrap_or(0)),
                                )}
                            </span>
                        }
                        .into_any(),
                        WebSeedState::Dropped => view! {
                            <span class="error">{format!("Dropped: {error}")}</span>
                        }
                        .into_any(),
                    };
                    view! {
                        <tr data-state=format!("{:?}", w.state).to_lowercase()>
                            <th scope="row" class="mono wrap">{w.url}</th>
                            <td data-label="Status">{status}</td>
                            <td class="num" data-label="Downloaded">{format::bytes(w.downloaded)}</td>
                            <td class="num" data-label="Speed">{format::rate(w.download_rate)}</td>
                            <td class="num" data-label="Requests">{w.requests}</td>
                        </tr>
                    }
                })
                .collect_view()}
        </DataTable>
    }
    .into_any()
}

/// The piece map, kept current by `torrent:piece` events between re-reads.
#[component]
pub fn Pieces(info: PiecesInfo) -> impl IntoView {
    let live = use_live();
    let n = info.num_pieces as usize;
    let have = RwSignal::new(decode_bitfield(&info.bitfield, n));
    Effect::new(move |_| {
        let fresh = live.torrents.take_pieces();
        if !fresh.is_empty() {
            have.update(|h| {
                for p in fresh {
                    if let Some(slot) = h.get_mut(p as usize) {
                        *slot = true;
                    }
                }
            });
        }
    });
    view! {
        <p class="muted" id="pieces-summary">
            {move || have.with(|h| {
                format!(
                    "{} of {} pieces of {} verified",
                    h.iter().filter(|x| **x).count(),
                    n,
                    format::bytes(info.piece_length.into()),
                )
            })}
        </p>
        <PieceMap have />
    }
}

/// A magnet link for the torrent: its own when added by magnet, else made from the info-hash,
/// name and trackers.
pub fn magnet_link(d: &TorrentDetail) -> String {
    if let Some(m) = &d.summary.magnet_uri {
        return m.clone();
    }
    let mut link = format!(
        "magnet:?xt=urn:btih:{}&dn={}",
        d.summary.info_hash,
        format::url_encode(&d.summary.name)
    );
    for t in &d.trackers {
        link.push_str("&tr=");
        link.push_str(&format::url_encode(&t.url));
    }
    for w in &d.web_seeds {
        link.push_str("&ws=");
        link.push_str(&format::url_encode(w));
    }
    link
}

/// A plain HTTP link to the content from a web seed (BEP 19: a URL ending in `/` gets the
/// torrent's name appended; a multi-file torrent's is a folder, so only one file gets one).
pub fn http_link(d: &TorrentDetail) -> Option<String> {
    let base = d.web_seeds.first()?;
    if d.files.len() != 1 {
        return None;
    }
    Some(if base.ends_with('/') {
        format!("{base}{}", format::url_encode(&d.files[0].path))
    } else {
        base.clone()
    })
}

#[component]
pub fn Info(detail: TorrentDetail) -> impl IntoView {
    let live = use_live();
    let magnet = magnet_link(&detail);
    let s = &detail.summary;
    let copy_magnet = magnet.clone();
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let text = copy_magnet.clone();
            leptos::task::spawn_local(async move {
                let ok = match web_sys::window() {
                    Some(w) => wasm_bindgen_futures::JsFuture::from(
                        w.navigator().clipboard().write_text(&text),
                    )
                    .await
                    .is_ok(),
                    None => false,
                };
                live.toast(
                    if ok {
                        "Magnet link copied"
                    } else {
                        "Cannot copy: select the link and copy it"
                    },
                    !ok,
                );
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&copy_magnet, live);
    };
    let or_dash = |v: Option<String>| v.filter(|s| !s.is_empty()).unwrap_or_else(|| "–".into());
    view! {
        <dl class="facts" id="info">
            <dt>"Info-hash"</dt>
            <dd class="mono" id="info-hash">{s.info_hash.clone()}</dd>
            <dt>"Magnet link"</dt>
            <dd class="magnet">
                <input type="text" readonly aria-label="Magnet link" id="magnet-link" value=magnet.clone() />
                <button type="button" class="small" on:click=copy>"Copy"</button>
            </dd>
            <dt>"Web seeds"</dt>
            <dd class="mono wrap" id="web-seeds">
                {if detail.web_seeds.is_empty() { "–".to_string() } else { detail.web_seeds.join("\n") }}
            </dd>
            {http_link(&detail).map(|h| view! {
                <dt>"Over HTTP"</dt>
                <dd class="wrap"><a id="http-link" href=h.clone()>{h.clone()}</a></dd>
            })}
            <dt>"Size"</dt>
            <dd>{format::bytes(s.total_bytes)}</dd>
            <dt>"Pieces"</dt>
            <dd>{format!("{} × {}", detail.num_pieces, format::bytes(detail.piece_length.into()))}</dd>
            <dt>"Comment"</dt>
            <dd id="info-comment">{or_dash(detail.comment.clone())}</dd>
            <dt>"Created by"</dt>
            <dd>{or_dash(detail.created_by.clone())}</dd>
            <dt>"Created on"</dt>
            <dd>{or_dash(detail.creation_date.map(format::datetime))}</dd>
            <dt>"Private"</dt>
            <dd>{if detail.private { "Yes (no DHT or PEX)" } else { "No" }}</dd>
            <dt>"Saved in"</dt>
            <dd class="mono wrap">{s.save_path.clone()}</dd>
            <dt>"Added"</dt>
            <dd>{format::datetime(s.added_at)}</dd>
            <dt>"Completed"</dt>
            <dd>{or_dash(s.completed_at.map(format::datetime))}</dd>
            <dt>"Time seeding"</dt>
            <dd id="seconds-seeding">{format::format_duration(s.seconds_seeding)}</dd>
            <dt>"Downloaded / uploaded"</dt>
            <dd>{format!("{} / {}", format::bytes(s.downloaded), format::bytes(s.uploaded))}</dd>
            <dt>"Wasted (failed pieces)"</dt>
            <dd>{format::bytes(detail.wasted)}</dd>
        </dl>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_read_like_qbittorrent() {
        let mut p = PeerInfo {
            addr: "127.0.0.1:1".into(),
            client: "x".into(),
            incoming: true,
            download_rate: 0,
            upload_rate: 0,
            downloaded: 0,
            uploaded: 0,
            am_choking: true,
            am_interested: true,
            peer_choking: false,
            peer_interested: true,
            pieces: 0,
            progress: 0.0,
            source: "pex".into(),
            strikes: 0,
            encrypted: true,
        };
        assert_eq!(peer_flags(&p), "DuIE");
        p.encrypted = false;
        assert_eq!(peer_flags(&p), "DuI");
        p.am_choking = false;
        p.incoming = false;
        p.am_interested = false;
        assert_eq!(peer_flags(&p), "U");
    }

    #[test]
    fn bans_name_the_address_without_its_port() {
        assert_eq!(peer_ip("127.0.0.2:6881"), "127.0.0.2");
        assert_eq!(peer_ip("[::1]:6881"), "::1");
    }
}
