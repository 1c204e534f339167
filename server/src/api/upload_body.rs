//! A multipart request body the handler can still read after multer is done with it.
//!
//! multer stops at the closing boundary and leaves what follows (the CRLF after it), and a
//! refused upload is dropped mid-way. A server that closes its socket with unread bytes makes
//! the kernel reset the connection, and the client, often still sending, loses our answer
//! (seen as "connection closed before message completed" instead of a 413). So the body
//! sits behind a shared handle, and [`UploadBody::drain`] reads what is left, within a bound.

use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::{Body, BodyDataStream, Bytes};
use axum::extract::{Multipart, Request};
use futures_util::{Stream, StreamExt};

/// Most of a refused upload read before answering.
const DRAIN_MAX: usize = 1 << 20;

#[derive(Clone)]
pub struct UploadBody(Arc<Mutex<BodyDataStream>>);

impl UploadBody {
    /// `req` with its body behind a handle; the handle is returned beside it.
    pub fn wrap(req: Request) -> (Request, UploadBody) {
        let (parts, body) = req.into_parts();
        let shared = UploadBody(Arc::new(Mutex::new(body.into_data_stream())));
        let req = Request::from_parts(parts, Body::from_stream(shared.clone()));
        (req, shared)
    }

    /// Reads and discards the rest of the upload: the fields multer has not read, then the
    /// raw bytes after them, up to [`DRAIN_MAX`] in all.
    pub async fn drain(&self, mp: &mut Multipart) {
        let mut left = DRAIN_MAX;
        while let Ok(Some(mut field)) = mp.next_field().await {
            while let Ok(Some(chunk)) = field.chunk().await {
                match left.checked_sub(chunk.len()) {
                    Some(l) => left = l,
                    None => return,
                }
            }
        }
        let mut rest = self.clone();
        while let Some(Ok(chunk)) = rest.next().await {
            match left.checked_sub(chunk.len()) {
                Some(l) => left = l,
                None => return,
            }
        }
    }
}

impl Stream for UploadBody {
    type Item = Result<Bytes, axum::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut body = self.0.lock().unwrap_or_else(|e| e.into_inner());
        Pin::new(&mut *body).poll_next(cx)
    }
}
