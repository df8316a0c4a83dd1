// Who may control playback, read from the party's permissions exactly as the server reads
// them (docs/protocol.md, `permissions`): everyone in mode "everyone"; otherwise the owner and
// the viewers they promoted. Pure: the page decides what to show from these answers.

/** User ids arrive as numbers from the server and as strings from the page's attributes. */
export function sameUser(a, b) {
  return a != null && b != null && String(a) === String(b);
}

/** True when `userId` is the party's owner. */
export function isOwner(permissions, userId) {
  return sameUser(permissions?.owner_id, userId);
}

/** True when the owner promoted `userId` (they keep it while the mode is "everyone"). */
export function isPromoted(permissions, userId) {
  return (permissions?.controllers ?? []).some((id) => sameUser(id, userId));
}

/** True when `userId` may play, pause, seek, change the rate, skip and jump. */
export function mayControl(permissions, userId) {
  if (!permissions) return false;
  return permissions.mode === 'everyone' || isOwner(permissions, userId) || isPromoted(permissions, userId);
}

/**
 * What the viewer `selfId` can do about `viewerId`'s control: 'promote', 'demote', or null
 * when it is not theirs to change (only the owner promotes, and never themself).
 */
export function promotion(permissions, selfId, viewerId) {
  if (!isOwner(permissions, selfId) || sameUser(selfId, viewerId) || isOwner(permissions, viewerId)) return null;
  return isPromoted(permissions, viewerId) ? 'demote' : 'promote';
}
