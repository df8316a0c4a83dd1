//! Identifiers: numeric user and video ids, and unguessable invite keys.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;

/// A user's numeric id.
pub type UserId = u64;

/// A video's auto-incrementing id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VideoId(pub u64);

impl VideoId {
    /// A positive decimal number, as found in `/videos/{id}`.
    pub fn parse(text: &str) -> Option<Self> {
        if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok().filter(|n| *n > 0).map(Self)
    }
}

impl std::fmt::Display for VideoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// A playlist's auto-incrementing id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlaylistId(pub u64);

impl PlaylistId {
    /// A positive decimal number, as found in `/playlists/{id}`.
    pub fn parse(text: &str) -> Option<Self> {
        VideoId::parse(text).map(|v| Self(v.0))
    }
}

impl std::fmt::Display for PlaylistId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// An invite key: 128 random bits, URL-safe base64 (22 characters).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct InviteKey(String);

impl InviteKey {
    /// Length of a key in characters.
    pub const LEN: usize = 22;

    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A key as found in a link; anything of another shape is no key.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == Self::LEN
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        ok.then(|| Self(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Invite keys are capabilities: `Debug` never prints one, so logs cannot leak it.
impl std::fmt::Debug for InviteKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InviteKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invite_keys_are_long_random_and_url_safe() {
        let a = InviteKey::generate();
        let b = InviteKey::generate();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), InviteKey::LEN);
        assert_eq!(InviteKey::parse(a.as_str()), Some(a.clone()));
        assert!(!format!("{a:?}").contains(a.as_str()));
    }

    #[test]
    fn malformed_ids_and_keys_are_refused() {
        for bad in ["", "0", "-1", "1.5", "abc", "99999999999999999999", "1 "] {
            assert_eq!(VideoId::parse(bad), None, "{bad:?}");
        }
        assert_eq!(VideoId::parse("42"), Some(VideoId(42)));
        for bad in [
            "",
            "short",
            "../../../../etc/passwd00",
            "aaaaaaaaaaaaaaaaaaaaa=",
            &"a".repeat(23),
        ] {
            assert!(InviteKey::parse(bad).is_none(), "{bad:?}");
        }
    }
}
