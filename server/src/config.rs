//! `torrentedge serve` settings: command-line options, environment variables and an optional
//! TOML file, in that order of precedence, resolved once into a [`Config`].

use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Downloads at once unless configured (qBittorrent's default too); the rest queue.
pub const DEFAULT_MAX_ACTIVE: u32 = 3;

/// Options of `torrentedge serve`. Every option can also be set by the environment variable
/// shown, or by the key of the same name (with `_` instead of `-`) in the `--config` file.
#[derive(clap::Args, Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "snake_case")]
#[command(after_long_help = AFTER_HELP)]
pub struct ServeArgs {
    /// TOML file with any of these settings, e.g. `download_path = "/srv/torrents"`.
    /// Options and environment variables override it.
    #[arg(long, env = "TORRENTEDGE_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// HTTP port for the dashboard and the API [default: 3000; 0 picks a free port].
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,
    /// Address the HTTP server binds to [default: 127.0.0.1].
    #[arg(long, env = "BIND")]
    pub bind: Option<IpAddr>,

    /// Folder for the database, the generated JWT secret and default downloads [default: ./data].
    #[arg(long, env = "DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// `sqlite://FILE` or `postgres://USER@HOST:PORT/DB` [default: SQLite file DATA_DIR/torrentedge.db].
    #[arg(long, env = "DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
    /// Secret that signs login tokens (at least 32 characters). Without it, a random secret is
    /// generated once and kept in DATA_DIR/jwt-secret. There is no built-in default.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// How long a login token stays valid, in seconds [default: 86400].
    #[arg(long, env = "TOKEN_TTL", value_name = "SECS")]
    pub token_ttl: Option<u64>,
    /// Whether anyone may register after the first user (who becomes admin); when false only
    /// an admin can create users [default: true].
    #[arg(long, env = "ALLOW_REGISTRATION", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_registration: Option<bool>,
    /// Login attempts allowed per client address per minute, 0 = no limit [default: 10].
    #[arg(long, env = "LOGIN_RATE_LIMIT", value_name = "N")]
    pub login_rate_limit: Option<u32>,
    /// Chat messages each user may post per 5 seconds, 0 = no limit [default: 5].
    #[arg(long, env = "CHAT_RATE_LIMIT", value_name = "N")]
    pub chat_rate_limit: Option<u32>,
    /// Mark session cookies `Secure` (serve over HTTPS) [default: false].
    #[arg(long, env = "COOKIE_SECURE", value_parser = clap::builder::BoolishValueParser::new())]
    pub cookie_secure: Option<bool>,
    /// Bearer token that Prometheus may use for /metrics (admins' login tokens always work).
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Root of all save folders. An admin may save anywhere below it; every other user below
    /// DOWNLOAD_PATH/<username> [default: DATA_DIR/downloads].
    #[arg(long, env = "DOWNLOAD_PATH", value_name = "DIR")]
    pub download_path: Option<PathBuf>,
    /// Largest .torrent upload in bytes; larger is refused with 413 [default: 8388608].
    #[arg(long, env = "MAX_TORRENT_SIZE", value_name = "BYTES")]
    pub max_torrent_size: Option<usize>,
    /// Largest upload to `POST /api/torrents/create`, in bytes [default: 1073741824].
    #[arg(long, env = "MAX_CREATE_UPLOAD", value_name = "BYTES")]
    pub max_create_upload: Option<u64>,

    /// Port of the BitTorrent peer listener [default: 6881; 0 picks a free port].
    #[arg(long, env = "PEER_PORT")]
    pub peer_port: Option<u16>,
    /// Address the peer listener binds to [default: 0.0.0.0].
    #[arg(long, env = "PEER_BIND")]
    pub peer_bind: Option<IpAddr>,
    /// Peer connections for the whole engine [default: 500].
    #[arg(long, env = "MAX_PEER_CONNECTIONS", value_name = "N")]
    pub max_peer_connections: Option<usize>,
    /// Peer connections per torrent [default: 50].
    #[arg(long, env = "MAX_PEERS_PER_TORRENT", value_name = "N")]
    pub max_peers_per_torrent: Option<usize>,
    /// Peer connections one remote address may hold [default: 8].
    #[arg(long, env = "MAX_PEERS_PER_IP", value_name = "N")]
    pub max_peers_per_ip: Option<usize>,
    /// Peers each torrent uploads to at once, the optimistic unchoke included [default: 8].
    #[arg(long, env = "UPLOAD_SLOTS_PER_TORRENT", value_name = "N")]
    pub upload_slots_per_torrent: Option<usize>,
    /// Peers all torrents together upload to at once, 0 = no cap [default: 32].
    #[arg(long, env = "UPLOAD_SLOTS", value_name = "N")]
    pub upload_slots: Option<usize>,
    /// Torrents downloading at once, 0 = no limit [default: 3]. The others wait, shown as
    /// `queued`: higher priority first, then in the order they were added. Seeding torrents
    /// do not count.
    #[arg(long, env = "MAX_CONCURRENT_TORRENTS", value_name = "N")]
    pub max_concurrent_torrents: Option<u32>,
    /// Upload limit of all torrents together, bytes per second, 0 = none [default: 0].
    /// Until changed through `PATCH /api/settings` (then the stored value wins).
    #[arg(long, env = "UPLOAD_LIMIT", value_name = "BYTES_PER_SEC")]
    pub upload_limit: Option<u64>,
    /// Download limit of all torrents together, bytes per second, 0 = none [default: 0].
    /// Until changed through `PATCH /api/settings` (then the stored value wins).
    #[arg(long, env = "DOWNLOAD_LIMIT", value_name = "BYTES_PER_SEC")]
    pub download_limit: Option<u64>,
    /// Alternative ("turtle") upload limit, bytes per second, 0 = none [default: 0].
    #[arg(long, env = "ALT_UPLOAD_LIMIT", value_name = "BYTES_PER_SEC")]
    pub alt_upload_limit: Option<u64>,
    /// Alternative ("turtle") download limit, bytes per second, 0 = none [default: 0].
    #[arg(long, env = "ALT_DOWNLOAD_LIMIT", value_name = "BYTES_PER_SEC")]
    pub alt_download_limit: Option<u64>,
    /// When the alternative limits switch on by themselves, server local time:
    /// `DAYS HH:MM-HH:MM`, e.g. `mon-fri 08:00-18:00` or `every 22:00-06:00` [default: none].
    #[arg(long, env = "ALT_SCHEDULE", value_name = "SCHEDULE")]
    pub alt_schedule: Option<String>,

    /// Events kept for clients that reconnect with Last-Event-ID [default: 1024].
    #[arg(long, env = "EVENT_BUFFER", value_name = "N")]
    pub event_buffer: Option<usize>,
    /// Shortest interval between two progress events of one torrent, in milliseconds [default: 500].
    #[arg(long, env = "PROGRESS_INTERVAL_MS", value_name = "MS")]
    pub progress_interval_ms: Option<u64>,
    /// How often statistics are sampled for charts and totals are saved, in seconds [default: 10].
    #[arg(long, env = "STATS_INTERVAL", value_name = "SECS")]
    pub stats_interval: Option<u64>,
    /// How long statistics history is kept, in hours [default: 168].
    #[arg(long, env = "STATS_RETENTION_HOURS", value_name = "HOURS")]
    pub stats_retention_hours: Option<u64>,

    /// Reverse proxies whose `X-Forwarded-For` names the client (for rate limits):
    /// comma-separated IPs and CIDR blocks, e.g. `127.0.0.1,10.0.0.0/8` [default: none].
    #[arg(long, env = "TRUSTED_PROXIES", value_name = "IPS")]
    pub trusted_proxies: Option<String>,
    /// Registrations allowed per client address per hour, 0 = no limit [default: 20].
    #[arg(long, env = "REGISTER_RATE_LIMIT", value_name = "N")]
    pub register_rate_limit: Option<u32>,
    /// Contact trackers on loopback and private addresses at any path, and follow redirects
    /// into them (a LAN tracker). Off, such a tracker must use the path /announce [default: false].
    #[arg(long, env = "ALLOW_LOCAL_TRACKERS", value_parser = clap::builder::BoolishValueParser::new())]
    pub allow_local_trackers: Option<bool>,
    /// HTTP connections served at once; kept below the descriptors the engine needs
    /// [default: 1024].
    #[arg(long, env = "MAX_HTTP_CONNECTIONS", value_name = "N")]
    pub max_http_connections: Option<usize>,
    /// Seconds a client has to send a request's headers [default: 10].
    #[arg(long, env = "HEADER_TIMEOUT", value_name = "SECS")]
    pub header_timeout: Option<u64>,
    /// Seconds a request may take until its response starts (uploads to
    /// /api/torrents/create excepted) [default: 60].
    #[arg(long, env = "REQUEST_TIMEOUT", value_name = "SECS")]
    pub request_timeout: Option<u64>,
    /// Torrents each non-admin user may hold, 0 = no limit [default: 0].
    #[arg(long, env = "MAX_TORRENTS_PER_USER", value_name = "N")]
    pub max_torrents_per_user: Option<u64>,
    /// Bytes each non-admin user's torrents may add up to (complete size), 0 = no limit
    /// [default: 0].
    #[arg(long, env = "MAX_DISK_PER_USER", value_name = "BYTES")]
    pub max_disk_per_user: Option<u64>,

    /// Run a BEP 5 DHT node, so torrents and magnets find peers without trackers
    /// (`--dht=false` or `--no-dht` turns it off) [default: true].
    #[arg(long, env = "DHT", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub dht: Option<bool>,
    /// No DHT node, whatever DHT says.
    #[arg(long = "no-dht")]
    #[serde(skip)]
    pub no_dht: bool,
    /// UDP port of the DHT node [default: the peer port when free, else any].
    #[arg(long, env = "DHT_PORT")]
    pub dht_port: Option<u16>,
    /// DHT node to join through, `host:port` (repeatable, or comma-separated; replaces the
    /// default routers)
    /// [default: router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881].
    #[arg(
        long,
        env = "DHT_BOOTSTRAP",
        value_name = "HOST:PORT",
        value_delimiter = ','
    )]
    pub dht_bootstrap: Option<Vec<String>>,

    /// Exchange peer lists with peers (BEP 11 PEX; never for private torrents)
    /// (`--pex=false` or `--no-pex` turns it off) [default: true].
    #[arg(long, env = "PEX", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub pex: Option<bool>,
    /// No peer exchange, whatever PEX says.
    #[arg(long = "no-pex")]
    #[serde(skip)]
    pub no_pex: bool,

    /// IPv6 listener and local service discovery (`--ipv6`, `--lsd`; see the network module).
    #[command(flatten)]
    #[serde(skip)]
    pub network: crate::network::NetworkArgs,
    /// `utp = false` in the `--config` file: TCP only.
    #[arg(skip)]
    pub utp: Option<bool>,
    /// `ipv6 = false` in the `--config` file: IPv4 only.
    #[arg(skip)]
    pub ipv6: Option<bool>,
    /// `lsd = false` in the `--config` file: no local service discovery.
    #[arg(skip)]
    pub lsd: Option<bool>,
    /// `upnp = false` in the `--config` file: no port mapping.
    #[arg(skip)]
    pub upnp: Option<bool>,

    /// Run the built-in BitTorrent tracker: `GET /announce` and `/scrape` on the HTTP port
    /// [default: false].
    #[arg(long, env = "TRACKER", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub tracker: Option<bool>,
    /// UDP port of the tracker (BEP 15), on the HTTP bind address; 0 picks a free port
    /// [default: none, HTTP only].
    #[arg(long, env = "TRACKER_UDP_PORT")]
    pub tracker_udp_port: Option<u16>,
    /// `private`: only torrents on this server; `open`: any info-hash [default: private].
    #[arg(long, env = "TRACKER_MODE", value_name = "private|open")]
    pub tracker_mode: Option<String>,
    /// Seconds clients are asked to wait between announces; a peer silent for twice as long
    /// is dropped [default: 1800].
    #[arg(long, env = "TRACKER_INTERVAL", value_name = "SECS")]
    pub tracker_interval: Option<u64>,
    /// Refuse announces without a user's passkey (`/announce?passkey=KEY`) [default: false].
    #[arg(long, env = "TRACKER_PASSKEYS", value_parser = clap::builder::BoolishValueParser::new())]
    pub tracker_passkeys: Option<bool>,
    /// Peers remembered per torrent [default: 1000].
    #[arg(long, env = "TRACKER_MAX_PEERS", value_name = "N")]
    pub tracker_max_peers: Option<usize>,
    /// Torrents tracked at once [default: 100000].
    #[arg(long, env = "TRACKER_MAX_TORRENTS", value_name = "N")]
    pub tracker_max_torrents: Option<usize>,
    /// Public base URL of this server (`https://torrents.example.org`) for the URLs put in
    /// created torrents: announce and web seed [default: http:// and the request's Host].
    #[arg(long, env = "PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
    /// Peer connection encryption (MSE/PE): `disabled` (plaintext only), `enabled` (both;
    /// plaintext first when dialing) or `required` (RC4 only) [default: enabled]. Until
    /// changed through `PATCH /api/settings` (then the stored value wins).
    #[arg(long, env = "ENCRYPTION", value_name = "POLICY")]
    pub encryption: Option<engine::config::Encryption>,

    /// A watch folder for the admin (the first user): `.torrent` and `.magnet` files dropped
    /// there are added.
    #[arg(long = "watch", env = "WATCH_DIR", value_name = "DIR")]
    pub watch_dir: Option<PathBuf>,
    /// Colon-separated folders below which users may share folders [default: none, sharing
    /// off].
    #[arg(long, env = "SHARE_ROOTS", value_name = "DIR:DIR")]
    pub share_roots: Option<String>,
    /// Seconds between looks at watch and shared folders besides inotify events [default: 60].
    #[arg(long, env = "FOLDER_RESCAN", value_name = "SECS")]
    pub folder_rescan: Option<u64>,
    /// Federated TorrentEdge servers that `/api/search` also asks: `URL|TOKEN,URL|TOKEN`
    /// (each token is that server's FEDERATION_TOKEN) [default: none].
    #[arg(
        long,
        env = "FEDERATION_PEERS",
        value_name = "LIST",
        hide_env_values = true
    )]
    pub federation_peers: Option<String>,
    /// Token other servers must send to read this server's public catalog
    /// (`/federation/catalog`) [default: none, the catalog is off].
    #[arg(long, env = "FEDERATION_TOKEN", hide_env_values = true)]
    pub federation_token: Option<String>,
    /// Milliseconds a federated server has to answer a search [default: 3000].
    #[arg(long, env = "FEDERATION_TIMEOUT_MS", value_name = "MS")]
    pub federation_timeout_ms: Option<u64>,
    /// Catalog requests per client address per minute, 0 = no limit [default: 60].
    #[arg(long, env = "FEDERATION_RATE_LIMIT", value_name = "N")]
    pub federation_rate_limit: Option<u32>,
    /// Nostr relays (comma-separated ws:// or wss:// URLs): public torrents are published
    /// to them as NIP-35 events and `/api/search` searches them [default: none, Nostr off].
    #[arg(long, env = "NOSTR_RELAYS", value_name = "URLS")]
    pub nostr_relays: Option<String>,
}

