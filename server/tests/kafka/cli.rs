//! `torrentedge events`: one JSON line per event, from the API and from Kafka.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::broker::Broker;
use crate::support::*;
use crate::*;

/// The child's output once it exits, killing it after `secs` (a hang fails the test with
/// what it printed instead of stalling the suite).
fn output_within(mut child: std::process::Child, secs: u64) -> std::process::Output {
    let deadline = std::time::Instant::now() + Duration::from_secs(secs);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "torrentedge events did not finish within {secs} s; stdout: {} stderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn lines(out: &std::process::Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "torrentedge events failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_command_prints_json_lines_from_the_api_and_from_kafka() {
    let broker = Broker::start();
    let prefix = prefix();
    broker.prepare_topics(&prefix);
    let srv = Server::start_with(kafka_options(
        Backend::Sqlite,
        &broker.bootstrap(),
        &prefix,
        "cli",
    ))
    .await;
    let token = srv.user("admin").await;

    // From the API: connected before the events happen.
    let api = Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .args(["events", "--follow", "--count", "2", "--url", &srv.base])
        .env("TORRENTEDGE_TOKEN", &token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    srv.wait_event_streams(&token, 1, Duration::from_secs(20))
        .await;
    chat(&srv, &token, "one").await;
    chat(&srv, &token, "two").await;
    let out = tokio::task::spawn_blocking(move || output_within(api, 30))
        .await
        .unwrap_or_else(|e| panic!("{e:?}\nserver log:\n{}", srv.logs()));
    let got = lines(&out);
    assert_eq!(got.len(), 2, "{got:?}");
    for (line, body) in got.iter().zip(["one", "two"]) {
        assert_eq!(line["event"], "chat:message");
        assert_eq!(line["data"]["body"], body);
        assert!(line["id"].as_u64().is_some(), "{line}");
    }

    // A wrong token is an error, not an empty stream.
    let bad = Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .args(["events", "--url", &srv.base, "--token", "nope"])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("401"));

    // From Kafka, from the beginning of the topics: the same two events in envelopes.
    let kafka = Command::new(env!("CARGO_BIN_EXE_torrentedge"))
        .args(["events", "--kafka", "--from-beginning", "--count", "2"])
        .env("KAFKA_BROKERS", broker.bootstrap())
        .env("KAFKA_TOPIC_PREFIX", &prefix)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = tokio::task::spawn_blocking(move || output_within(kafka, 60))
        .await
        .unwrap();
    let got = lines(&out);
    let bodies: Vec<&str> = got
        .iter()
        .map(|l| l["data"]["body"].as_str().unwrap())
        .collect();
    assert_eq!(bodies, vec!["one", "two"]);
    assert!(got
        .iter()
        .all(|l| l["schemaVersion"] == 1 && l["server"] == "cli"));
}
