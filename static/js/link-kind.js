// Which player a pasted link will get, said in the add-video form while the viewer types:
// the server's rules (src/domain/media.rs) for telling a YouTube link from a media file or
// an HLS stream, without its checks of every detail — the server still has the last word.
// Pure.

const YOUTUBE_HOSTS = new Set(['youtube.com', 'www.youtube.com', 'm.youtube.com', 'music.youtube.com',
  'youtube-nocookie.com', 'www.youtube-nocookie.com', 'youtu.be', 'www.youtu.be']);
const FILE_ENDINGS = ['.mp4', '.m4v', '.webm', '.ogg', '.ogv'];
const HLS_ENDING = '.m3u8';

/** What the form shows for each kind of link. */
export const LINK_KINDS = Object.freeze({
  youtube: 'Player: YouTube',
  file: 'Player: Video file (the browser’s own player)',
  hls: 'Player: HLS stream',
  other: 'Not a YouTube link or a link to a media file',
});

/**
 * The kind of player `text` will get: 'youtube', 'file', 'hls', 'other' (not something
 * WeWatch plays), or null while there is nothing to judge (empty, or no host yet).
 */
export function linkKind(text) {
  const input = String(text ?? '').trim();
  if (!input) return null;
  let url;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`);
  } catch {
    return /^[a-z]+:\/*$/i.test(input) ? null : 'other'; // only the scheme so far
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'other';
  const host = url.hostname.toLowerCase();
  if (!host.includes('.')) return null; // still typing the host
  if (YOUTUBE_HOSTS.has(host)) return 'youtube';
  const path = url.pathname.toLowerCase();
  if (FILE_ENDINGS.some((ending) => path.endsWith(ending))) return 'file';
  if (path.endsWith(HLS_ENDING)) return 'hls';
  return 'other';
}

/** What the form says of `text`: one of LINK_KINDS, or '' while there is nothing to say. */
export function linkKindText(text) {
  const kind = linkKind(text);
  return kind ? LINK_KINDS[kind] : '';
}