/// The DHT options of `download` and `seed` (the same as `serve`'s).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct DhtArgs {
    /// Run a BEP 5 DHT node to find peers without trackers [default: true].
    #[arg(long, env = "DHT", value_parser = clap::builder::BoolishValueParser::new(),
          num_args = 0..=1, require_equals = true, default_missing_value = "true")]
    pub dht: Option<bool>,
    /// No DHT node, whatever DHT says.
    #[arg(long = "no-dht")]
    pub no_dht: bool,
    /// UDP port of the DHT node [default: the peer port when free, else any].
    #[arg(long, env = "DHT_PORT")]
    pub dht_port: Option<u16>,
    /// DHT node to join through, `host:port` (repeatable, or comma-separated)
    /// [default: the public routers].
    #[arg(
        long,
        env = "DHT_BOOTSTRAP",
        value_name = "HOST:PORT",
        value_delimiter = ','
    )]
    pub dht_bootstrap: Option<Vec<String>>,
    /// No peer exchange (BEP 11).
    #[arg(long = "no-pex")]
    pub no_pex: bool,
    /// Peer connection encryption (MSE/PE): `disabled`, `enabled` or `required`
    /// [default: enabled].
    #[arg(long, env = "ENCRYPTION", value_name = "POLICY")]
    pub encryption: Option<engine::config::Encryption>,
    #[command(flatten)]
    pub network: crate::network::NetworkArgs,
}

