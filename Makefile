# TorrentEdge: `make run` sets up a fresh machine and serves the dashboard; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := run

CACHE ?= $(HOME)/.cache/torrentedge
# Build outputs live outside the clone so a fresh clone on a machine that has built before is incremental.
export CARGO_TARGET_DIR ?= $(CACHE)/target
export WASM_TARGET_DIR ?= $(CACHE)/target-wasm
export SITE ?= $(CACHE)/site
# server/build.rs embeds $(SITE)/pkg into the binary.
export TORRENTEDGE_SITE_DIR := $(SITE)
RELEASE_BIN := $(CARGO_TARGET_DIR)/release/torrentedge
DEBUG_BIN := $(CARGO_TARGET_DIR)/debug/torrentedge
# Tests run in a private network namespace with only loopback: nothing they start can reach out.
NETNS := scripts/in-netns.sh

.PHONY: setup wasm build run test lint test-rust test-e2e bench fuzz bench-tracker bench-api
.PHONY: test-kafka-mock test-kafka bench-kafka test-docker test-mongo test-mongo-smoke test-nostr
.PHONY: rqbit test-rqbit

setup:
	@scripts/setup.sh

wasm: setup
	@scripts/build-wasm.sh

## The self-contained release binary (dashboard embedded).
build: wasm
	cargo build --release -p server
	@echo "built $(RELEASE_BIN)"

## Install what is missing, build, and serve the dashboard on http://127.0.0.1:3000 (data in ./data).
run: build
	$(RELEASE_BIN) serve

lint:
	cargo fmt --all --check
	cargo clippy --all-targets -- -D warnings
	cargo clippy -p server --features kafka --all-targets -- -D warnings
	cargo clippy -p server --features mongo --all-targets -- -D warnings

test-rust:
	cargo test --no-run
	$(NETNS) cargo test --offline
	cargo test --offline -p fuzz

test-e2e: wasm
	cargo build -p server
	$(NETNS) env TORRENTEDGE_BIN=$(DEBUG_BIN) npm --prefix end2end test

## Every test: formatting, clippy, unit and integration tests (real peers), browser tests.
test: setup lint test-rust test-kafka-mock test-e2e

## Loopback swarm benchmark (1 GiB from a libtorrent seeder) and cargo benches.
bench: build
	$(NETNS) /usr/bin/python3 bench/swarm.py --bin $(RELEASE_BIN)

## Built-in tracker: HTTP announces/s with wrk against the release binary (loopback, netns),
## then the swarm store's memory per 100,000 peers (docs/benchmarks.md).
bench-tracker:
	cargo build --release -p server
	bench/tracker.sh $(RELEASE_BIN) 10 64 2
	cargo test -p server --bin torrentedge bench_memory_per_100k_peers -- --ignored --nocapture

## The REST API under load (wrk, 200 clients listing, adding and removing torrents for 60 s;
## docs/benchmarks.md).
bench-api:
	cargo build --release -p server
	bench/api_load.sh $(RELEASE_BIN) 60 200 2

## Every fuzz target for FUZZ_SECONDS each, or FUZZ_RUNS executions each; FUZZ_SANITIZER=none
## skips AddressSanitizer (cargo-fuzz; docs/security.md). `cargo test -p fuzz`
## (part of test-rust) runs the seeds and saved crash inputs without it.
FUZZ_SECONDS ?= 60
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

## The Kafka adapter's tests (docs/kafka.md) against librdkafka's mock broker (part of `make test`).
test-kafka-mock:
	cargo test -p server --features kafka --test kafka --no-run
	$(NETNS) cargo test --offline -p server --features kafka --test kafka

## The same tests against tansu, a real Kafka-protocol broker (built once into $(CACHE)/tansu).
TANSU := $(CACHE)/tansu/bin/tansu
$(TANSU):
	cargo install tansu --locked --features dynostore,libsql --root $(CACHE)/tansu
test-kafka: $(TANSU)
	cargo test -p server --features kafka --test kafka --no-run
	$(NETNS) env KAFKA_TEST_BROKER=tansu TANSU=$(TANSU) cargo test --offline -p server --features kafka --test kafka

