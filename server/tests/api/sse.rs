//! A minimal server-sent events reader for the tests.

#![allow(dead_code)]

use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;

#[derive(Clone, Debug)]
pub struct Msg {
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
}

pub struct Reader {
    stream: futures_util::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buf: String,
}

impl Reader {
    /// Opens `/api/events` with `token`, optionally resuming after `last_id`.
    pub async fn open(base: &str, token: &str, last_id: Option<&str>) -> Reader {
        let client = reqwest::Client::new();
        let mut r = client.get(format!("{base}/api/events")).bearer_auth(token);
        if let Some(id) = last_id {
            r = r.header("Last-Event-ID", id);
        }
        let res = r.send().await.expect("open event stream");
        assert_eq!(res.status(), 200, "event stream status");
        let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with("text/event-stream"), "{ct}");
        Reader {
            stream: res.bytes_stream().boxed(),
            buf: String::new(),
        }
    }

    /// The next event (comments and keep-alives skipped), or None after `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<Msg> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..i + 2).collect();
                if let Some(msg) = parse(&block) {
                    return Some(msg);
                }
                continue;
            }
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Ok(Some(Ok(chunk))) => self.buf.push_str(&String::from_utf8_lossy(&chunk)),
                Ok(_) => return None,
                Err(_) => return None,
            }
        }
    }

    /// Events until `name` arrives (inclusive), failing after `wait`.
    pub async fn until(&mut self, name: &str, wait: Duration) -> Vec<Msg> {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.next(left).await {
                Some(m) => {
                    let done = m.event == name;
                    seen.push(m);
                    if done {
                        return seen;
                    }
                }
                None => panic!("no {name} event within {wait:?}; got {seen:?}"),
            }
        }
    }

    /// Everything that arrives within `wait`.
    pub async fn drain(&mut self, wait: Duration) -> Vec<Msg> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return seen;
            }
            match self.next(left).await {
                Some(m) => seen.push(m),
                None => return seen,
            }
        }
    }
}

fn parse(block: &str) -> Option<Msg> {
    let (mut id, mut event, mut data) = (None, String::from("message"), String::new());
    let mut any = false;
    for line in block.lines() {
        if line.starts_with(':') || line.is_empty() {
            continue;
        }
        let (k, v) = line.split_once(':').unwrap_or((line, ""));
        let v = v.strip_prefix(' ').unwrap_or(v);
        any = true;
        match k {
            "id" => id = Some(v.to_owned()),
            "event" => event = v.to_owned(),
            "data" => {
                if !data.is_empty() {
                    data.push('\n');
                }
                data.push_str(v)
            }
            _ => {}
        }
    }
    any.then(|| Msg {
        id,
        event,
        data: serde_json::from_str(&data).unwrap_or(Value::String(data)),
    })
}
