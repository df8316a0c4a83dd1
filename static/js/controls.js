// Who may control, on the page: the hint for viewers who may not, and the owner's tools —
// the control mode, "wait for everyone" and a Promote/Demote button per viewer (drawn by
// presence.js). What the server decides arrives as `permissions`; nothing here changes until
// it does. Others see "wait for everyone" as it is set, without being able to change it.

import { isOwner } from './permissions.js';

export class ControlPanel {
  /**
   * @param {object} o
   * @param {HTMLElement} o.watchHint shown to those who may control
   * @param {HTMLElement} o.controlHint shown to those who may not
   * @param {HTMLSelectElement|null} o.mode the owner's control mode (absent for others)
   * @param {HTMLElement} o.viewers the viewer list holding the Promote/Demote buttons
   * @param {HTMLInputElement|null} [o.wait] the "wait for everyone" checkbox
   * @param {HTMLElement|null} [o.waitSetting] what holds it, hidden until the setting is known
   * @param {(type: string, fields: object) => boolean} o.send
   * @param {(text: string) => void} o.onNotice
   */
  constructor({ watchHint, controlHint, mode, viewers, wait = null, waitSetting = null, send, onNotice }) {
    Object.assign(this, { watchHint, controlHint, mode, wait, waitSetting });
    this.permissions = null;
    this.selfId = null;
    const unsent = () => onNotice('Not connected: the change was not sent.');
    mode?.addEventListener('change', () => {
      if (send('control_mode', { mode: mode.value })) return;
      unsent();
      if (this.permissions) mode.value = this.permissions.mode;
    });
    wait?.addEventListener('change', () => {
      if (isOwner(this.permissions, this.selfId) && send('set_wait', { enabled: Boolean(wait.checked) })) return;
      if (this.permissions) unsent();
      this.showWait(); // back to what the server last said
    });
    viewers.addEventListener('click', (ev) => {
      const button = ev.target.closest?.('button.promote');
      if (button && !send(button.dataset.action, { user_id: Number(button.dataset.userId) })) unsent();
    });
  }

  /** Shows what the permissions (null while unknown) mean for viewer `selfId`. */
  show(permissions, selfId, canControl) {
    this.permissions = permissions;
    this.selfId = selfId;
    this.hint(!canControl);
    this.showWait();
    if (!this.mode || !permissions) return;
    this.mode.value = permissions.mode;
    this.mode.classList.toggle('d-none', !isOwner(permissions, selfId));
  }

  /** "Wait for everyone" as the server last said; only the owner may change it. */
  showWait() {
    if (!this.wait) return;
    const known = Boolean(this.permissions);
    this.waitSetting?.classList.toggle('d-none', !known);
    if (!known) return;
    this.wait.checked = this.permissions.wait_for_everyone !== false;
    this.wait.disabled = !isOwner(this.permissions, this.selfId);
  }

  /** Shows (or hides) why this viewer's playback follows others'. */
  hint(restricted) {
    this.watchHint?.classList.toggle('d-none', restricted);
    this.controlHint?.classList.toggle('d-none', !restricted);
  }
}
