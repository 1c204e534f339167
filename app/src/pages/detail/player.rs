//! Watching or listening to a torrent's file in the page while it downloads (the stream
//! endpoint fetches what the player reads first), and a signed link for VLC or mpv.

use leptos::prelude::*;

use crate::actions;
use crate::live::use_live;

/// How the browser can play a file, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    Video,
    Audio,
}

/// Video and audio the browser may play; anything else only gets a link.
pub fn media_kind(path: &str) -> Option<Media> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    match ext.as_str() {
        "mp4" | "m4v" | "webm" | "mkv" | "mov" | "ogv" => Some(Media::Video),
        "mp3" | "m4a" | "aac" | "ogg" | "oga" | "opus" | "flac" | "wav" => Some(Media::Audio),
        _ => None,
    }
}

/// The stream URL of file `index` (the login cookie authenticates it in the page).
pub fn stream_url(hash: &str, index: usize) -> String {
    format!("/api/torrents/{hash}/files/{index}/stream")
}

/// The file being played, above the file list.
#[component]
pub fn Player(hash: String, playing: RwSignal<Option<(usize, String, Media)>>) -> impl IntoView {
    move || {
        playing.get().map(|(index, path, media)| {
            let src = stream_url(&hash, index);
            let player = match media {
                Media::Video => view! {
                    <video id="player" controls=true autoplay=true preload="auto" src=src></video>
                }
                .into_any(),
                Media::Audio => view! {
                    <audio id="player" controls=true autoplay=true preload="auto" src=src></audio>
                }
                .into_any(),
            };
            view! {
                <figure class="card player">
                    {player}
                    <figcaption>
                        {path}
                        " "
                        <button type="button" class="link" on:click=move |_| playing.set(None)>
                            "Close"
                        </button>
                    </figcaption>
                </figure>
            }
        })
    }
}

/// Play (media files) and Link (every file) for one row of the file list.
#[component]
pub fn StreamButtons(
    hash: String,
    index: usize,
    path: String,
    playing: RwSignal<Option<(usize, String, Media)>>,
) -> impl IntoView {
    let live = use_live();
    let link = RwSignal::new(None::<String>);
    let media = media_kind(&path);
    let label = format!("Play {path}");
    let play_path = path.clone();
    view! {
        {media.map(|m| {
            view! {
                <button
                    type="button"
                    class="play"
                    aria-label=label
                    on:click=move |_| playing.set(Some((index, play_path.clone(), m)))
                >
                    "Play"
                </button>
            }
        })}
        <button
            type="button"
            class="stream-link"
            aria-label=format!("Link to {path}")
            on:click=move |_| actions::stream_link(live, hash.clone(), index, move |url| link.set(Some(url)))
        >
            "Link"
        </button>
        {move || link.get().map(|url| view! {
            <input class="stream-url" readonly=true value=url aria-label="Streaming link (6 hours)" />
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_by_extension() {
        assert_eq!(media_kind("show/ep1.MKV"), Some(Media::Video));
        assert_eq!(media_kind("a.flac"), Some(Media::Audio));
        assert_eq!(media_kind("notes.txt"), None);
        assert_eq!(media_kind("noext"), None);
        assert_eq!(stream_url("ab", 3), "/api/torrents/ab/files/3/stream");
    }
}
