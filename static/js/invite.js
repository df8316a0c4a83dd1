// The invite link: its Copy button, and where it leads after the owner makes a new one.

// Invite keys are URL-safe base64; anything else is not used to build an address.
const INVITE_KEY = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The party's new invite link, asked of the owner's API (`ownerApi`, e.g. /api/v1/videos/12,
 * which answers only the owner): `{ key, watchUrl }`, or null when it cannot be had.
 */
export async function currentInvite(ownerApi, fetchImpl = globalThis.fetch) {
  if (!ownerApi) return null;
  try {
    const res = await fetchImpl(ownerApi, { headers: { Accept: 'application/json' }, credentials: 'same-origin' });
    if (!res.ok) return null;
    const body = await res.json();
    const key = String(body?.invite_key ?? '');
    return INVITE_KEY.test(key) ? { key, watchUrl: String(body.watch_url ?? '') } : null;
  } catch {
    return null;
  }
}

/** The page's paths for an invite key: the watch page and the party's socket. */
export function invitePaths(key) {
  return { page: `/watch/${key}`, socket: `/ws/watch/${key}` };
}

/** Shows `watchUrl` as the invite link. */
export function showInvite(link, watchUrl) {
  if (!link || !watchUrl) return;
  link.href = watchUrl;
  link.textContent = watchUrl;
}

/** Makes `button` copy the invite `link`'s address (or select it where copying is not allowed). */
export function wireInvite(link, button) {
  if (!link || !button) return;
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(link.href);
      button.textContent = 'Copied';
    } catch {
      // The clipboard API needs a secure context; with the link selected the viewer can copy it.
      const range = document.createRange();
      range.selectNodeContents(link);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
      button.textContent = 'Selected: copy it';
    }
    setTimeout(() => { button.textContent = 'Copy'; }, 2000);
  });
}
