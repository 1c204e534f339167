//! Kafka settings, read from the environment (see docs/kafka.md). They live here rather than
//! in `ServeArgs` so a build without the `kafka` feature carries none of them.

use std::time::Duration;

/// What `KAFKA_*` variables say. `None` from [`Settings::from_env`] when `KAFKA_BROKERS` is unset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `KAFKA_BROKERS`: `host:port[,host:port…]`.
    pub brokers: String,
    /// `KAFKA_TOPIC_PREFIX` [default: `torrentedge.`].
    pub topic_prefix: String,
    /// `KAFKA_PARTITIONS` for topics created at start [default: 3].
    pub partitions: i32,
    /// `KAFKA_REPLICATION` for topics created at start [default: 1].
    pub replication: i32,
    /// `KAFKA_QUEUE_MAX`: messages held while the brokers are away [default: 100000].
    pub queue_max: u32,
    /// `KAFKA_QUEUE_MAX_KB`: the same bound in KiB [default: 65536].
    pub queue_max_kb: u32,
    /// `KAFKA_CONSUME`: also show other servers' events, read back from Kafka [default: false].
    pub consume: bool,
    /// `KAFKA_HEALTH_INTERVAL_MS`: how often the brokers are probed [default: 2000].
    pub health_interval: Duration,
    /// `KAFKA_SERVER_ID`: this server's name in every message [default: random per start].
    pub server_id: String,
    /// `KAFKA_OPTION_SASL_MECHANISM=…` → `sasl.mechanism=…`: passed to librdkafka as is
    /// (lower case, `_` → `.`, `__` → `_`).
    pub options: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("{0} must be a positive number, not {1:?}")]
    Number(&'static str, String),
    #[error("{0} must be true or false, not {1:?}")]
    Bool(&'static str, String),
}

impl Settings {
    /// From the process environment.
    pub fn from_env() -> Result<Option<Settings>, SettingsError> {
        Settings::from_vars(std::env::vars())
    }

    /// From `(name, value)` pairs.
    pub fn from_vars(
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Option<Settings>, SettingsError> {
        let vars: Vec<(String, String)> = vars.into_iter().collect();
        let get = |k: &str| {
            vars.iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let Some(brokers) = get("KAFKA_BROKERS") else {
            return Ok(None);
        };
        let num = |k: &'static str, default: u64| -> Result<u64, SettingsError> {
            match get(k) {
                None => Ok(default),
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n > 0 && n <= i32::MAX as u64 => Ok(n),
                    _ => Err(SettingsError::Number(k, v)),
                },
            }
        };
        let consume = match get("KAFKA_CONSUME").as_deref() {
            None => false,
            Some("1" | "true" | "yes" | "on") => true,
            Some("0" | "false" | "no" | "off") => false,
            Some(v) => return Err(SettingsError::Bool("KAFKA_CONSUME", v.to_owned())),
        };
        let mut options: Vec<(String, String)> = vars
            .iter()
            .filter_map(|(k, v)| {
                let name = k.strip_prefix("KAFKA_OPTION_")?;
                let prop = name
                    .to_ascii_lowercase()
                    .split("__")
                    .map(|part| part.replace('_', "."))
                    .collect::<Vec<_>>()
                    .join("_");
                Some((prop, v.clone()))
            })
            .collect();
        options.sort();
        Ok(Some(Settings {
            brokers,
            topic_prefix: get("KAFKA_TOPIC_PREFIX").unwrap_or_else(|| "torrentedge.".into()),
            partitions: num("KAFKA_PARTITIONS", 3)? as i32,
            replication: num("KAFKA_REPLICATION", 1)? as i32,
            queue_max: num("KAFKA_QUEUE_MAX", 100_000)? as u32,
            queue_max_kb: num("KAFKA_QUEUE_MAX_KB", 65_536)? as u32,
            consume,
            health_interval: Duration::from_millis(num("KAFKA_HEALTH_INTERVAL_MS", 2000)?),
            server_id: get("KAFKA_SERVER_ID")
                .unwrap_or_else(|| format!("{:016x}", rand::random::<u64>())),
            options,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn unset_brokers_means_no_kafka() {
        assert_eq!(
            Settings::from_vars(vars(&[("KAFKA_CONSUME", "true")])).unwrap(),
            None
        );
    }

    #[test]
    fn defaults_and_pass_through_options() {
        let s = Settings::from_vars(vars(&[
            ("KAFKA_BROKERS", "127.0.0.1:9092"),
            ("KAFKA_OPTION_SECURITY_PROTOCOL", "SASL_SSL"),
            ("KAFKA_OPTION_SASL_MECHANISM", "SCRAM-SHA-512"),
            ("KAFKA_OPTION_SOME__ODD_NAME", "x"),
            ("KAFKA_CONSUME", "yes"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(s.brokers, "127.0.0.1:9092");
        assert_eq!(s.topic_prefix, "torrentedge.");
        assert_eq!((s.partitions, s.replication), (3, 1));
        assert!(s.consume);
        assert_eq!(s.server_id.len(), 16);
        assert_eq!(
            s.options,
            vec![
                ("sasl.mechanism".into(), "SCRAM-SHA-512".into()),
                ("security.protocol".into(), "SASL_SSL".into()),
                ("some_odd.name".into(), "x".into()),
            ]
        );
    }

    #[test]
    fn bad_numbers_and_booleans_are_refused() {
        let base = [("KAFKA_BROKERS", "b:1")];
        for (k, v) in [
            ("KAFKA_PARTITIONS", "0"),
            ("KAFKA_QUEUE_MAX", "-1"),
            ("KAFKA_QUEUE_MAX", "lots"),
            ("KAFKA_CONSUME", "maybe"),
        ] {
            let mut list = vars(&base);
            list.push((k.into(), v.into()));
            assert!(Settings::from_vars(list).is_err(), "{k}={v} accepted");
        }
    }
}
