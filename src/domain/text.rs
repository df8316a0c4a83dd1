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
    #[error("{what} needs at least one visible character; spaces, invisible characters and accents on their own show nothing.")]
    Invisible { what: &'static str },
}

/// Trims, then checks length in characters, the absence of control characters (including
/// bidirectional overrides, which can disguise text) and that something visible remains.
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
    if text.chars().all(is_invisible) {
        return Err(TextError::Invisible { what });
    }
    Ok(text.to_owned())
}

/// A display name: 1–32 visible characters, trimmed, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 32;

    pub fn parse(input: &str) -> Result<Self, TextError> {
        clean(input, "A display name", Self::MAX_CHARS).map(Self)
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

/// Characters that show nothing on their own: whitespace, zero-width and other format
/// characters, fillers that render as blanks, variation selectors and tags, and combining
/// marks (which only decorate a character before them).
fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || is_combining_mark(c)
        || matches!(
            c,
            '\u{00AD}'
                | '\u{034F}'
                | '\u{061C}'
                | '\u{115F}'
                | '\u{1160}'
                | '\u{17B4}'
                | '\u{17B5}'
                | '\u{180B}'..='\u{180F}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202F}'
                | '\u{205F}'..='\u{206F}'
                | '\u{2800}'
                | '\u{3164}'
                | '\u{FE00}'..='\u{FE0F}'
                | '\u{FEFF}'
                | '\u{FFA0}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{1BCA0}'..='\u{1BCA3}'
                | '\u{1D173}'..='\u{1D17A}'
                | '\u{E0000}'..='\u{E0FFF}'
        )
}

/// Combining marks of the blocks made of them (and the Hebrew and Arabic points): on their
/// own, with nothing to sit on, they show as nothing or as a dotted circle.
fn is_combining_mark(c: char) -> bool {
    matches!(
        c,
        '\u{0300}'..='\u{036F}'
            | '\u{0483}'..='\u{0489}'
            | '\u{0591}'..='\u{05BD}'
            | '\u{0610}'..='\u{061A}'
            | '\u{064B}'..='\u{065F}'
            | '\u{1AB0}'..='\u{1AFF}'
            | '\u{1DC0}'..='\u{1DFF}'
            | '\u{20D0}'..='\u{20FF}'
            | '\u{FE20}'..='\u{FE2F}'
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
                TextError::Invisible {
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

    #[test]
    fn titles_of_nothing_visible_are_refused() {
        let invisible = TextError::Invisible { what: "A title" };
        let table = [
            ("\u{200B}", "a zero-width space"),
            ("\u{200B}\u{200C}\u{200D}", "zero-width joiners"),
            ("\u{200E}\u{200F}", "direction marks"),
            (
                "\u{2060}\u{2063}",
                "a word joiner and an invisible separator",
            ),
            ("\u{FEFF}", "a byte order mark"),
            ("\u{3164}", "the Hangul filler"),
            (
                "\u{115F}\u{1160}",
                "the Hangul choseong and jungseong fillers",
            ),
            ("\u{FFA0}", "the halfwidth Hangul filler"),
            ("\u{0301}\u{0308}", "combining marks alone"),
            ("\u{00AD}", "a soft hyphen"),
            ("\u{2800}", "a blank braille pattern"),
            ("\u{FE0F}", "a variation selector"),
            ("\u{E0041}\u{E0042}", "tag characters"),
            (
                "\u{3000}\u{200B}\u{00A0}",
                "ideographic and no-break spaces",
            ),
        ];
        for (input, why) in table {
            assert_eq!(
                VideoTitle::parse(input, 100),
                Err(invisible.clone()),
                "{why}"
            );
            assert_eq!(
                VideoTitle::parse_optional(Some(input), 100),
                Err(invisible.clone()),
                "optional: {why}"
            );
        }
        assert!(invisible.to_string().contains("visible character"));
        for fine in ["e\u{0301}", "\u{200B}Film", "ㅋ", "🎬"] {
            assert!(VideoTitle::parse(fine, 100).is_ok(), "{fine:?}");
        }
    }
}
