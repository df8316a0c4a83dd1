//! Playback commands as intents, validated before they are applied.

use crate::domain::ErrorCode;

/// Slowest playback rate a party accepts.
pub const MIN_RATE: f64 = 0.25;
/// Fastest playback rate a party accepts.
pub const MAX_RATE: f64 = 2.0;

/// A validated playback command.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command {
    Play,
    /// Pause; the position the viewer saw, when it sent one.
    Pause {
        position_ms: Option<f64>,
    },
    Seek {
        position_ms: f64,
    },
    Rate {
        rate: f64,
    },
    /// A player reported the media's duration.
    Duration {
        duration_ms: f64,
    },
    /// Playlists: go to the next item.
    Skip,
    /// Playlists: go to this item.
    Jump {
        item: u64,
    },
    /// Playlists: a player reached the end of this item.
    Ended {
        item: u64,
    },
    /// The server, for playlists: nobody watching can play this item; move on past it.
    Unplayable {
        item: u64,
    },
    /// The server: a viewer buffers, hold the party for them.
    Hold,
    /// The server: everyone is ready again, play on.
    Resume,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommandError {
    #[error("position must be a number of milliseconds between 0 and the media's end")]
    InvalidPosition,
    #[error("rate must lie between 0.25 and 2.0")]
    InvalidRate,
    #[error("a duration must lie between {min_ms} ms and 100 hours")]
    InvalidDuration { min_ms: u64 },
}

impl CommandError {
    /// The protocol's error code.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidPosition => ErrorCode::InvalidPosition,
            Self::InvalidRate => ErrorCode::InvalidRate,
            Self::InvalidDuration { .. } => ErrorCode::InvalidDuration,
        }
    }
}

/// Longest media accepted: 100 hours, so absurd positions are refused early.
pub const MAX_POSITION_MS: f64 = 100.0 * 3600.0 * 1000.0;

fn position(ms: f64, duration_ms: Option<f64>) -> Result<f64, CommandError> {
    let end = duration_ms.unwrap_or(MAX_POSITION_MS);
    if !ms.is_finite() || ms < 0.0 || ms > end {
        return Err(CommandError::InvalidPosition);
    }
    Ok(ms.round())
}

impl Command {
    pub fn pause(position_ms: Option<f64>, duration_ms: Option<f64>) -> Result<Self, CommandError> {
        let position_ms = position_ms.map(|p| position(p, duration_ms)).transpose()?;
        Ok(Self::Pause { position_ms })
    }

    pub fn seek(position_ms: f64, duration_ms: Option<f64>) -> Result<Self, CommandError> {
        Ok(Self::Seek {
            position_ms: position(position_ms, duration_ms)?,
        })
    }

    pub fn rate(rate: f64) -> Result<Self, CommandError> {
        if !rate.is_finite() || !(MIN_RATE..=MAX_RATE).contains(&rate) {
            return Err(CommandError::InvalidRate);
        }
        // Rates travel with three decimals; finer differences are noise.
        Ok(Self::Rate {
            rate: (rate * 1000.0).round() / 1000.0,
        })
    }

    /// A reported duration: at least `min_ms` (a shorter one would end the media at once and
    /// refuse every seek) and at most the longest media.
    pub fn duration(duration_ms: f64, min_ms: u64) -> Result<Self, CommandError> {
        if !duration_ms.is_finite()
            || duration_ms < min_ms.max(1) as f64
            || duration_ms > MAX_POSITION_MS
        {
            return Err(CommandError::InvalidDuration { min_ms });
        }
        Ok(Self::Duration {
            duration_ms: duration_ms.round(),
        })
    }

    /// The name and argument handed to the command script.
    pub fn script_args(&self) -> (&'static str, String) {
        match *self {
            Self::Play => ("play", "0".into()),
            Self::Pause { position_ms } => ("pause", position_ms.unwrap_or(-1.0).to_string()),
            Self::Seek { position_ms } => ("seek", position_ms.to_string()),
            Self::Rate { rate } => ("rate", rate.to_string()),
            Self::Duration { duration_ms } => ("duration", duration_ms.to_string()),
            Self::Skip => ("skip", "0".into()),
            Self::Jump { item } => ("jump", item.to_string()),
            Self::Ended { item } => ("ended", item.to_string()),
            Self::Unplayable { item } => ("unplayable", item.to_string()),
            Self::Hold => ("hold", "0".into()),
            Self::Resume => ("resume", "0".into()),
        }
    }

    /// Whether this command is a viewer controlling playback (and so needs permission).
    pub fn is_control(&self) -> bool {
        !matches!(
            self,
            Self::Duration { .. }
                | Self::Ended { .. }
                | Self::Unplayable { .. }
                | Self::Hold
                | Self::Resume
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_must_be_finite_non_negative_and_within_the_media() {
        assert_eq!(
            Command::seek(42_000.4, None),
            Ok(Command::Seek {
                position_ms: 42_000.0
            })
        );
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e15] {
            assert_eq!(
                Command::seek(bad, None),
                Err(CommandError::InvalidPosition),
                "{bad}"
            );
        }
        assert_eq!(
            Command::seek(91_000.0, Some(90_000.0)),
            Err(CommandError::InvalidPosition)
        );
        assert_eq!(
            Command::pause(Some(-5.0), None),
            Err(CommandError::InvalidPosition)
        );
        assert_eq!(
            Command::pause(None, None),
            Ok(Command::Pause { position_ms: None })
        );
    }

    #[test]
    fn rates_are_bounded_and_rounded() {
        assert_eq!(Command::rate(1.25), Ok(Command::Rate { rate: 1.25 }));
        assert_eq!(Command::rate(1.00004), Ok(Command::Rate { rate: 1.0 }));
        for bad in [0.0, 0.2, 2.5, -1.0, f64::NAN] {
            assert_eq!(Command::rate(bad), Err(CommandError::InvalidRate), "{bad}");
        }
    }

    #[test]
    fn script_arguments_are_plain_numbers() {
        assert_eq!(
            Command::seek(42_000.0, None).unwrap().script_args(),
            ("seek", "42000".to_owned())
        );
        assert_eq!(
            Command::Jump { item: 5 }.script_args(),
            ("jump", "5".to_owned())
        );
        assert_eq!(
            Command::pause(None, None).unwrap().script_args(),
            ("pause", "-1".to_owned())
        );
        assert!(!Command::Ended { item: 1 }.is_control());
        assert!(Command::Skip.is_control());
    }

    #[test]
    fn durations_must_be_plausible() {
        assert!(Command::duration(90_000.0, 1000).is_ok());
        assert!(Command::duration(1000.0, 1000).is_ok());
        let table = [
            (0.0, "zero"),
            (1.0, "one millisecond"),
            (999.0, "under the shortest"),
            (-5000.0, "negative"),
            (f64::NAN, "not a number"),
            (f64::INFINITY, "infinite"),
            (1e17, "longer than any media"),
        ];
        for (bad, why) in table {
            assert_eq!(
                Command::duration(bad, 1000),
                Err(CommandError::InvalidDuration { min_ms: 1000 }),
                "{why}"
            );
        }
    }
}