## Nostr against a real relay: nostr-rs-relay from crates.io (built once into
## $(CACHE)/nostr-relay; its build needs protoc, Debian's protobuf-compiler), then the
## `#[ignore]`d real-relay tests of server/tests/api/nostr.rs (docs/server.md, "Nostr").
NOSTR_RELAY := $(CACHE)/nostr-relay/bin/nostr-rs-relay
$(NOSTR_RELAY):
	command -v protoc >/dev/null || $$([ "$$(id -u)" -eq 0 ] || echo sudo) apt-get install -y --no-install-recommends protobuf-compiler
	CARGO_TARGET_DIR=$(CACHE)/nostr-relay-build cargo install nostr-rs-relay --root $(CACHE)/nostr-relay
test-nostr: $(NOSTR_RELAY)
	cargo test -p server --test api --no-run
	$(NETNS) env NOSTR_RELAY_BIN=$(NOSTR_RELAY) cargo test --offline -p server --test api nostr:: -- --include-ignored

## uTP against rqbit, a second uTP implementation beside libtorrent (engine/tests/rqbit.rs):
## rqbit 9 from crates.io, built once into $(CACHE)/rqbit without its web UI, PostgreSQL and
## Prometheus features (about 20 min on 2 shared cores, ~700 MB of build files, removed after;
## 2026-12-02), then the tests. `make test` does not build it: where the binary is absent the
## tests print SKIPPED and pass, where it is (this target ran once) `make test` runs them too.
RQBIT := $(CACHE)/rqbit/bin/rqbit
$(RQBIT):
	CARGO_TARGET_DIR=$(CACHE)/rqbit-build nice -n 10 cargo install rqbit --locked --no-default-features --features default-tls --root $(CACHE)/rqbit
	rm -rf $(CACHE)/rqbit-build
rqbit: $(RQBIT)
test-rqbit: $(RQBIT)
	cargo test -p engine --test rqbit --no-run
	$(NETNS) env RQBIT_BIN=$(RQBIT) cargo test --offline -p engine --test rqbit

## Kafka producer throughput (docs/benchmarks.md); KAFKA_BENCH_BROKERS=host:port adds a real broker.
bench-kafka:
	$(NETNS) cargo test --release -p server --features kafka --bin torrentedge kafka::bench -- --ignored --nocapture

## Docker image and the compose stack's nginx image, built and health-checked (skipped, saying why, without a daemon).
test-docker: build
	BIN=$(RELEASE_BIN) deploy/docker-test.sh

## The MongoDB store (`--features mongo`, docs/server.md): the API suite's tests (names ending
## in `::mongo`) and the store's conformance tests, against an in-memory MongoDB-wire server
## (scripts/mongo-test.sh) started and stopped here and selected by TE_TEST_MONGO_URL; point
## TE_TEST_MONGO_URL at a real mongod to use that instead.
MONGO := scripts/mongo-test.sh
test-mongo:
	$(MONGO) install
	cargo test -p server --features mongo --bin torrentedge --test api --no-run
	$(NETNS) sh -c 'url=$${TE_TEST_MONGO_URL:-$$($(MONGO) start)} || exit 1; \
	  TE_TEST_MONGO_URL=$$url cargo test --offline -p server --features mongo --bin torrentedge --test api -- ::mongo; \
	  rc=$$?; $(MONGO) stop; exit $$rc'

## Only the store's conformance tests against the MongoDB-wire server (seconds to run; the
## build is the cost: `mongodb` turns on tokio and serde_json features, so most crates are
## built a second time). `make test` checks the feature with clippy (lint) only.
test-mongo-smoke:
	$(MONGO) install
	cargo test -p server --features mongo --bin torrentedge --no-run
	$(NETNS) sh -c 'url=$$($(MONGO) start) || exit 1; \
	  TE_TEST_MONGO_URL=$$url cargo test --offline -p server --features mongo --bin torrentedge -- ::mongo; \
	  rc=$$?; $(MONGO) stop; exit $$rc'
