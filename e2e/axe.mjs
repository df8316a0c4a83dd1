// The automated accessibility check of a page: axe-core (e2e/node_modules) run inside the
// page in Chromium. The pages' Content-Security-Policy allows no injected script, so axe's
// source is evaluated through DevTools (`Runtime.evaluate`), which no page policy governs.
// No test runs here.

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
/** The impacts a page may not have any violation of. */
export const BLOCKING_IMPACTS = new Set(['serious', 'critical']);

let source = null;

/**
 * Runs axe-core's rules (its defaults: WCAG 2 A and AA, and best practices) on the page as it
 * is now. Resolves with every violation: `{ id, impact, help, nodes: [{ target, summary }] }`.
 */
export async function axeViolations(page) {
  source ??= await readFile(AXE_SOURCE, 'utf8');
  const cdp = await page.context().newCDPSession(page);
  try {
    const loaded = await cdp.send('Runtime.evaluate', { expression: `${source};typeof window.axe`, returnByValue: true });
    if (loaded.exceptionDetails || loaded.result.value !== 'object') {
      throw new Error(`axe-core did not load: ${JSON.stringify(loaded.exceptionDetails ?? loaded.result)}`);
    }
  } finally {
    await cdp.detach().catch(() => {});
  }
  return page.evaluate(async () => {
    const results = await window.axe.run(document, { resultTypes: ['violations'] });
    return results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary })),
    }));
  });
}

/** The violations of serious or critical impact, one line each, for an assertion message. */
export function blocking(violations) {
  return violations
    .filter((v) => BLOCKING_IMPACTS.has(v.impact))
    .map((v) => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map((n) => `${n.target} — ${n.summary}`).join('; ')}`);
}