impl DhtArgs {
    pub fn resolve(&self) -> Result<Option<DhtSettings>, ConfigError> {
        dht_settings(
            self.dht,
            self.no_dht,
            self.dht_port,
            self.dht_bootstrap.as_deref(),
        )
    }
}

/// The public routers a DHT node joins through unless told otherwise.
pub const DEFAULT_DHT_BOOTSTRAP: &str =
    "router.bittorrent.com:6881,dht.transmissionbt.com:6881,router.utorrent.com:6881";

/// A DHT node to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DhtSettings {
    /// UDP port; `None`: the peer port when free.
    pub port: Option<u16>,
    /// `host:port` names to join through.
    pub bootstrap: Vec<String>,
}

impl DhtSettings {
    /// The engine's node config, bound beside the peer listener, starting from `saved`.
    pub fn engine_config(
        &self,
        peer_bind: IpAddr,
        saved: Option<Vec<u8>>,
    ) -> engine::dht::DhtConfig {
        let mut c = engine::dht::DhtConfig::new(std::net::SocketAddr::new(
            peer_bind,
            self.port.unwrap_or(0),
        ));
        c.bootstrap = self.bootstrap.clone();
        c.saved_table = saved;
        c
    }
}

/// Resolves the DHT options: off by `--no-dht` or `DHT=false`, else on with the given or
/// default bootstrap list (each entry must be `host:port`).
pub fn dht_settings(
    on: Option<bool>,
    no_dht: bool,
    port: Option<u16>,
    bootstrap: Option<&[String]>,
) -> Result<Option<DhtSettings>, ConfigError> {
    if no_dht || on == Some(false) {
        return Ok(None);
    }
    let default = [DEFAULT_DHT_BOOTSTRAP.to_owned()];
    let mut names = Vec::new();
    let given = bootstrap.unwrap_or(&default).iter();
    for name in given
        .flat_map(|l| l.split(','))
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        let ok = name
            .rsplit_once(':')
            .is_some_and(|(host, p)| !host.is_empty() && p.parse::<u16>().is_ok_and(|p| p != 0));
        if !ok {
            return Err(ConfigError::DhtBootstrap(name.to_owned()));
        }
        names.push(name.to_owned());
    }
    Ok(Some(DhtSettings {
        port,
        bootstrap: names,
    }))
}

