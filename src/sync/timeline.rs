//! The party's playback state and the timeline it describes.

use serde::{Deserialize, Serialize};

/// "At server time `anchor_ms` the media was at `position_ms`, moving at `rate` unless
/// paused." Written only by the party command script; read by everyone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlaybackState {
    /// Grows by one with every change; viewers ignore anything not newer than what they hold.
    pub seq: u64,
    /// Which media the party plays, e.g. `video:12`.
    pub media: String,
    pub paused: bool,
    pub position_ms: f64,
    /// Server time (Redis clock, ms since the epoch); may lie ahead after a scheduled play.
    pub anchor_ms: f64,
    pub rate: f64,
    /// Unknown until a viewer's player reports it.
    pub duration_ms: Option<f64>,
    /// Display name of whoever made this state; empty for the initial state.
    #[serde(default)]
    pub updated_by: String,
    /// Paused only to wait for a buffering viewer; play resumes by itself when all are ready.
    #[serde(default)]
    pub waiting: bool,
}

impl PlaybackState {
    /// Where the media should be at server time `t_ms`. Before a scheduled anchor the media
    /// waits at `position_ms`; past the end it rests at the end.
    pub fn expected_at(&self, t_ms: f64) -> f64 {
        let moved = if self.paused {
            0.0
        } else {
            (t_ms - self.anchor_ms).max(0.0) * self.rate
        };
        let position = (self.position_ms + moved).max(0.0);
        match self.duration_ms {
            Some(end) => position.min(end),
            None => position,
        }
    }

    /// Whether the media has reached its end at `t_ms` (only when the duration is known).
    pub fn ended_at(&self, t_ms: f64) -> bool {
        self.duration_ms
            .is_some_and(|end| self.expected_at(t_ms) >= end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(paused: bool, position_ms: f64, anchor_ms: f64, rate: f64) -> PlaybackState {
        PlaybackState {
            seq: 1,
            media: "video:1".into(),
            paused,
            position_ms,
            anchor_ms,
            rate,
            duration_ms: None,
            updated_by: String::new(),
            waiting: false,
        }
    }

    #[test]
    fn a_paused_timeline_stands_still() {
        let s = state(true, 42_000.0, 1_000.0, 1.0);
        assert_eq!(s.expected_at(1_000.0), 42_000.0);
        assert_eq!(s.expected_at(900_000.0), 42_000.0);
    }

    #[test]
    fn a_playing_timeline_moves_at_its_rate() {
        let s = state(false, 10_000.0, 1_000.0, 1.0);
        assert_eq!(s.expected_at(3_500.0), 12_500.0);
        let fast = state(false, 10_000.0, 1_000.0, 1.5);
        assert_eq!(fast.expected_at(3_000.0), 13_000.0);
        let slow = state(false, 0.0, 0.0, 0.25);
        assert_eq!(slow.expected_at(4_000.0), 1_000.0);
    }

    #[test]
    fn before_a_scheduled_anchor_the_media_waits() {
        let s = state(false, 5_000.0, 10_000.0, 1.0);
        assert_eq!(s.expected_at(9_850.0), 5_000.0);
        assert_eq!(s.expected_at(10_100.0), 5_100.0);
    }

    #[test]
    fn the_timeline_rests_at_the_end_once_known() {
        let mut s = state(false, 88_000.0, 0.0, 1.0);
        assert_eq!(s.expected_at(5_000.0), 93_000.0);
        assert!(!s.ended_at(5_000.0));
        s.duration_ms = Some(90_000.0);
        assert_eq!(s.expected_at(5_000.0), 90_000.0);
        assert!(s.ended_at(5_000.0));
        assert!(!s.ended_at(1_000.0));
    }

    #[test]
    fn the_wire_format_round_trips() {
        let json = r#"{"seq":3,"media":"video:2","paused":false,"position_ms":1500,"anchor_ms":1763790000123,"rate":1.25,"duration_ms":null,"updated_by":"Ana"}"#;
        let s: PlaybackState = serde_json::from_str(json).unwrap();
        assert_eq!(s.rate, 1.25);
        assert_eq!(s.expected_at(1_763_790_001_123.0), 2_750.0);
    }
}
