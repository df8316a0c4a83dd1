//! How long one viewer's stalls have held the party lately: "wait for everyone" waits for a
//! stall up to the wait limit, and for one viewer's stalls together up to a budget per
//! window (`[sync] stall_budget_secs` per `stall_window_secs`), so a viewer on a line too
//! slow for the media cannot make the whole party stop and go. Pure: callers pass the time.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Holds remembered at most; older ones are forgotten first (a viewer cannot send more
/// `buffering` reports than its message rate allows anyway).
const MAX_HOLDS: usize = 256;

/// One viewer's holds of the party within the recent window.
#[derive(Debug, Clone)]
pub struct StallBudget {
    window: Duration,
    budget: Duration,
    /// Finished holds, oldest first: (start, end).
    holds: VecDeque<(Instant, Instant)>,
    /// The hold going on, since when.
    open: Option<Instant>,
}

impl StallBudget {
    /// A viewer may hold the party for `budget` in all within any `window`.
    pub fn new(window: Duration, budget: Duration) -> Self {
        Self {
            window,
            budget,
            holds: VecDeque::new(),
            open: None,
        }
    }

    /// How long the party held for this viewer within the window ending at `now` (a hold
    /// going on counts up to `now`).
    pub fn held_within(&self, now: Instant) -> Duration {
        let from = now.checked_sub(self.window);
        let overlap = |start: Instant, end: Instant| {
            let start = from.map_or(start, |from| start.max(from));
            end.min(now).saturating_duration_since(start)
        };
        let finished: Duration = self.holds.iter().map(|&(s, e)| overlap(s, e)).sum();
        finished + self.open.map_or(Duration::ZERO, |s| overlap(s, now))
    }

    /// How much longer the party may hold for this viewer, from `now`: zero once the budget
    /// is spent.
    pub fn remaining(&self, now: Instant) -> Duration {
        self.budget.saturating_sub(self.held_within(now))
    }

    /// Whether an earlier hold (finished) lies within the window: a viewer whose budget runs
    /// out then keeps stopping, rather than loading once for long.
    pub fn held_before(&self, now: Instant) -> bool {
        let from = now.checked_sub(self.window);
        self.holds
            .iter()
            .any(|&(_, end)| from.is_none_or(|from| end > from))
    }

    /// The party holds for this viewer from `now`.
    pub fn hold_started(&mut self, now: Instant) {
        self.open.get_or_insert(now);
    }

    /// The party no longer holds for this viewer (ready again, or left behind).
    pub fn hold_ended(&mut self, now: Instant) {
        if let Some(start) = self.open.take() {
            self.holds.push_back((start, now));
        }
        let from = now.checked_sub(self.window);
        while self.holds.len() > MAX_HOLDS
            || self
                .holds
                .front()
                .is_some_and(|&(_, end)| from.is_some_and(|from| end <= from))
        {
            self.holds.pop_front();
        }
    }

    /// Whether a hold is going on.
    pub fn holding(&self) -> bool {
        self.open.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn budget() -> (StallBudget, Instant) {
        (StallBudget::new(60 * S, 10 * S), Instant::now())
    }

    #[test]
    fn short_holds_add_up_until_the_budget_is_spent() {
        let (mut b, t0) = budget();
        for i in 0..4 {
            let at = t0 + i * 5 * S;
            assert!(b.remaining(at) > Duration::ZERO, "hold {i}");
            b.hold_started(at);
            b.hold_ended(at + 2 * S);
        }
        assert_eq!(b.held_within(t0 + 20 * S), 8 * S);
        assert_eq!(b.remaining(t0 + 20 * S), 2 * S);
        b.hold_started(t0 + 20 * S);
        assert_eq!(
            b.remaining(t0 + 22 * S),
            Duration::ZERO,
            "spent during the fifth"
        );
        assert!(b.held_before(t0 + 22 * S));
    }

    #[test]
    fn holds_older_than_the_window_no_longer_count() {
        let (mut b, t0) = budget();
        b.hold_started(t0);
        b.hold_ended(t0 + 10 * S);
        assert_eq!(b.remaining(t0 + 30 * S), Duration::ZERO);
        // Half of the hold has left the window.
        assert_eq!(b.held_within(t0 + 65 * S), 5 * S);
        assert_eq!(b.remaining(t0 + 71 * S), 10 * S);
        assert!(!b.held_before(t0 + 71 * S));
        b.hold_ended(t0 + 71 * S);
        assert!(b.holds.is_empty(), "forgotten");
    }

    #[test]
    fn a_first_long_hold_is_not_a_habit() {
        let (mut b, t0) = budget();
        b.hold_started(t0);
        assert!(b.holding());
        assert!(!b.held_before(t0 + 10 * S));
        assert_eq!(b.remaining(t0 + 10 * S), Duration::ZERO);
        b.hold_ended(t0 + 10 * S);
        assert!(!b.holding());
        assert!(b.held_before(t0 + 11 * S));
    }
}
