//! Who watches a party: one presence record per connection, summarised per person for the
//! viewer list, so a reload never counts anyone twice.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::UserId;

/// What a viewer's player is doing, as the viewer list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ViewerStatus {
    Watching,
    /// Playing, but further from the timeline than the page's sync band.
    OutOfSync,
    /// Waiting for data; the party holds for them (when it waits for everyone).
    Buffering,
    /// Buffered longer than the wait limit, or held the party too often (`[sync]
    /// stall_budget_secs`); the party went on without them.
    LeftBehind,
    /// The connection has been silent for `[realtime] away_after_ms` (its network dropped,
    /// say); it holds nothing and is removed at the heartbeat timeout.
    Away,
}

/// One connection's presence record.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PresenceEntry {
    pub user_id: UserId,
    pub name: String,
    /// The node serving the connection.
    pub node: String,
    /// `Watching` or `Buffering`, as the player reports.
    pub status: ViewerStatus,
    /// Whether the page reports being within its sync band.
    #[serde(default = "yes")]
    pub in_sync: bool,
    /// Buffered past the wait limit: the party no longer waits for this connection.
    #[serde(default)]
    pub left_behind: bool,
    /// Silent past `[realtime] away_after_ms`: shown away, and the party does not wait for it.
    #[serde(default)]
    pub away: bool,
    /// When the connection joined (server ms).
    pub since: u64,
}

fn yes() -> bool {
    true
}

impl PresenceEntry {
    /// What the viewer list shows for this connection.
    pub fn shown_status(&self) -> ViewerStatus {
        if self.away {
            return ViewerStatus::Away;
        }
        match (self.status, self.left_behind, self.in_sync) {
            (ViewerStatus::Buffering, true, _) => ViewerStatus::LeftBehind,
            (ViewerStatus::Buffering, false, _) => ViewerStatus::Buffering,
            (_, _, false) => ViewerStatus::OutOfSync,
            _ => ViewerStatus::Watching,
        }
    }

    /// Whether the party should wait for this connection.
    pub fn holds_party(&self) -> bool {
        self.status == ViewerStatus::Buffering && !self.left_behind && !self.away
    }
}

/// One person in the viewer list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ViewerSummary {
    pub user_id: UserId,
    pub name: String,
    pub connections: usize,
    pub status: ViewerStatus,
}

/// Groups connection entries (sorted by arrival) into one summary per person. A person is
/// away only when all their connections are: after a dropped network the old, silent
/// connection lingers until the heartbeat timeout beside the new one.
pub fn summarise(entries: &[PresenceEntry]) -> Vec<ViewerSummary> {
    let mut people: Vec<ViewerSummary> = Vec::new();
    let mut index: HashMap<UserId, usize> = HashMap::with_capacity(entries.len());
    for entry in entries {
        match index.get(&entry.user_id) {
            Some(&at) => {
                let person = &mut people[at];
                person.connections += 1;
                // The newest connection carries the current name.
                person.name = entry.name.clone();
                // The most worrying status of any of the person's present connections shows.
                person.status = match (person.status, entry.shown_status()) {
                    (ViewerStatus::Away, status) | (status, ViewerStatus::Away) => status,
                    (a, b) => a.max(b),
                };
            }
            None => {
                index.insert(entry.user_id, people.len());
                people.push(ViewerSummary {
                    user_id: entry.user_id,
                    name: entry.name.clone(),
                    connections: 1,
                    status: entry.shown_status(),
                });
            }
        }
    }
    people
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user_id: u64, since: u64, status: ViewerStatus) -> PresenceEntry {
        PresenceEntry {
            user_id,
            name: format!("U{user_id}"),
            node: "n".into(),
            status,
            in_sync: true,
            left_behind: false,
            away: false,
            since,
        }
    }

    #[test]
    fn a_person_with_several_connections_counts_once() {
        let people = summarise(&[
            entry(1, 1, ViewerStatus::Watching),
            entry(2, 2, ViewerStatus::Watching),
            entry(1, 3, ViewerStatus::Buffering),
        ]);
        assert_eq!(people.len(), 2);
        assert_eq!(people[0].user_id, 1);
        assert_eq!(people[0].connections, 2);
        assert_eq!(people[0].status, ViewerStatus::Buffering);
        assert_eq!(people[1].connections, 1);
    }

    #[test]
    fn the_list_shows_left_behind_buffering_and_out_of_sync_viewers() {
        let mut e = entry(1, 1, ViewerStatus::Watching);
        assert_eq!(e.shown_status(), ViewerStatus::Watching);
        e.in_sync = false;
        assert_eq!(e.shown_status(), ViewerStatus::OutOfSync);
        e.status = ViewerStatus::Buffering;
        assert_eq!(e.shown_status(), ViewerStatus::Buffering);
        assert!(e.holds_party());
        e.left_behind = true;
        assert_eq!(e.shown_status(), ViewerStatus::LeftBehind);
        assert!(!e.holds_party());
    }

    #[test]
    fn a_silent_connection_shows_away_holds_nothing_and_hides_behind_a_present_one() {
        let mut e = entry(1, 1, ViewerStatus::Buffering);
        e.away = true;
        assert_eq!(e.shown_status(), ViewerStatus::Away);
        assert!(!e.holds_party());
        let alone = summarise(&[e.clone()]);
        assert_eq!(alone[0].status, ViewerStatus::Away);
        let people = summarise(&[e.clone(), entry(1, 2, ViewerStatus::Watching)]);
        assert_eq!(people[0].status, ViewerStatus::Watching);
        assert_eq!(people[0].connections, 2);
        let people = summarise(&[entry(1, 2, ViewerStatus::Buffering), e]);
        assert_eq!(people[0].status, ViewerStatus::Buffering);
    }
}
