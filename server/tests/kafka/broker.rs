//! The Kafka the tests run against. By default librdkafka's MockCluster: a MOCK broker
//! running in this test process (real Kafka protocol on a loopback port, real client code in
//! the server, but librdkafka's own implementation of the broker side). With
//! `KAFKA_TEST_BROKER=tansu` (`make test-kafka`), a real Kafka-protocol broker: the `tansu`
//! binary at `$TANSU` (default ~/.cache/torrentedge/tansu/bin/tansu), SQLite-backed so a
//! restart keeps its topics and messages.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

pub enum Broker {
    Mock(MockCluster<'static, DefaultProducerContext>),
    Tansu {
        child: Option<Child>,
        port: u16,
        dir: tempfile::TempDir,
    },
}

impl Broker {
    pub fn start() -> Broker {
        match std::env::var("KAFKA_TEST_BROKER").as_deref() {
            Ok("tansu") => {
                let dir = tempfile::tempdir().unwrap();
                let port = TcpListener::bind("127.0.0.1:0")
                    .unwrap()
                    .local_addr()
                    .unwrap()
                    .port();
                let mut b = Broker::Tansu {
                    child: None,
                    port,
                    dir,
                };
                b.up();
                eprintln!("kafka tests: real broker tansu on 127.0.0.1:{port}");
                b
            }
            _ => {
                eprintln!(
                    "kafka tests: librdkafka's MockCluster (a mock broker, in-process); \
                     `make test-kafka` runs them against the real tansu broker"
                );
                Broker::Mock(MockCluster::new(1).expect("mock cluster"))
            }
        }
    }

    pub fn bootstrap(&self) -> String {
        match self {
            Broker::Mock(m) => m.bootstrap_servers(),
            Broker::Tansu { port, .. } => format!("127.0.0.1:{port}"),
        }
    }

    /// The mock broker cannot create topics through the admin API, so the test makes them; a
    /// real broker gets them from the server at its start.
    pub fn prepare_topics(&self, prefix: &str) {
        if let Broker::Mock(m) = self {
            for t in ["torrents", "chat", "notifications"] {
                m.create_topic(&format!("{prefix}{t}"), 3, 1)
                    .expect("create mock topic");
            }
        }
    }

    pub fn down(&mut self) {
        match self {
            Broker::Mock(m) => m.broker_down(1).expect("mock broker down"),
            Broker::Tansu { child, .. } => {
                if let Some(mut c) = child.take() {
                    let _ = c.kill();
                    let _ = c.wait();
                }
            }
        }
    }

    pub fn up(&mut self) {
        match self {
            Broker::Mock(m) => m.broker_up(1).expect("mock broker up"),
            Broker::Tansu { child, port, dir } => {
                let bin = std::env::var_os("TANSU")
                    .map(PathBuf::from)
                    .unwrap_or_else(|| {
                        PathBuf::from(std::env::var("HOME").unwrap())
                            .join(".cache/torrentedge/tansu/bin/tansu")
                    });
                let url = format!("tcp://127.0.0.1:{port}");
                // tansu 0.6 reads `sqlite://PATH` relative to its working directory, even
                // when PATH starts with `/`: run it in the temporary folder.
                let storage = "sqlite://tansu.db";
                let c = Command::new(&bin)
                    .current_dir(dir.path())
                    .args(["broker", "--cluster-id", "te-test", "--listener-url", &url])
                    .args([
                        "--advertised-listener-url",
                        &url,
                        "--storage-engine",
                        storage,
                    ])
                    .env("RUST_LOG", "warn")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
                *child = Some(c);
                let deadline = Instant::now() + Duration::from_secs(30);
                while std::net::TcpStream::connect(("127.0.0.1", *port)).is_err() {
                    assert!(Instant::now() < deadline, "tansu did not start");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Broker::Tansu { child, .. } = self {
            if let Some(mut c) = child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}
