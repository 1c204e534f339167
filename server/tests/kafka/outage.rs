//! Broker down: the server keeps answering, health says degraded, events wait in the bounded
//! local queue (beyond it they are counted as dropped); broker back: every queued event
//! arrives, once, in order.

use std::time::Duration;

use crate::broker::Broker;
use crate::support::*;
use crate::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_down_then_up_loses_nothing_within_the_queue_bound() {
    let mut broker = Broker::start();
    let prefix = prefix();
    broker.prepare_topics(&prefix);
    let srv = Server::start_with(
        kafka_options(Backend::Sqlite, &broker.bootstrap(), &prefix, "outage")
            .env("KAFKA_QUEUE_MAX", "40"),
    )
    .await;
    let token = srv.user("admin").await;
    wait_health(&srv, &token, "kafka ok", Duration::from_secs(30), |h| {
        h["kafka"]["ok"] == true
    })
    .await;
    let mut kafka = Reader::new(&broker.bootstrap(), &prefix);
    chat(&srv, &token, "before").await;
    kafka
        .until(Duration::from_secs(30), "the first message", |g| {
            !g.is_empty()
        })
        .await;

    broker.down();
    wait_health(&srv, &token, "degraded", Duration::from_secs(30), |h| {
        h["kafka"]["ok"] == false && h["status"] == "degraded"
    })
    .await;
    let (s, h) = health(&srv, &token).await;
    assert_eq!(s, 200, "Kafka down is degraded, not down: {h}");
    assert!(
        h["kafka"]["detail"]
            .as_str()
            .unwrap()
            .contains("unreachable"),
        "{h}"
    );
    assert_eq!(metric(&srv, &token, "torrentedge_kafka_up").await, 0);

    // The server works on; 40 events fit the queue, 5 more do not.
    for i in 0..45 {
        chat(&srv, &token, &format!("down-{i}")).await;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while metric(&srv, &token, "torrentedge_kafka_dropped_total").await < 5 {
        assert!(std::time::Instant::now() < deadline, "nothing dropped");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&srv, &token, "torrentedge_kafka_dropped_total").await,
        5
    );
    assert_eq!(metric(&srv, &token, "torrentedge_kafka_queued").await, 40);
    assert_eq!(
        metric(&srv, &token, "torrentedge_kafka_sent_total").await,
        1
    );

    broker.up();
    wait_health(
        &srv,
        &token,
        "kafka ok again",
        Duration::from_secs(60),
        |h| h["kafka"]["ok"] == true && h["status"] == "ok",
    )
    .await;
    let want: Vec<String> = std::iter::once("before".to_owned())
        .chain((0..40).map(|i| format!("down-{i}")))
        .collect();
    let w = want.clone();
    kafka
        .until(
            Duration::from_secs(60),
            "the 40 queued events",
            move |got| {
                got.iter()
                    .filter(|g| g.env["event"] == "chat:message")
                    .count()
                    >= w.len()
            },
        )
        .await;
    kafka.settle(Duration::from_secs(1)).await;
    assert_eq!(
        kafka.chat_bodies(),
        want,
        "in order, once each, none beyond the bound"
    );
    assert_eq!(
        metric(&srv, &token, "torrentedge_kafka_sent_total").await,
        41
    );
    // The queue gauge follows the next probe.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while metric(&srv, &token, "torrentedge_kafka_queued").await != 0 {
        assert!(std::time::Instant::now() < deadline, "queue never emptied");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        metric(&srv, &token, "torrentedge_kafka_failed_total").await,
        0
    );
    assert!(
        srv.logs().contains("Kafka unreachable") && srv.logs().contains("Kafka reachable again"),
        "the log says so"
    );
}
