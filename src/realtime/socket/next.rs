//! What the session reads next from its socket: the client's messages, the hub's signals,
//! and the close RFC 6455 names when the client broke the protocol.

use actix_ws::ProtocolError;
use bytestring::ByteString;

use crate::realtime::protocol::CloseReason;

/// Why the hub interrupts a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// The client has completed no frame for `[realtime] away_after_ms`: show it away.
    Quiet,
    /// Party events were dropped: reread the state.
    Resync,
    /// The store stopped answering.
    StoreDown,
    /// The store answers again: register again and reread the state.
    StoreUp,
    /// The client has completed no frame for longer than `[realtime] client_timeout_secs`.
    Silent,
    /// The client has taken none of the queued messages for that long.
    Stalled,
    /// The session's own messages outgrew the queue: the client sends and does not read.
    Backlog,
    /// The party closed (its `closed` frame is already queued).
    Close(CloseReason),
}

impl Signal {
    /// A stronger signal replaces a weaker one not yet seen.
    pub(super) fn rank(self) -> u8 {
        match self {
            // Replaces nothing: whatever wakes the session, it looks at the quiet flag.
            Self::Quiet => 0,
            Self::Resync => 1,
            // Of equal rank: the later news replaces the earlier (`StoreUp` resyncs too).
            Self::StoreDown | Self::StoreUp => 2,
            Self::Stalled => 3,
            Self::Silent => 4,
            Self::Backlog => 5,
            Self::Close(_) => 6,
        }
    }
}

/// What the session reads next.
#[derive(Debug, PartialEq, Eq)]
pub enum Next {
    Text(ByteString),
    Binary,
    /// A control frame (a pong) from a client that had been quiet: it is back.
    Heard,
    Signal(Signal),
    /// The client sent a close frame.
    Closed,
    /// The connection ended or failed.
    Gone,
    /// The client broke the protocol: close with this reason (RFC 6455 §7.4 codes).
    Violation(CloseReason),
}

/// The close RFC 6455 §7.4 names for what the client's stream reported; `bad_close_reason`
/// tells a close reason that is not UTF-8 (1007) from a bad close code (1002), which
/// actix-http reports alike.
pub(super) fn violation(err: &ProtocolError, bad_close_reason: bool) -> Next {
    if matches!(err, ProtocolError::BadOpCode) && bad_close_reason {
        return Next::Violation(CloseReason::InvalidData);
    }
    match err {
        ProtocolError::Overflow => Next::Violation(CloseReason::FrameTooLarge),
        ProtocolError::Io(io) if is_utf8_error(io) => Next::Violation(CloseReason::InvalidData),
        ProtocolError::Io(io) if is_payload_error(io) => Next::Gone,
        // The one error actix-ws raises itself: fragments beyond the message limit.
        ProtocolError::Io(io) if io.kind() == std::io::ErrorKind::Other => {
            Next::Violation(CloseReason::FrameTooLarge)
        }
        ProtocolError::Io(io) if io.kind() != std::io::ErrorKind::InvalidData => Next::Gone,
        _ => Next::Violation(CloseReason::ProtocolViolation),
    }
}

/// The connection itself failed (reset, closed mid-frame).
fn is_payload_error(err: &std::io::Error) -> bool {
    err.get_ref()
        .is_some_and(|inner| inner.is::<actix_web::error::PayloadError>())
}

/// Text that is not UTF-8: a single frame's error carries the `Utf8Error`; a fragmented
/// message's carries only its text (actix-ws formats it).
fn is_utf8_error(err: &std::io::Error) -> bool {
    err.get_ref().is_some_and(|inner| {
        inner.is::<std::str::Utf8Error>() || inner.to_string().contains("utf-8")
    })
}
