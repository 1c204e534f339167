//! The browser's EventSource on `/api/events`, opened while someone is signed in. It
//! reconnects by itself (sending `Last-Event-ID`); a `resync` reloads the lists.
//!
//! The page's list was read before the stream opened (often while rendering on the server),
//! so what changed in between would be lost: when the stream first opens, the torrent list is
//! read again and events that arrive meanwhile are held, then applied in order on top of it.
//! Events only ever set state, so applying one that the fresh list already shows is harmless.

use super::Live;

/// Events held back, `Some` from the stream's first open until the re-read list is in the
/// store.
#[cfg(feature = "hydrate")]
type Held = leptos::prelude::StoredValue<
    Option<Vec<(&'static str, String)>>,
    leptos::prelude::LocalStorage,
>;

#[cfg(not(feature = "hydrate"))]
pub fn run(_live: Live) {}

#[cfg(feature = "hydrate")]
pub fn run(live: Live) {
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;

    let source: StoredValue<Option<SendWrapper<web_sys::EventSource>>, LocalStorage> =
        StoredValue::new_local(None);
    // Here, not in `connect`: values made inside the effect go when it runs again.
    let held: Held = StoredValue::new_local(None);
    // Open when someone signs in, close when they sign out.
    Effect::new(move |_| {
        let signed_in = live.me.get().is_some_and(|r| r.is_ok());
        let open = source.with_value(Option::is_some);
        if signed_in && !open {
            match connect(live, held) {
                Ok(es) => source.set_value(Some(SendWrapper::new(es))),
                Err(e) => leptos::logging::warn!("cannot open the event stream: {e:?}"),
            }
        } else if !signed_in && open {
            source.update_value(|s| {
                if let Some(es) = s.take() {
                    es.close();
                }
            });
            live.connected.set(false);
        }
    });
}

#[cfg(feature = "hydrate")]
fn connect(live: Live, held: Held) -> Result<web_sys::EventSource, wasm_bindgen::JsValue> {
    use crate::types::names::*;
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};

    let es = web_sys::EventSource::new("/api/events")?;
    let mut opened = false;
    let on_open = Closure::<dyn FnMut()>::new(move || {
        live.connected.set(true);
        if !std::mem::replace(&mut opened, true) {
            held.set_value(Some(Vec::new()));
            leptos::task::spawn_local(catch_up(live, held));
        }
    });
    es.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    on_open.forget();
    let on_error = Closure::<dyn FnMut()>::new(move || live.connected.set(false));
    es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
    on_error.forget();
    for name in [
        TORRENT_ADDED,
        TORRENT_PROGRESS,
        TORRENT_PIECE,
        TORRENT_COMPLETE,
        TORRENT_SEEDING,
        TORRENT_ERROR,
        TORRENT_REMOVED,
        QUEUE_UPDATED,
        TORRENT_LABELS,
        CHAT_MESSAGE,
        NOTIFICATION,
        RESYNC,
    ] {
        let handler =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(data) = e.data().as_string() else {
                    return;
                };
                if held.with_value(Option::is_some) {
                    held.update_value(|h| h.get_or_insert_default().push((name, data)));
                } else {
                    apply(live, name, &data);
                }
            });
        es.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref())?;
        handler.forget();
    }
    Ok(es)
}

/// Re-reads the torrent list after the stream opened, then applies what was held.
#[cfg(feature = "hydrate")]
async fn catch_up(live: Live, held: Held) {
    use leptos::prelude::*;
    match crate::client::get::<Vec<crate::types::TorrentSummary>>("/api/torrents".into()).await {
        Ok(list) => live.seed_latest(list),
        Err(e) => leptos::logging::warn!("cannot re-read the torrent list: {e}"),
    }
    let events = held.try_update_value(Option::take).flatten();
    for (name, data) in events.unwrap_or_default() {
        apply(live, name, &data);
    }
}

#[cfg(feature = "hydrate")]
fn apply(live: Live, name: &str, data: &str) {
    if let Err(err) = dispatch(live, name, data) {
        leptos::logging::warn!("bad {name} event: {err}");
    }
}

/// Applies one event to the live state.
#[cfg(feature = "hydrate")]
fn dispatch(live: Live, name: &str, data: &str) -> Result<(), serde_json::Error> {
    use crate::types::{names::*, *};
    use leptos::prelude::*;
    let store = live.torrents;
    match name {
        TORRENT_ADDED => store.upsert(serde_json::from_str::<TorrentSummary>(data)?),
        TORRENT_PROGRESS => store.progress(serde_json::from_str::<ProgressUpdate>(data)?),
        TORRENT_PIECE => {
            let p: PiecesUpdate = serde_json::from_str(data)?;
            store.pieces(&p.info_hash, &p.pieces);
        }
        TORRENT_COMPLETE => {
            let r: TorrentRef = serde_json::from_str(data)?;
            store.complete(&r.info_hash, (super::js_now_ms() / 1000.0) as i64);
        }
        TORRENT_SEEDING | QUEUE_UPDATED => store.state(serde_json::from_str::<StateUpdate>(data)?),
        TORRENT_ERROR => store.error(serde_json::from_str::<ErrorUpdate>(data)?),
        TORRENT_LABELS => store.labels(serde_json::from_str::<LabelsUpdate>(data)?),
        TORRENT_REMOVED => store.remove(&serde_json::from_str::<TorrentRef>(data)?.info_hash),
        CHAT_MESSAGE => {
            let m: ChatMessage = serde_json::from_str(data)?;
            live.chat.update(|c| {
                if !c.iter().any(|x| x.id == m.id) {
                    c.push(m);
                }
            });
        }
        NOTIFICATION => {
            let n: Notification = serde_json::from_str(data)?;
            live.toast(n.message.clone(), n.kind == NotificationKind::Error);
            live.fresh_notices.update(|list| list.insert(0, n));
            live.unread.update(|u| *u += 1);
        }
        RESYNC => live.refresh(),
        _ => {}
    }
    Ok(())
}
