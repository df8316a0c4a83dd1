// The add-video form of the library: says which player the link being typed will get.

import { linkKindText } from './link-kind.js';

const input = document.getElementById('url');
const said = document.getElementById('link-kind');
if (input && said) {
  const show = () => { said.textContent = linkKindText(input.value); };
  input.addEventListener('input', show);
  show(); // a link put back after a refusal
}
