// The viewer list: one entry per person, with how many connections they hold and whether
// they watch or buffer. Names come from other viewers, so they are only ever set as text.

const STATUS_LABELS = { watching: 'watching', buffering: 'buffering' };

/** What one viewer's entry says; pure, so it is tested without a DOM. */
export function describeViewer(viewer, selfId) {
  const connections = Number(viewer.connections) || 1;
  return {
    name: String(viewer.name ?? ''),
    you: selfId != null && String(viewer.user_id) === String(selfId),
    connections: connections > 1 ? `×${connections}` : '',
    status: STATUS_LABELS[viewer.status] ?? String(viewer.status ?? ''),
    buffering: viewer.status === 'buffering',
  };
}

/** Replaces the list's entries with one <li> per viewer. */
export function renderViewers(list, viewers, selfId) {
  const doc = list.ownerDocument;
  const items = viewers.map((viewer) => {
    const d = describeViewer(viewer, selfId);
    const li = doc.createElement('li');
    li.className = 'list-group-item d-flex align-items-center gap-2 viewer';
    li.dataset.userId = String(viewer.user_id);
    const name = doc.createElement('span');
    name.className = 'viewer-name';
    name.textContent = d.name;
    li.append(name);
    if (d.you) li.append(span(doc, 'text-secondary small', '(you)'));
    if (d.connections) li.append(span(doc, 'viewer-connections text-secondary small', d.connections));
    const badge = d.buffering ? 'text-bg-warning' : 'text-bg-secondary';
    li.append(span(doc, `viewer-status badge ${badge} ms-auto`, d.status));
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
