//! What a video plays: a YouTube video or a direct media file, parsed from a pasted URL.
//!
//! Accepted: every YouTube form (`watch?v=`, `youtu.be/`, `/embed/`, `/shorts/`, `/live/`,
//! `/v/`, the `www.`, `m.` and `music.` hosts, youtube-nocookie.com) with `t=`/`start=`
//! offsets, and http(s) links to `.mp4`, `.webm`, `.ogg`/`.ogv` and `.m3u8` (HLS) files.

use serde::{Deserialize, Serialize};
use url::Url;

/// What the text of every rejection ends with: what is accepted.
pub const ACCEPTED: &str = "Paste a YouTube link (youtube.com/watch?v=…, youtu.be/…, /shorts/…, \
/live/…, /embed/…) or a direct link to a .mp4, .webm, .ogg or .m3u8 file.";

/// How the browser plays a video.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// Through the YouTube IFrame API; the source is the 11-character video id.
    Youtube,
    /// A media file in a native `<video>` element; the source is its URL.
    File,
    /// An HLS playlist; the source is its URL.
    Hls,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Youtube => "youtube",
            Self::File => "file",
            Self::Hls => "hls",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "youtube" => Some(Self::Youtube),
            "file" => Some(Self::File),
            "hls" => Some(Self::Hls),
            _ => None,
        }
    }
}

/// A playable source, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaSource {
    pub kind: MediaKind,
    /// YouTube video id, or the media URL.
    pub source: String,
    /// Where playback starts, from a `t=`/`start=` offset (seconds).
    pub start_secs: u32,
}

/// The bundled sample clips, served from `static/media/`: (name, title, seconds).
pub const SAMPLES: &[(&str, &str, u32)] = &[
    ("sample-90s", "Sample clip (90 s)", 90),
    ("sample-30s", "Sample clip (30 s)", 30),
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaUrlError {
    #[error("Paste a link first. {ACCEPTED}")]
    Empty,
    #[error("That link is longer than {0} characters. {ACCEPTED}")]
    TooLong(usize),
    #[error("That is not a web link. {ACCEPTED}")]
    NotAUrl,
    #[error("Only http and https links can be played. {ACCEPTED}")]
    UnsupportedScheme,
    #[error("That YouTube link does not point to a single video. {ACCEPTED}")]
    YoutubeWithoutVideo,
    #[error(
        "That link does not point to a YouTube video or a media file WeWatch can play. {ACCEPTED}"
    )]
    NotMedia,
    #[error("There is no sample called {0:?}.")]
    UnknownSample(String),
}

