//! Human-entered text: display names and video titles.

/// Why a piece of text was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("{what} cannot be empty.")]
    Empty { what: &'static str },
    #[error("{what} can be at most {max} characters long.")]
    TooLong { what: &'static str, max: usize },
    #[error("{what} cannot contain control characters.")]
    Control { what: &'static str },
}

/// Trims, then checks length in characters and the absence of control characters
/// (including bidirectional overrides, which can disguise text).
fn clean(input: &str, what: &'static str, max: usize) -> Result<String, TextError> {
    let text = input.trim();
    if text.chars().any(|c| {
        c.is_control()
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    }) {
        return Err(TextError::Control { what });
    }
    if text.is_empty() {
        return Err(TextError::Empty { what });
    }
    if text.chars().count() > max {
        return Err(TextError::TooLong { what, max });
    }
    Ok(text.to_owned())
}

/// A display name: 1–32 visible characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(input: &str) -> Result<Self, TextError> {
        let text = clean(input, "A display name", Self::MAX_CHARS)?;
        if !text.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
            return Err(TextError::Empty {
                what: "A display name",
            });
        }
        Ok(Self(text))
    }

    /// `Guest-` and four characters of a random id.
    pub fn guest(suffix: &str) -> Self {
        Self(format!("Guest-{suffix}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
    )
}

/// A video title: trimmed, no control characters, at most the configured length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoTitle(String);

impl VideoTitle {
    pub fn parse(input: &str, max_chars: usize) -> Result<Self, TextError> {
        clean(input, "A title", max_chars).map(Self)
    }

    /// `None` for a blank field, meaning "choose a title for me".
    pub fn parse_optional(
        input: Option<&str>,
        max_chars: usize,
    ) -> Result<Option<Self>, TextError> {
        match input.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => Self::parse(text, max_chars).map(Some),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_are_trimmed_and_limited() {
        assert_eq!(DisplayName::parse("  Ana  ").unwrap().as_str(), "Ana");
        assert_eq!(
            DisplayName::parse("🎬 Film Fan").unwrap().as_str(),
            "🎬 Film Fan"
        );
        assert!(
            DisplayName::parse(&"é".repeat(32)).is_ok(),
            "32 characters, not bytes"
        );
        let table = [
            (
                "",
                TextError::Empty {
                    what: "A display name",
                },
            ),
            (
                "   ",
                TextError::Empty {
                    what: "A display name",
                },
            ),
            (
                "\u{200B}",
                TextError::Empty {
                    what: "A display name",
                },
            ),
            (
                "a\u{0007}b",
                TextError::Control {
                    what: "A display name",
                },
            ),
            (
                "a\nb",
                TextError::Control {
                    what: "A display name",
                },
            ),
            (
                "evil\u{202E}txt",
                TextError::Control {
                    what: "A display name",
                },
            ),
            (
                &"x".repeat(33),
                TextError::TooLong {
                    what: "A display name",
                    max: 32,
                },
            ),
        ];
        for (input, err) in table {
            assert_eq!(DisplayName::parse(input).unwrap_err(), err, "{input:?}");
        }
    }

    #[test]
    fn blank_titles_mean_none_and_long_ones_are_refused() {
        assert_eq!(VideoTitle::parse_optional(Some("  "), 10).unwrap(), None);
        assert_eq!(VideoTitle::parse_optional(None, 10).unwrap(), None);
        assert_eq!(
            VideoTitle::parse_optional(Some(" Hi "), 10)
                .unwrap()
                .unwrap()
                .as_str(),
            "Hi"
        );
        assert!(VideoTitle::parse("12345678901", 10).is_err());
    }
}
