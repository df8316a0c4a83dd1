// Changing one's display name from the watch page (`set_name`). The server answers a good
// name by sending the viewer list with it, which is when the form shows it as saved.

export class NameForm {
  /**
   * @param {object} o
   * @param {HTMLFormElement} o.form  @param {HTMLInputElement} o.input  @param {HTMLElement} o.error
   * @param {(type: string, fields: object) => boolean} o.send
   * @param {(name: string) => void} o.onRenamed the server now knows this viewer by `name`
   */
  constructor({ form, input, error, send, onRenamed = () => {} }) {
    Object.assign(this, { form, input, error, send, onRenamed });
    this.name = input.value;
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.showError('');
      if (!this.send('set_name', { name: input.value })) this.showError('Not connected: your name was not changed.');
    });
  }

  /** The name the server knows this viewer by (from welcome and every viewer list). */
  known(name) {
    if (typeof name !== 'string' || name === this.name) return;
    const typing = this.input.ownerDocument.activeElement === this.input && this.input.value.trim() !== name;
    this.name = name;
    if (!typing) this.input.value = name;
    this.showError('');
    this.onRenamed(name);
  }

  /** A refused name: says why and keeps what was typed. True when the error was about a name. */
  refused(code, message) {
    if (code !== 'invalid_name') return false;
    this.showError(message || 'That name cannot be used.');
    return true;
  }

  showError(text) {
    this.error.textContent = text;
    this.error.classList.toggle('d-none', !text);
    this.input.classList.toggle('is-invalid', Boolean(text));
  }
}