const AFTER_HELP: &str = "\
Priority (`PUT /api/torrents/{infoHash}/priority`) orders the queue of MAX_CONCURRENT_TORRENTS.
UPLOAD_LIMIT, DOWNLOAD_LIMIT, ALT_* give the speed settings until an admin changes them
through PATCH /api/settings; the stored settings win after that.";

/// Resolved settings.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub jwt_secret: Option<String>,
    pub token_ttl: Duration,
    pub allow_registration: bool,
    pub login_rate_limit: u32,
    pub chat_rate_limit: u32,
    pub cookie_secure: bool,
    pub metrics_token: Option<String>,
    pub download_path: PathBuf,
    pub max_torrent_size: usize,
    pub max_create_upload: u64,
    pub peer_port: u16,
    pub peer_bind: IpAddr,
    pub max_peer_connections: usize,
    pub max_peers_per_torrent: usize,
    pub max_peers_per_ip: usize,
    pub upload_slots_per_torrent: usize,
    pub upload_slots: usize,
    pub max_concurrent_torrents: u32,
    pub upload_limit: u64,
    pub download_limit: u64,
    pub alt_upload_limit: u64,
    pub alt_download_limit: u64,
    /// `None`: no schedule.
    pub alt_schedule: Option<app::types::AltSchedule>,
    pub event_buffer: usize,
    pub progress_interval: Duration,
    pub stats_interval: Duration,
    pub stats_retention: Duration,
    pub trusted_proxies: Vec<crate::auth::client_ip::IpNet>,
    pub register_rate_limit: u32,
    pub allow_local_trackers: bool,
    pub max_http_connections: usize,
    pub header_timeout: Duration,
    pub request_timeout: Duration,
    pub max_torrents_per_user: u64,
    pub max_disk_per_user: u64,
    /// `None`: no DHT node.
    pub dht: Option<DhtSettings>,
    /// Peer exchange (BEP 11) with peers of public torrents.
    pub pex: bool,
    /// `None`: no built-in tracker.
    pub tracker: Option<crate::tracker::Settings>,
    /// `PUBLIC_URL` without a trailing `/`: the base of URLs put in created torrents (the
    /// built-in tracker's announce URL, the web seed); else the request's `Host`.
    pub public_url: Option<String>,
    /// Peer connection encryption at start (the stored setting may replace it).
    pub encryption: engine::config::Encryption,
    /// IPv6 listener and local discovery (the stored settings replace these at start).
    pub network: crate::network::Network,
    /// Watch and shared folders.
    pub folders: crate::folders::Settings,
    /// Search across servers: peers, this server's token, timeout, catalog rate limit.
    pub federation: crate::search::federation::Settings,
    /// Nostr relays; empty: Nostr is off.
    pub nostr_relays: Vec<url::Url>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("config file {0}: {1}")]
    Parse(PathBuf, toml::de::Error),
    #[error("JWT_SECRET must be at least 32 characters")]
    WeakSecret,
    #[error("{0} must be greater than zero")]
    Zero(&'static str),
    #[error("TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[from] crate::auth::client_ip::BadNet),
    #[error("DHT_BOOTSTRAP: {0:?} is not host:port")]
    DhtBootstrap(String),
    #[error("TRACKER_MODE must be private or open, not {0:?}")]
    TrackerMode(String),
    #[error("PUBLIC_URL must be an http:// or https:// URL, not {0:?}")]
    PublicUrl(String),
    #[error("ALT_SCHEDULE: {0}")]
    AltSchedule(#[from] crate::speed::schedule::ScheduleError),
    #[error("FEDERATION_PEERS: {0}")]
    Federation(String),
    #[error("NOSTR_RELAYS: {0}")]
    NostrRelays(String),
}

impl Config {
    /// Merges options/environment (already in `args`) over the config file over defaults.
    pub fn load(args: ServeArgs) -> Result<Config, ConfigError> {
        let file = match &args.config {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| ConfigError::Read(path.clone(), e))?;
                toml::from_str::<ServeArgs>(&text)
                    .map_err(|e| ConfigError::Parse(path.clone(), e))?
            }
            None => ServeArgs::default(),
        };
        Self::resolve(args, file)
    }

    fn resolve(a: ServeArgs, f: ServeArgs) -> Result<Config, ConfigError> {
        let tracker = tracker_settings(&a, &f)?;
        let federation = federation_settings(&a, &f)?;
        let nostr_relays = match a.nostr_relays.as_ref().or(f.nostr_relays.as_ref()) {
            Some(list) => crate::nostr::parse_relays(list).map_err(ConfigError::NostrRelays)?,
            None => Vec::new(),
        };
        let public_url = a
            .public_url
            .as_ref()
            .or(f.public_url.as_ref())
            .filter(|u| !u.trim().is_empty())
            .map(|u| {
                let u = u.trim().trim_end_matches('/');
                match url::Url::parse(u) {
                    Ok(p) if matches!(p.scheme(), "http" | "https") && p.host().is_some() => {
                        Ok(u.to_owned())
                    }
                    _ => Err(ConfigError::PublicUrl(u.to_owned())),
                }
            })
            .transpose()?;

        let data_dir = a.data_dir.or(f.data_dir).unwrap_or_else(|| "data".into());
        let database_url = a
            .database_url
            .or(f.database_url)
            .unwrap_or_else(|| sqlite_url(&data_dir.join("torrentedge.db")));
        let jwt_secret = a.jwt_secret.or(f.jwt_secret).filter(|s| !s.is_empty());
        if jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            return Err(ConfigError::WeakSecret);
        }
        let download_path = a
            .download_path
            .or(f.download_path)
            .unwrap_or_else(|| data_dir.join("downloads"));
        let positive = |v: u64, name| {
            if v == 0 {
                Err(ConfigError::Zero(name))
            } else {
                Ok(v)
            }
        };
        Ok(Config {
            bind: a.bind.or(f.bind).unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            port: a.port.or(f.port).unwrap_or(3000),
            database_url,
            jwt_secret,
            token_ttl: Duration::from_secs(positive(
                a.token_ttl.or(f.token_ttl).unwrap_or(86_400),
                "TOKEN_TTL",
            )?),
            allow_registration: a
                .allow_registration
                .or(f.allow_registration)
                .unwrap_or(true),
            login_rate_limit: a.login_rate_limit.or(f.login_rate_limit).unwrap_or(10),
            chat_rate_limit: a.chat_rate_limit.or(f.chat_rate_limit).unwrap_or(5),
            cookie_secure: a.cookie_secure.or(f.cookie_secure).unwrap_or(false),
            metrics_token: a
                .metrics_token
                .or(f.metrics_token)
                .filter(|s| !s.is_empty()),
            download_path,
            max_torrent_size: a.max_torrent_size.or(f.max_torrent_size).unwrap_or(8 << 20),
            max_create_upload: a
                .max_create_upload
                .or(f.max_create_upload)
                .unwrap_or(1 << 30),
            peer_port: a.peer_port.or(f.peer_port).unwrap_or(6881),
            peer_bind: a
                .peer_bind
                .or(f.peer_bind)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
            max_peer_connections: a
                .max_peer_connections
                .or(f.max_peer_connections)
                .unwrap_or(500),
            max_peers_per_torrent: a
                .max_peers_per_torrent
                .or(f.max_peers_per_torrent)
                .unwrap_or(50),
            max_peers_per_ip: a.max_peers_per_ip.or(f.max_peers_per_ip).unwrap_or(8),
            upload_slots_per_torrent: a
                .upload_slots_per_torrent
                .or(f.upload_slots_per_torrent)
                .unwrap_or(8),
            upload_slots: a.upload_slots.or(f.upload_slots).unwrap_or(32),
            max_concurrent_torrents: a
                .max_concurrent_torrents
                .or(f.max_concurrent_torrents)
                .unwrap_or(DEFAULT_MAX_ACTIVE),
            upload_limit: a.upload_limit.or(f.upload_limit).unwrap_or(0),
            download_limit: a.download_limit.or(f.download_limit).unwrap_or(0),
            alt_upload_limit: a.alt_upload_limit.or(f.alt_upload_limit).unwrap_or(0),
            alt_download_limit: a.alt_download_limit.or(f.alt_download_limit).unwrap_or(0),
            alt_schedule: a
                .alt_schedule
                .or(f.alt_schedule)
                .filter(|s| !s.trim().is_empty())
                .map(|s| crate::speed::schedule::parse_spec(&s))
                .transpose()?,
            event_buffer: a.event_buffer.or(f.event_buffer).unwrap_or(1024).max(1),
            progress_interval: Duration::from_millis(
                a.progress_interval_ms
                    .or(f.progress_interval_ms)
                    .unwrap_or(500),
            ),
            stats_interval: Duration::from_secs(positive(
                a.stats_interval.or(f.stats_interval).unwrap_or(10),
                "STATS_INTERVAL",
            )?),
            stats_retention: Duration::from_secs(
                3600 * a
                    .stats_retention_hours
                    .or(f.stats_retention_hours)
                    .unwrap_or(168),
            ),
            trusted_proxies: crate::auth::client_ip::parse_list(
                a.trusted_proxies
                    .or(f.trusted_proxies)
                    .as_deref()
                    .unwrap_or(""),
            )?,
            register_rate_limit: a
                .register_rate_limit
                .or(f.register_rate_limit)
                .unwrap_or(20),
            allow_local_trackers: a
                .allow_local_trackers
                .or(f.allow_local_trackers)
                .unwrap_or(false),
            max_http_connections: a
                .max_http_connections
                .or(f.max_http_connections)
                .unwrap_or(1024)
                .max(1),
            header_timeout: Duration::from_secs(positive(
                a.header_timeout.or(f.header_timeout).unwrap_or(10),
                "HEADER_TIMEOUT",
            )?),
            request_timeout: Duration::from_secs(positive(
                a.request_timeout.or(f.request_timeout).unwrap_or(60),
                "REQUEST_TIMEOUT",
            )?),
            max_torrents_per_user: a
                .max_torrents_per_user
                .or(f.max_torrents_per_user)
                .unwrap_or(0),
            max_disk_per_user: a.max_disk_per_user.or(f.max_disk_per_user).unwrap_or(0),
            dht: dht_settings(
                a.dht.or(f.dht),
                a.no_dht,
                a.dht_port.or(f.dht_port),
                a.dht_bootstrap.as_deref().or(f.dht_bootstrap.as_deref()),
            )?,
            pex: !a.no_pex && a.pex.or(f.pex).unwrap_or(true),
            tracker,
            public_url,
            encryption: a.encryption.or(f.encryption).unwrap_or_default(),
            network: a.network.resolve(&crate::network::NetworkArgs {
                utp: f.utp,
                ipv6: f.ipv6,
                lsd: f.lsd,
                upnp: f.upnp,
                ..Default::default()
            }),
            folders: crate::folders::Settings {
                share_roots: crate::folders::paths::parse_roots(
                    a.share_roots
                        .as_deref()
                        .or(f.share_roots.as_deref())
                        .unwrap_or(""),
                ),
                rescan: Duration::from_secs(
                    a.folder_rescan.or(f.folder_rescan).unwrap_or(60).max(1),
                ),
                watch_dir: a.watch_dir.clone().or(f.watch_dir.clone()),
                max_torrent_size: a.max_torrent_size.or(f.max_torrent_size).unwrap_or(8 << 20)
                    as u64,
            },
            federation,
            nostr_relays,
            data_dir,
        })
    }

    /// Whether the database is PostgreSQL (else SQLite).
    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres:") || self.database_url.starts_with("postgresql:")
    }
}

