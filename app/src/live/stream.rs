//! The browser's EventSource on `/api/events`, opened while someone is signed in. It
//! reconnects by itself (sending `Last-Event-ID`); a `resync` reloads the lists.

use super::Live;

#[cfg(not(feature = "hydrate"))]
pub fn run(_live: Live) {}

#[cfg(feature = "hydrate")]
pub fn run(live: Live) {
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;

    let source: StoredValue<Option<SendWrapper<web_sys::EventSource>>, LocalStorage> =
        StoredValue::new_local(None);
    // Open when someone signs in, close when they sign out.
    Effect::new(move |_| {
        let signed_in = live.me.get().is_some_and(|r| r.is_ok());
        let open = source.with_value(Option::is_some);
        if signed_in && !open {
            match connect(live) {
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
fn connect(live: Live) -> Result<web_sys::EventSource, wasm_bindgen::JsValue> {
    use crate::types::names::*;
    use leptos::prelude::*;
    use wasm_bindgen::{closure::Closure, JsCast};

    let es = web_sys::EventSource::new("/api/events")?;
    let on_open = Closure::<dyn FnMut()>::new(move || live.connected.set(true));
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
                if let Some(data) = e.data().as_string() {
                    if let Err(err) = dispatch(live, name, &data) {
                        leptos::logging::warn!("bad {name} event: {err}");
                    }
                }
            });
        es.add_event_listener_with_callback(name, handler.as_ref().unchecked_ref())?;
        handler.forget();
    }
    Ok(es)
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
