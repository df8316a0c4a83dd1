//! How many party connections each client address and each person holds on this node,
//! against `[realtime] max_connections_per_address` and `max_connections_per_user`.
//!
//! A connection is admitted before its upgrade and holds a [`ConnectionSlot`] for its whole
//! life; dropping the slot gives the place back, however the session ends.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use crate::domain::UserId;

/// Which limit a refused connection met.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooMany {
    Address,
    Person,
}

impl TooMany {
    /// The words a person reads.
    pub fn message(self) -> &'static str {
        match self {
            Self::Address => {
                "Too many party connections from your network. Close some tabs and try again."
            }
            Self::Person => "You have too many party tabs open. Close some and try again.",
        }
    }
}

#[derive(Default)]
struct Counts {
    by_address: HashMap<IpAddr, usize>,
    by_user: HashMap<UserId, usize>,
}

/// The node's connection counts.
pub struct Connections {
    // A std Mutex: held for a map update only, never across an await.
    counts: Mutex<Counts>,
    per_address: usize,
    per_user: usize,
    /// The open connections, as the metrics show them.
    open: prometheus::IntGauge,
}

/// One admitted connection's place; dropping it gives the place back.
pub struct ConnectionSlot {
    owner: Arc<Connections>,
    address: IpAddr,
    user: UserId,
}

impl Connections {
    /// Counts, within the limits, the connections `open` shows.
    pub fn new(per_address: usize, per_user: usize, open: prometheus::IntGauge) -> Arc<Self> {
        Arc::new(Self {
            counts: Mutex::new(Counts::default()),
            per_address,
            per_user,
            open,
        })
    }

    /// Takes a place for a connection of `user` from `address`, if both are under their
    /// limits.
    pub fn admit(
        self: &Arc<Self>,
        address: IpAddr,
        user: UserId,
    ) -> Result<ConnectionSlot, TooMany> {
        let mut counts = self.lock();
        let from_address = counts.by_address.get(&address).copied().unwrap_or(0);
        if from_address >= self.per_address {
            return Err(TooMany::Address);
        }
        let of_user = counts.by_user.get(&user).copied().unwrap_or(0);
        if of_user >= self.per_user {
            return Err(TooMany::Person);
        }
        counts.by_address.insert(address, from_address + 1);
        counts.by_user.insert(user, of_user + 1);
        self.open.inc();
        Ok(ConnectionSlot {
            owner: self.clone(),
            address,
            user,
        })
    }

    /// Open connections from `address`.
    pub fn from_address(&self, address: IpAddr) -> usize {
        self.lock().by_address.get(&address).copied().unwrap_or(0)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let mut counts = self.owner.lock();
        release(&mut counts.by_address, &self.address);
        release(&mut counts.by_user, &self.user);
        self.owner.open.dec();
    }
}

fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_per_address_and_per_person_and_given_back() {
        let open = prometheus::IntGauge::new("open", "open connections").unwrap();
        let connections = Connections::new(3, 2, open.clone());
        let home: IpAddr = "192.0.2.1".parse().unwrap();
        let office: IpAddr = "192.0.2.2".parse().unwrap();
        let ana: UserId = 1;
        let ben: UserId = 2;
        let a1 = connections.admit(home, ana).unwrap();
        let _a2 = connections.admit(home, ana).unwrap();
        assert_eq!(connections.admit(office, ana).err(), Some(TooMany::Person));
        let _b1 = connections.admit(home, ben).unwrap();
        assert_eq!(connections.admit(home, ben).err(), Some(TooMany::Address));
        assert!(
            connections.admit(office, ben).is_ok(),
            "another address has room"
        );
        assert_eq!(open.get(), 3, "the three places held");
        drop(a1);
        assert_eq!(open.get(), 2);
        assert_eq!(connections.from_address(home), 2);
        assert!(
            connections.admit(home, ana).is_ok(),
            "a closed connection gives its place back"
        );
    }
}
