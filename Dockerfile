# TorrentEdge in one small image: the dashboard's WASM bundle and the release binary are built
# in a Debian stage (Debian's rustc-web toolchain, as scripts/build-wasm.sh uses), and the
# runtime image holds only the binary (dashboard embedded), running as a non-root user.
#
#   docker build -t torrentedge .                                # default features
#   docker build --build-arg FEATURES=kafka -t torrentedge .     # with the Kafka adapter
#   docker build --build-arg BIN_STAGE=prebuilt -t torrentedge . # ship ./.docker/torrentedge
#                                                                #   (a binary built on the host)
# The base defaults to debian:bookworm-slim; where no registry is reachable, make it locally
# (see docs/deploy.md: debootstrap + docker import).
ARG BASE=debian:bookworm-slim
ARG BIN_STAGE=build

FROM ${BASE} AS build
ARG FEATURES=""
ENV DEBIAN_FRONTEND=noninteractive CARGO_HOME=/usr/local/cargo PATH=/usr/local/cargo/bin:$PATH
RUN apt-get update \
 && apt-get install -y --no-install-recommends rustc-web cargo-web rust-web-src lld-22 \
      ca-certificates build-essential pkg-config cmake libssl-dev zlib1g-dev libcurl4-openssl-dev nodejs npm \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
ENV WASM_TARGET_DIR=/target/wasm SITE=/target/site TORRENTEDGE_SITE_DIR=/target/site \
    CARGO_TARGET_DIR=/target/host
# wasm-bindgen-cli at exactly Cargo.lock's version; binaryen (wasm-opt) from tools/.
RUN want=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock) \
 && /usr/bin/cargo install --locked wasm-bindgen-cli --version "$want" --root /usr/local/cargo \
 && mkdir -p /root/.cargo/bin && ln -sf /usr/local/cargo/bin/wasm-bindgen /root/.cargo/bin/wasm-bindgen \
 && (cd tools && npm ci --no-audit --no-fund --ignore-scripts)
RUN scripts/build-wasm.sh \
 && /usr/bin/cargo build --release --locked -p server --features "$FEATURES" \
 && install -D /target/host/release/torrentedge /out/torrentedge

# A binary built outside (e.g. `make build`), copied into the build context as .docker/torrentedge.
FROM ${BASE} AS prebuilt
COPY .docker/torrentedge /out/torrentedge

FROM ${BIN_STAGE} AS bin

FROM ${BASE} AS runtime
ARG FEATURES=""
# libssl3 only for the Kafka adapter (librdkafka's TLS); nothing else beyond the base.
RUN case ",$FEATURES," in *,kafka,*) \
      apt-get update && apt-get install -y --no-install-recommends libssl3 ca-certificates \
      && rm -rf /var/lib/apt/lists/* ;; esac \
 && useradd --system --uid 10001 --user-group --home-dir /data --no-create-home torrentedge \
 && mkdir -p /data && chown torrentedge:torrentedge /data
COPY --from=bin /out/torrentedge /usr/local/bin/torrentedge
USER torrentedge
WORKDIR /data
ENV DATA_DIR=/data BIND=0.0.0.0 PORT=3000 PEER_PORT=6881 PEER_BIND=0.0.0.0
VOLUME /data
EXPOSE 3000 6881
# 200 from /api/health: engine, database and peer listener fine (Kafka down still answers 200).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD bash -c 'exec 3<>/dev/tcp/127.0.0.1/${PORT:-3000} && printf "GET /api/health HTTP/1.0\r\nHost: localhost\r\n\r\n" >&3 && head -n1 <&3 | grep -q " 200 "'
ENTRYPOINT ["/usr/local/bin/torrentedge"]
CMD ["serve"]
