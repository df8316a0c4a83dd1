//! What `[redis] url` (or `REDIS_URL`) names: one Redis, or the seeds of a Redis Cluster.
//!
//! | form | means |
//! |---|---|
//! | `redis://host:port/db`, `rediss://…`, `redis+unix:///path` | one Redis (standalone, or a managed endpoint) |
//! | `redis+cluster://[user:pass@]host1:port1,host2:port2` | a Redis Cluster, reached through these seeds |
//! | `redis://host1:port1,redis://host2:port2` | the same: several URLs, separated by commas |
//!
//! A cluster needs only one reachable seed; the rest of its nodes are learnt from it.

use redis::{ConnectionInfo, IntoConnectionInfo, RedisError};

/// The store the URL names.
#[derive(Debug, Clone)]
pub enum Address {
    Single(ConnectionInfo),
    Cluster(Vec<ConnectionInfo>),
}

impl Address {
    pub fn parse(url: &str) -> Result<Self, RedisError> {
        let url = url.trim();
        for (scheme, plain) in [
            ("redis+cluster://", "redis://"),
            ("rediss+cluster://", "rediss://"),
        ] {
            if let Some(rest) = url.strip_prefix(scheme) {
                return cluster_form(rest, plain);
            }
        }
        if url.contains(',') {
            let seeds = url
                .split(',')
                .map(|seed| seed.trim().into_connection_info())
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Self::Cluster(seeds));
        }
        Ok(Self::Single(url.into_connection_info()?))
    }

    /// Where it is, for log lines: addresses only (a URL may carry a password).
    pub fn describe(&self) -> String {
        match self {
            Self::Single(info) => info.addr.to_string(),
            Self::Cluster(seeds) => {
                let list: Vec<String> = seeds.iter().map(|s| s.addr.to_string()).collect();
                format!("the Redis Cluster of {}", list.join(", "))
            }
        }
    }

    pub fn is_cluster(&self) -> bool {
        matches!(self, Self::Cluster(_))
    }
}

/// `[user:pass@]host1:port1,host2:port2[/…]` after a `+cluster` scheme: the credentials and
/// the rest apply to every seed.
fn cluster_form(rest: &str, scheme: &str) -> Result<Address, RedisError> {
    let (credentials, hosts) = match rest.rsplit_once('@') {
        Some((credentials, hosts)) => (format!("{credentials}@"), hosts),
        None => (String::new(), rest),
    };
    let (hosts, tail) = match hosts.find(['/', '?']) {
        Some(at) => hosts.split_at(at),
        None => (hosts, ""),
    };
    let seeds = hosts
        .split(',')
        .filter(|h| !h.trim().is_empty())
        .map(|host| format!("{scheme}{credentials}{}{tail}", host.trim()).into_connection_info())
        .collect::<Result<Vec<_>, _>>()?;
    if seeds.is_empty() {
        return Err(RedisError::from((
            redis::ErrorKind::InvalidClientConfig,
            "a redis+cluster:// URL names no host",
        )));
    }
    Ok(Address::Cluster(seeds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds(url: &str) -> Vec<String> {
        match Address::parse(url).unwrap() {
            Address::Cluster(seeds) => seeds.iter().map(|s| s.addr.to_string()).collect(),
            Address::Single(_) => panic!("{url} is not a cluster"),
        }
    }

    #[test]
    fn one_url_is_one_redis() {
        assert!(!Address::parse("redis://127.0.0.1:6380/0")
            .unwrap()
            .is_cluster());
        assert!(!Address::parse("redis+unix:///tmp/r.sock")
            .unwrap()
            .is_cluster());
    }

    #[test]
    fn a_cluster_is_named_by_its_seeds() {
        assert_eq!(
            seeds("redis+cluster://127.0.0.1:7001,127.0.0.1:7002"),
            ["127.0.0.1:7001", "127.0.0.1:7002"]
        );
        assert_eq!(
            seeds("redis://10.0.0.1:7001, redis://10.0.0.2:7001"),
            ["10.0.0.1:7001", "10.0.0.2:7001"]
        );
    }

    #[test]
    fn credentials_apply_to_every_seed() {
        let Address::Cluster(seeds) =
            Address::parse("redis+cluster://app:s3cret@h1:7001,h2:7002").unwrap()
        else {
            panic!("not a cluster")
        };
        assert!(seeds
            .iter()
            .all(|s| s.redis.password.as_deref() == Some("s3cret")
                && s.redis.username.as_deref() == Some("app")));
        assert!(!Address::parse("redis+cluster://app:pw@h1:7001")
            .unwrap()
            .describe()
            .contains("pw"));
    }

    #[test]
    fn a_cluster_without_hosts_is_refused() {
        assert!(Address::parse("redis+cluster://").is_err());
    }
}
