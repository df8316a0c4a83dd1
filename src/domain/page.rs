//! Page numbers of listings, as found in `?page=`.

/// A 1-based page number, at most the last page a listing can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageNumber(usize);

/// Why a `?page=` was refused, in words for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("There is no page “{shown}”: pages are numbered from 1 to {last}.")]
pub struct PageNumberError {
    shown: String,
    last: usize,
}

impl PageNumber {
    /// The first page.
    pub const FIRST: Self = Self(1);

    /// A page number from a query string: absent or blank means the first page; otherwise
    /// plain digits from 1 to `last` (the most pages the listing can ever have), so that no
    /// huge number reaches the arithmetic of an offset.
    pub fn parse(text: Option<&str>, last: usize) -> Result<Self, PageNumberError> {
        let last = last.max(1);
        let text = match text.map(str::trim) {
            None | Some("") => return Ok(Self::FIRST),
            Some(text) => text,
        };
        let refused = || PageNumberError {
            shown: text.chars().take(24).collect(),
            last,
        };
        if text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused());
        }
        match text.parse::<usize>() {
            Ok(n) if (1..=last).contains(&n) => Ok(Self(n)),
            _ => Err(refused()),
        }
    }

    /// The most pages a listing of at most `most_items` items, `page_size` a page, can have.
    pub fn last_of(most_items: usize, page_size: usize) -> usize {
        most_items.div_ceil(page_size.max(1)).max(1)
    }

    /// The page number as shown (1-based).
    pub fn get(self) -> usize {
        self.0
    }

    /// The page's index (0-based), as the managers count.
    pub fn index(self) -> usize {
        self.0 - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_are_plain_numbers_within_the_listing() {
        assert_eq!(PageNumber::parse(None, 5), Ok(PageNumber::FIRST));
        assert_eq!(PageNumber::parse(Some(" "), 5), Ok(PageNumber::FIRST));
        assert_eq!(PageNumber::parse(Some("5"), 5).unwrap().index(), 4);
        let table = [
            ("0", "pages start at 1"),
            ("6", "beyond the last page"),
            ("-1", "negative"),
            ("18446744073709551615", "u64::MAX"),
            ("100000000000000000", "10^17"),
            ("99999999999999999999999", "more than any integer"),
            ("1e3", "an exponent"),
            ("NaN", "not a number"),
            ("inf", "infinity"),
            ("2.5", "a fraction"),
            ("\u{FFFD}", "invalid UTF-8, decoded"),
            ("0x2", "hexadecimal"),
        ];
        for (input, why) in table {
            let err = PageNumber::parse(Some(input), 5).unwrap_err();
            assert!(err.to_string().contains("from 1 to 5"), "{why}: {err}");
        }
        assert_eq!(PageNumber::last_of(1000, 20), 50);
        assert_eq!(PageNumber::last_of(0, 20), 1);
    }
}