/// Search across servers (`FEDERATION_*`).
fn federation_settings(
    a: &ServeArgs,
    f: &ServeArgs,
) -> Result<crate::search::federation::Settings, ConfigError> {
    use crate::search::federation::{
        parse_peers, Settings, DEFAULT_RATE_LIMIT, DEFAULT_TIMEOUT_MS,
    };
    let peers = match a.federation_peers.as_ref().or(f.federation_peers.as_ref()) {
        Some(list) => parse_peers(list).map_err(ConfigError::Federation)?,
        None => Vec::new(),
    };
    let timeout = a
        .federation_timeout_ms
        .or(f.federation_timeout_ms)
        .unwrap_or(DEFAULT_TIMEOUT_MS);
    if timeout == 0 {
        return Err(ConfigError::Zero("FEDERATION_TIMEOUT_MS"));
    }
    Ok(Settings {
        peers,
        token: a
            .federation_token
            .clone()
            .or(f.federation_token.clone())
            .filter(|t| !t.trim().is_empty()),
        timeout: Duration::from_millis(timeout.min(60_000)),
        rate_limit: a
            .federation_rate_limit
            .or(f.federation_rate_limit)
            .unwrap_or(DEFAULT_RATE_LIMIT),
    })
}

/// The built-in tracker's settings when it is on.
fn tracker_settings(
    a: &ServeArgs,
    f: &ServeArgs,
) -> Result<Option<crate::tracker::Settings>, ConfigError> {
    use crate::tracker::{store::Limits, Mode, Settings};
    if !a.tracker.or(f.tracker).unwrap_or(false) {
        return Ok(None);
    }
    let mode = match a.tracker_mode.as_ref().or(f.tracker_mode.as_ref()) {
        None => Mode::Private,
        Some(m) => match m.trim().to_ascii_lowercase().as_str() {
            "private" => Mode::Private,
            "open" => Mode::Open,
            _ => return Err(ConfigError::TrackerMode(m.clone())),
        },
    };
    let interval = a
        .tracker_interval
        .or(f.tracker_interval)
        .unwrap_or(1800)
        .clamp(1, 86_400);
    Ok(Some(Settings {
        mode,
        udp_port: a.tracker_udp_port.or(f.tracker_udp_port),
        interval: Duration::from_secs(interval),
        require_passkey: a.tracker_passkeys.or(f.tracker_passkeys).unwrap_or(false),
        limits: Limits {
            max_torrents: a
                .tracker_max_torrents
                .or(f.tracker_max_torrents)
                .unwrap_or(100_000)
                .max(1),
            max_peers: a
                .tracker_max_peers
                .or(f.tracker_max_peers)
                .unwrap_or(1000)
                .max(1),
            max_numwant: 200,
            default_numwant: 50,
            // Two missed announces, and a little for clients that announce late.
            peer_ttl: Duration::from_secs(2 * interval + 60),
        },
    }))
}

