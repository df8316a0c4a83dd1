// The viewer list: one entry per person, with how many connections they hold, whether they
// play, are paused, buffer or are away, and who may control playback; the owner gets a
// Promote/Demote button for everyone else. Names come from other viewers, so they are only
// ever set as text.

import { isOwner, isPromoted, promotion, sameUser } from './permissions.js';

// What each status says, and the badge that shows it; an unknown status shows as it is.
const STATUSES = {
  watching: { label: 'watching', tone: 'text-bg-secondary' },
  out_of_sync: { label: 'out of sync', tone: 'text-bg-warning' },
  buffering: { label: 'loading…', tone: 'text-bg-info' },
  left_behind: { label: 'left behind (still loading)', tone: 'text-bg-danger' },
  away: { label: 'away (no connection)', tone: 'text-bg-dark' },
};
// A viewer who follows the party plays or is paused with it.
const FOLLOWING = { true: 'paused', false: 'playing' };
const OTHER_STATUS = { tone: 'text-bg-secondary' };
const statusOf = (status) => (Object.hasOwn(STATUSES, String(status)) ? STATUSES[status] : null);
// The waiting notice names this many viewers, then counts the rest.
const NAMED_MAX = 3;

/**
 * What one viewer's entry says; pure, so it is tested without a DOM. `paused` is the party's
 * (null when unknown): a viewer who follows it shows as playing or paused.
 */
export function describeViewer(viewer, selfId, permissions = null, paused = null) {
  const connections = Number(viewer.connections) || 1;
  const following = viewer.status === 'watching' && typeof paused === 'boolean';
  return {
    name: String(viewer.name ?? ''),
    you: sameUser(viewer.user_id, selfId),
    connections: connections > 1 ? `×${connections}` : '',
    status: following ? FOLLOWING[paused] : statusOf(viewer.status)?.label ?? String(viewer.status ?? ''),
    tone: (statusOf(viewer.status) ?? OTHER_STATUS).tone,
    buffering: viewer.status === 'buffering',
    owner: isOwner(permissions, viewer.user_id),
    controller: isPromoted(permissions, viewer.user_id),
    promotion: promotion(permissions, selfId, viewer.user_id),
  };
}

/**
 * What the party's waiting notice says: who it waits for, the viewers whose status is
 * `buffering` ("you" for this viewer), e.g. "Waiting for Ana and you to load…"; when the list
 * names nobody (it has not caught up yet, or is cut short), `heldBy`, the name of whoever made
 * the party wait (the state's `updated_by`). Plain text.
 */
export function waitingNotice(viewers, selfId, heldBy = '') {
  const loading = (viewers ?? []).filter((v) => v.status === 'buffering');
  const others = loading.filter((v) => !sameUser(v.user_id, selfId)).map((v) => String(v.name ?? ''));
  const names = loading.length > others.length ? [...others, 'you'] : others;
  if (names.length === 0 && heldBy) names.push(String(heldBy));
  if (names.length === 0) return 'Waiting for everyone to be ready…';
  const shown = names.length > NAMED_MAX ? names.slice(0, NAMED_MAX - 1) : names;
  const rest = names.length - shown.length;
  const parts = rest > 0 ? [...shown, `${rest} others`] : shown;
  const list = parts.length === 1 ? parts[0] : `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}`;
  return `Waiting for ${list} to load…`;
}

/**
 * What this viewer is told when the party goes on without them (their list entry says left
 * behind), or null.
 */
export function leftBehindNotice(viewers, selfId) {
  const me = (viewers ?? []).find((v) => sameUser(v.user_id, selfId));
  if (me?.status !== 'left_behind') return null;
  return 'Your video is loading too slowly, so the party goes on without you for now. It '
    + 'catches up by itself once it has loaded.';
}

/** Replaces the list's entries with one <li> per viewer (`paused`: the party's). */
export function renderViewers(list, viewers, selfId, permissions = null, paused = null) {
  const doc = list.ownerDocument;
  const items = viewers.map((viewer) => {
    const d = describeViewer(viewer, selfId, permissions, paused);
    const li = doc.createElement('li');
    li.className = 'list-group-item d-flex align-items-center gap-2 viewer';
    if (d.controller) li.classList.add('viewer-controller');
    if (d.owner) li.classList.add('viewer-owner');
    li.dataset.userId = String(viewer.user_id);
    const name = doc.createElement('span');
    name.className = 'viewer-name';
    name.textContent = d.name;
    li.append(name);
    if (d.you) li.append(span(doc, 'text-secondary small', '(you)'));
    if (d.owner) li.append(span(doc, 'viewer-role badge text-bg-dark', 'host'));
    else if (d.controller) li.append(span(doc, 'viewer-role badge text-bg-info', 'controls'));
    if (d.connections) li.append(span(doc, 'viewer-connections text-secondary small', d.connections));
    if (statusOf(viewer.status)) li.classList.add(`viewer-${viewer.status.replaceAll('_', '-')}`);
    li.append(span(doc, `viewer-status badge ${d.tone} ms-auto`, d.status));
    if (d.promotion) {
      const button = doc.createElement('button');
      button.type = 'button';
      button.className = `btn btn-sm ${d.promotion === 'promote' ? 'btn-outline-primary' : 'btn-outline-secondary'} promote`;
      button.dataset.userId = String(viewer.user_id);
      button.dataset.action = d.promotion;
      button.textContent = d.promotion === 'promote' ? 'Promote' : 'Demote';
      button.setAttribute('aria-label', `${button.textContent} ${d.name}`);
      li.append(button);
    }
    return li;
  });
  list.replaceChildren(...items);
}

function span(doc, className, text) {
  const el = doc.createElement('span');
  el.className = className;
  el.textContent = text;
  return el;
}