impl MediaSource {
    /// Parses a pasted link. Surrounding spaces are ignored and a missing `https://` added.
    pub fn parse(input: &str, max_bytes: usize) -> Result<Self, MediaUrlError> {
        let input = input.trim();
        if input.is_empty() {
            return Err(MediaUrlError::Empty);
        }
        if input.len() > max_bytes {
            return Err(MediaUrlError::TooLong(max_bytes));
        }
        if input.chars().any(char::is_whitespace) {
            return Err(MediaUrlError::NotAUrl);
        }
        let url = match Url::parse(input) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => url,
            Ok(url) if input.contains("://") || looks_like_scheme(input, url.scheme()) => {
                return Err(MediaUrlError::UnsupportedScheme)
            }
            Err(_) if input.contains("://") => return Err(MediaUrlError::NotAUrl),
            // `youtube.com/watch?v=…` or `host:port/file.mp4`: a link without its scheme.
            _ => Url::parse(&format!("https://{input}")).map_err(|_| MediaUrlError::NotAUrl)?,
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(MediaUrlError::NotAUrl);
        }
        let host = url
            .host_str()
            .ok_or(MediaUrlError::NotAUrl)?
            .to_ascii_lowercase();
        if let Some(source) = youtube(&host, &url)? {
            return Ok(source);
        }
        let path = url.path().to_ascii_lowercase();
        let kind = if [".mp4", ".m4v", ".webm", ".ogg", ".ogv"]
            .iter()
            .any(|e| path.ends_with(e))
        {
            MediaKind::File
        } else if path.ends_with(".m3u8") {
            MediaKind::Hls
        } else {
            return Err(MediaUrlError::NotMedia);
        };
        let start_secs = fragment_start(&url).unwrap_or(0);
        Ok(Self {
            kind,
            source: url.to_string(),
            start_secs,
        })
    }

    /// A bundled sample clip by name, served by this server.
    pub fn sample(name: &str) -> Result<(Self, &'static str), MediaUrlError> {
        let (name, title, _) = SAMPLES
            .iter()
            .find(|(n, _, _)| *n == name)
            .ok_or_else(|| MediaUrlError::UnknownSample(name.chars().take(40).collect()))?;
        let source = Self {
            kind: MediaKind::File,
            source: format!("/static/media/{name}.webm"),
            start_secs: 0,
        };
        Ok((source, title))
    }

    /// A title for a video added without one.
    pub fn default_title(&self) -> String {
        match self.kind {
            MediaKind::Youtube => format!("YouTube video {}", self.source),
            MediaKind::File | MediaKind::Hls => {
                let name = self.source.rsplit('/').next().unwrap_or(&self.source);
                let name = name.split(['?', '#']).next().unwrap_or(name);
                let decoded = url::form_urlencoded::parse(name.as_bytes())
                    .map(|(k, v)| {
                        if v.is_empty() {
                            k.into_owned()
                        } else {
                            format!("{k}={v}")
                        }
                    })
                    .collect::<String>();
                let shown: String = decoded
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(120)
                    .collect();
                if shown.is_empty() {
                    "Untitled video".into()
                } else {
                    shown
                }
            }
        }
    }
}

/// `javascript:…` or `mailto:…` is a scheme; `example.com:8080/…` is a host and port.
fn looks_like_scheme(input: &str, scheme: &str) -> bool {
    let rest = &input[scheme.len() + 1..];
    !scheme.contains('.') && !rest.starts_with(|c: char| c.is_ascii_digit())
}

const YOUTUBE_HOSTS: &[&str] = &[
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "music.youtube.com",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
];

/// `Some` for a YouTube video link, `None` for a host that is not YouTube's.
fn youtube(host: &str, url: &Url) -> Result<Option<MediaSource>, MediaUrlError> {
    let segments: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    let id: Option<String> = if host == "youtu.be" || host == "www.youtu.be" {
        segments.first().map(|s| s.to_string())
    } else if YOUTUBE_HOSTS.contains(&host) {
        match segments.as_slice() {
            ["embed" | "shorts" | "live" | "v" | "e", id, ..] => Some(id.to_string()),
            _ => query(url, "v").map(|v| v.into_owned()),
        }
    } else {
        return Ok(None);
    };
    let owned = id.ok_or(MediaUrlError::YoutubeWithoutVideo)?;
    if !is_youtube_id(&owned) {
        return Err(MediaUrlError::YoutubeWithoutVideo);
    }
    let start_secs = query(url, "t")
        .or_else(|| query(url, "start"))
        .and_then(|t| parse_offset(&t))
        .or_else(|| fragment_start(url))
        .unwrap_or(0);
    Ok(Some(MediaSource {
        kind: MediaKind::Youtube,
        source: owned,
        start_secs,
    }))
}

fn query<'a>(url: &'a Url, name: &str) -> Option<std::borrow::Cow<'a, str>> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v)
}

fn fragment_start(url: &Url) -> Option<u32> {
    let fragment = url.fragment()?;
    let value = fragment.strip_prefix("t=")?;
    parse_offset(value)
}

