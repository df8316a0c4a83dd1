// The invite link's Copy button.

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