/// `sqlite://` URL that creates the file when missing.
fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_override_file_which_overrides_defaults() {
        let args = ServeArgs {
            port: Some(4000),
            ..Default::default()
        };
        let file: ServeArgs =
            toml::from_str("port = 5000\ndownload_path = \"/srv/dl\"\nupload_limit = 7").unwrap();
        let c = Config::resolve(args, file).unwrap();
        assert_eq!(c.port, 4000);
        assert_eq!(c.download_path, PathBuf::from("/srv/dl"));
        assert_eq!(c.upload_limit, 7);
        assert_eq!(c.peer_port, 6881);
        assert_eq!(c.data_dir, PathBuf::from("data"));
        assert_eq!(c.database_url, "sqlite://data/torrentedge.db?mode=rwc");
        assert!(!c.is_postgres());
        assert!(c.trusted_proxies.is_empty());
    }

    #[test]
    fn trusted_proxies_are_parsed_or_refused() {
        let file: ServeArgs =
            toml::from_str("trusted_proxies = \"127.0.0.1, 10.0.0.0/8\"").unwrap();
        let c = Config::resolve(ServeArgs::default(), file).unwrap();
        assert_eq!(c.trusted_proxies.len(), 2);
        let bad = ServeArgs {
            trusted_proxies: Some("10.0.0.0/99".into()),
            ..Default::default()
        };
        assert!(matches!(
            Config::resolve(bad, ServeArgs::default()),
            Err(ConfigError::TrustedProxies(_))
        ));
    }

    #[test]
    fn dht_is_on_by_default_with_the_public_routers() {
        let c = Config::resolve(ServeArgs::default(), ServeArgs::default()).unwrap();
        let d = c.dht.expect("DHT on by default");
        assert_eq!(d.port, None);
        assert_eq!(
            d.bootstrap,
            [
                "router.bittorrent.com:6881",
                "dht.transmissionbt.com:6881",
                "router.utorrent.com:6881"
            ]
        );
    }

    #[test]
    fn dht_off_port_and_bootstrap_options() {
        let off = ServeArgs {
            no_dht: true,
            dht: Some(true),
            ..Default::default()
        };
        assert_eq!(
            Config::resolve(off, ServeArgs::default()).unwrap().dht,
            None
        );
        let file: ServeArgs = toml::from_str("dht = false").unwrap();
        assert_eq!(
            Config::resolve(ServeArgs::default(), file).unwrap().dht,
            None
        );
        let args = ServeArgs {
            dht_port: Some(7000),
            dht_bootstrap: Some(vec![" 127.0.0.1:6881 , [::1]:7 ".into()]),
            ..Default::default()
        };
        let d = Config::resolve(args, ServeArgs::default())
            .unwrap()
            .dht
            .unwrap();
        assert_eq!(d.port, Some(7000));
        assert_eq!(d.bootstrap, ["127.0.0.1:6881", "[::1]:7"]);
        for bad in ["localhost", "host:0", ":6881", "host:99999"] {
            let args = ServeArgs {
                dht_bootstrap: Some(vec![bad.into()]),
                ..Default::default()
            };
            assert!(
                matches!(
                    Config::resolve(args, ServeArgs::default()),
                    Err(ConfigError::DhtBootstrap(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn dht_flags_parse_on_the_command_line() {
        use clap::Parser;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            dht: DhtArgs,
            rest: Option<String>,
        }
        let parse = |args: &[&str]| {
            let mut all = vec!["t"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all).unwrap().dht.resolve().unwrap()
        };
        assert!(parse(&[]).is_some());
        assert!(parse(&["--dht", "file.torrent"]).is_some());
        assert!(parse(&["--no-dht"]).is_none());
        assert!(parse(&["--dht=false"]).is_none());
        let d = parse(&["--dht-port", "7001", "--dht-bootstrap", "127.0.0.1:9"]).unwrap();
        assert_eq!(d.port, Some(7001));
        assert_eq!(d.bootstrap, ["127.0.0.1:9"]);
        let d = parse(&[
            "--dht-bootstrap",
            "127.0.0.1:9",
            "--dht-bootstrap",
            "127.0.0.2:10,127.0.0.3:11",
        ])
        .unwrap();
        assert_eq!(d.bootstrap, ["127.0.0.1:9", "127.0.0.2:10", "127.0.0.3:11"]);
    }

    #[test]
    fn pex_is_on_unless_turned_off() {
        let on = Config::resolve(ServeArgs::default(), ServeArgs::default()).unwrap();
        assert!(on.pex);
        let off = ServeArgs {
            no_pex: true,
            ..Default::default()
        };
        assert!(!Config::resolve(off, ServeArgs::default()).unwrap().pex);
        let file: ServeArgs = toml::from_str("pex = false").unwrap();
        assert!(!Config::resolve(ServeArgs::default(), file).unwrap().pex);
    }

    #[test]
    fn tracker_is_off_by_default_and_its_options_are_checked() {
        let c = Config::resolve(ServeArgs::default(), ServeArgs::default()).unwrap();
        assert!(c.tracker.is_none());
        let file: ServeArgs = toml::from_str(
            "tracker = true\ntracker_mode = \"open\"\ntracker_udp_port = 6969\n\
             tracker_interval = 60\npublic_url = \"https://t.example.org/\"",
        )
        .unwrap();
        let c = Config::resolve(ServeArgs::default(), file).unwrap();
        assert_eq!(c.public_url.as_deref(), Some("https://t.example.org"));
        let t = c.tracker.unwrap();
        assert_eq!(t.mode, crate::tracker::Mode::Open);
        assert_eq!(t.udp_port, Some(6969));
        assert_eq!(t.interval, Duration::from_secs(60));
        assert_eq!(t.limits.peer_ttl, Duration::from_secs(180));
        assert!(!t.require_passkey);
        for (key, bad) in [
            ("tracker_mode", "\"closed\""),
            ("public_url", "\"ftp://x\""),
        ] {
            let file: ServeArgs =
                toml::from_str(&format!("tracker = true\n{key} = {bad}")).unwrap();
            assert!(
                Config::resolve(ServeArgs::default(), file).is_err(),
                "{key}"
            );
        }
    }

    #[test]
    fn encryption_comes_from_the_flag_the_file_or_the_default() {
        use clap::Parser;
        use engine::config::Encryption;
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeArgs,
        }
        let d = Config::resolve(ServeArgs::default(), ServeArgs::default()).unwrap();
        assert_eq!(d.encryption, Encryption::Enabled);
        let flag = Cli::try_parse_from(["t", "--encryption", "required"])
            .unwrap()
            .serve;
        let file: ServeArgs = toml::from_str("encryption = \"disabled\"").unwrap();
        assert_eq!(
            Config::resolve(flag, file.clone()).unwrap().encryption,
            Encryption::Required
        );
        assert_eq!(
            Config::resolve(ServeArgs::default(), file)
                .unwrap()
                .encryption,
            Encryption::Disabled
        );
        assert!(Cli::try_parse_from(["t", "--encryption", "sometimes"]).is_err());
    }

    #[test]
    fn unknown_file_keys_and_short_secrets_are_refused() {
        assert!(toml::from_str::<ServeArgs>("prot = 1").is_err());
        let short = ServeArgs {
            jwt_secret: Some("short".into()),
            ..Default::default()
        };
        assert!(matches!(
            Config::resolve(short, ServeArgs::default()),
            Err(ConfigError::WeakSecret)
        ));
    }
}
