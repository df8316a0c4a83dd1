//! Who may control a party's playback, and whether it waits for everyone.

use serde::{Deserialize, Serialize};

use super::UserId;

/// Who may control playback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ControlMode {
    /// Every viewer (the default).
    Everyone,
    /// The owner and the viewers they promoted.
    Promoted,
}

impl ControlMode {
    /// The stored (and sent) name of the mode.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Everyone => "everyone",
            Self::Promoted => "promoted",
        }
    }
}

/// A party's control settings, as every viewer sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Permissions {
    pub mode: ControlMode,
    pub owner_id: UserId,
    /// Viewers the owner promoted (they keep it when the mode changes back and forth).
    pub controllers: Vec<UserId>,
    /// Whether the party holds while a viewer buffers.
    pub wait_for_everyone: bool,
}

impl Permissions {
    pub fn can_control(&self, user: UserId) -> bool {
        self.mode == ControlMode::Everyone
            || user == self.owner_id
            || self.controllers.contains(&user)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_owner_and_promoted_viewers_may_control_in_promoted_mode() {
        let mut p = Permissions {
            mode: ControlMode::Everyone,
            owner_id: 1,
            controllers: vec![3],
            wait_for_everyone: true,
        };
        assert!(p.can_control(2));
        p.mode = ControlMode::Promoted;
        assert!(p.can_control(1));
        assert!(p.can_control(3));
        assert!(!p.can_control(2));
    }
}
