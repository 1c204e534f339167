//! The live search: an EventSource on `/api/search/stream?q=`, whose every message is a
//! snapshot of the whole answer so far. It is closed after the snapshot with nothing
//! pending (an EventSource would otherwise reconnect and search again), on an error, when
//! another search starts, and when the page goes away.

use leptos::prelude::*;

use crate::types::SearchResponse;

/// The open stream, if any (only ever one per page).
#[derive(Clone, Copy)]
pub struct Handle {
    #[cfg(feature = "hydrate")]
    source: StoredValue<Option<send_wrapper::SendWrapper<web_sys::EventSource>>, LocalStorage>,
}

// Derivable only without `hydrate`, where the handle holds nothing.
#[allow(clippy::derivable_impls)]
impl Default for Handle {
    fn default() -> Handle {
        Handle {
            #[cfg(feature = "hydrate")]
            source: StoredValue::new_local(None),
        }
    }
}

impl Handle {
    /// Searches for `q`, putting each snapshot into `into`; `fail` hears why it broke off.
    #[cfg(feature = "hydrate")]
    pub fn open(
        self,
        q: &str,
        into: RwSignal<Option<SearchResponse>>,
        fail: impl Fn(String) + 'static,
    ) {
        use wasm_bindgen::{closure::Closure, JsCast};

        self.close();
        let url = format!("/api/search/stream?q={}", crate::format::url_encode(q));
        let es = match web_sys::EventSource::new(&url) {
            Ok(es) => es,
            Err(e) => return fail(format!("cannot search: {e:?}")),
        };
        let on_message =
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(data) = e.data().as_string() else {
                    return;
                };
                match serde_json::from_str::<SearchResponse>(&data) {
                    Ok(snapshot) => {
                        let done = snapshot.pending == 0;
                        into.set(Some(snapshot));
                        if done {
                            self.close();
                        }
                    }
                    Err(err) => leptos::logging::warn!("bad search snapshot: {err}"),
                }
            });
        es.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let on_error = Closure::<dyn FnMut()>::new(move || {
            // Only a stream still open broke off: a finished one was closed first.
            if self.source.try_with_value(Option::is_some) == Some(true) {
                self.close();
                fail("the search broke off; try again".into());
            }
        });
        es.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        on_error.forget();
        self.source
            .set_value(Some(send_wrapper::SendWrapper::new(es)));
    }

    #[cfg(not(feature = "hydrate"))]
    pub fn open(
        self,
        _q: &str,
        _into: RwSignal<Option<SearchResponse>>,
        _fail: impl Fn(String) + 'static,
    ) {
    }

    /// Closes the stream, if one is open.
    pub fn close(self) {
        #[cfg(feature = "hydrate")]
        self.source.try_update_value(|s| {
            if let Some(es) = s.take() {
                es.close();
            }
        });
    }
}