/// An 11-character YouTube video id.
pub fn is_youtube_id(id: &str) -> bool {
    id.len() == 11
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `90`, `90s`, `1m30s`, `1h2m3s`, `1:30`, `1:02:03` → seconds. At most 24 hours.
pub fn parse_offset(text: &str) -> Option<u32> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let secs: u64 = if text.contains(':') {
        let mut total = 0u64;
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() > 3 {
            return None;
        }
        for part in parts {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) || part.len() > 6 {
                return None;
            }
            total = total * 60 + part.parse::<u64>().ok()?;
        }
        total
    } else {
        let mut total = 0u64;
        let mut number = String::new();
        for c in text.chars() {
            match c {
                '0'..='9' if number.len() < 7 => number.push(c),
                'h' | 'm' | 's' if !number.is_empty() => {
                    let n: u64 = number.parse().ok()?;
                    total += n * match c {
                        'h' => 3600,
                        'm' => 60,
                        _ => 1,
                    };
                    number.clear();
                }
                _ => return None,
            }
        }
        if !number.is_empty() {
            total += number.parse::<u64>().ok()?;
        }
        total
    };
    (secs <= 24 * 3600).then_some(secs as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 2048;

    #[test]
    fn every_accepted_form_parses() {
        let yt = |id: &str, start: u32| (MediaKind::Youtube, id.to_owned(), start);
        let file = |url: &str| (MediaKind::File, url.to_owned(), 0);
        let table: Vec<(&str, (MediaKind, String, u32))> = vec![
            (
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ",
                yt("dQw4w9WgXcQ", 0),
            ),
            (
                "http://youtube.com/watch?v=dQw4w9WgXcQ",
                yt("dQw4w9WgXcQ", 0),
            ),
            ("youtube.com/watch?v=dQw4w9WgXcQ", yt("dQw4w9WgXcQ", 0)),
            (
                "www.youtube.com/watch?v=dQw4w9WgXcQ&list=PL123&index=2",
                yt("dQw4w9WgXcQ", 0),
            ),
            (
                "https://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ",
                yt("dQw4w9WgXcQ", 0),
            ),
            (
                "https://m.youtube.com/watch?v=dQw4w9WgXcQ",
                yt("dQw4w9WgXcQ", 0),
            ),
            (
                "https://music.youtube.com/watch?v=dQw4w9WgXcQ&si=abc",
                yt("dQw4w9WgXcQ", 0),
            ),
            ("https://youtu.be/dQw4w9WgXcQ", yt("dQw4w9WgXcQ", 0)),
            ("youtu.be/dQw4w9WgXcQ?si=xyz", yt("dQw4w9WgXcQ", 0)),
            ("https://youtu.be/dQw4w9WgXcQ?t=42", yt("dQw4w9WgXcQ", 42)),
            (
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1m30s",
                yt("dQw4w9WgXcQ", 90),
            ),
            (
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=1h2m3s",
                yt("dQw4w9WgXcQ", 3723),
            ),
            (
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=75s",
                yt("dQw4w9WgXcQ", 75),
            ),
            (
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ#t=2m",
                yt("dQw4w9WgXcQ", 120),
            ),
            (
                "https://www.youtube.com/embed/dQw4w9WgXcQ",
                yt("dQw4w9WgXcQ", 0),
            ),
            (
                "https://www.youtube.com/embed/dQw4w9WgXcQ?start=30",
                yt("dQw4w9WgXcQ", 30),
            ),
            (
                "https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ?start=5",
                yt("dQw4w9WgXcQ", 5),
            ),
            (
                "https://www.youtube.com/shorts/abcdefghijk",
                yt("abcdefghijk", 0),
            ),
            (
                "https://youtube.com/shorts/abc-_fghijk?feature=share",
                yt("abc-_fghijk", 0),
            ),
            (
                "https://www.youtube.com/live/abcdefghijk?si=q",
                yt("abcdefghijk", 0),
            ),
            (
                "https://www.youtube.com/v/dQw4w9WgXcQ",
                yt("dQw4w9WgXcQ", 0),
            ),
            ("  https://YOUTU.BE/dQw4w9WgXcQ  ", yt("dQw4w9WgXcQ", 0)),
            (
                "https://cdn.example.com/films/night.mp4",
                file("https://cdn.example.com/films/night.mp4"),
            ),
            (
                "https://example.com/a/clip.WEBM?token=1",
                file("https://example.com/a/clip.WEBM?token=1"),
            ),
            (
                "http://example.com/sound.ogg",
                file("http://example.com/sound.ogg"),
            ),
            ("example.com/x.ogv", file("https://example.com/x.ogv")),
            (
                "https://example.com/live/index.m3u8",
                (
                    MediaKind::Hls,
                    "https://example.com/live/index.m3u8".into(),
                    0,
                ),
            ),
            (
                "https://example.com/v.mp4#t=12",
                (MediaKind::File, "https://example.com/v.mp4#t=12".into(), 12),
            ),
        ];
        for (input, (kind, source, start)) in table {
            let parsed = MediaSource::parse(input, MAX).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (parsed.kind, parsed.source, parsed.start_secs),
                (kind, source, start),
                "{input}"
            );
        }
    }

    #[test]
    fn rejects_say_what_is_wrong_and_what_is_accepted() {
        let long = format!("https://example.com/{}.mp4", "a".repeat(MAX));
        let table: Vec<(&str, MediaUrlError)> = vec![
            ("", MediaUrlError::Empty),
            ("   ", MediaUrlError::Empty),
            (&long, MediaUrlError::TooLong(MAX)),
            ("not a url", MediaUrlError::NotAUrl),
            ("http://", MediaUrlError::NotAUrl),
            ("ftp://example.com/a.mp4", MediaUrlError::UnsupportedScheme),
            (
                "javascript:alert(1)//a.mp4",
                MediaUrlError::UnsupportedScheme,
            ),
            ("file:///etc/passwd.mp4", MediaUrlError::UnsupportedScheme),
            ("https://user:pw@example.com/a.mp4", MediaUrlError::NotAUrl),
            (
                "https://www.youtube.com/",
                MediaUrlError::YoutubeWithoutVideo,
            ),
            (
                "https://www.youtube.com/watch?v=short",
                MediaUrlError::YoutubeWithoutVideo,
            ),
            (
                "https://www.youtube.com/watch?v=dQw4w9WgXcQ<script>",
                MediaUrlError::YoutubeWithoutVideo,
            ),
            (
                "https://www.youtube.com/@channel",
                MediaUrlError::YoutubeWithoutVideo,
            ),
            (
                "https://www.youtube.com/playlist?list=PL123",
                MediaUrlError::YoutubeWithoutVideo,
            ),
            ("https://youtu.be/", MediaUrlError::YoutubeWithoutVideo),
            ("https://vimeo.com/12345", MediaUrlError::NotMedia),
            ("https://example.com/page.html", MediaUrlError::NotMedia),
            ("https://example.com/movie.mp4.exe", MediaUrlError::NotMedia),
            (
                "https://notyoutube.com/watch?v=dQw4w9WgXcQ",
                MediaUrlError::NotMedia,
            ),
        ];
        for (input, expected) in table {
            let err = MediaSource::parse(input, MAX).expect_err(input);
            assert_eq!(err, expected, "{input}");
            if !matches!(err, MediaUrlError::UnknownSample(_)) {
                assert!(
                    err.to_string().contains(".m3u8"),
                    "{input}: message names what is accepted"
                );
            }
        }
    }

    #[test]
    fn offsets_parse_in_every_notation() {
        for (text, secs) in [
            ("0", Some(0)),
            ("42", Some(42)),
            ("42s", Some(42)),
            ("2m", Some(120)),
            ("1m30s", Some(90)),
            ("1h", Some(3600)),
            ("1:30", Some(90)),
            ("1:02:03", Some(3723)),
            ("", None),
            ("abc", None),
            ("1x", None),
            ("s", None),
            ("1:2:3:4", None),
            ("99999999", None),
        ] {
            assert_eq!(parse_offset(text), secs, "{text:?}");
        }
    }

    #[test]
    fn samples_are_served_locally_and_unknown_ones_refused() {
        let (source, title) = MediaSource::sample("sample-90s").unwrap();
        assert_eq!(source.source, "/static/media/sample-90s.webm");
        assert!(title.contains("90"));
        assert!(MediaSource::sample("../etc").is_err());
    }

    #[test]
    fn default_titles_come_from_the_file_name() {
        let s = MediaSource::parse("https://example.com/films/My%20Film.mp4?x=1", MAX).unwrap();
        assert_eq!(s.default_title(), "My Film.mp4");
        let y = MediaSource::parse("youtu.be/dQw4w9WgXcQ", MAX).unwrap();
        assert_eq!(y.default_title(), "YouTube video dQw4w9WgXcQ");
    }
}
