// The page's sync status as the viewer list shows it to everyone: in sync, or not. The error
// is read on every tick; the verdict changes only with hysteresis, so it does not flap: out of
// sync once the error stays beyond OUT_MS (or a seek stays under way) for longer than
// OUT_AFTER_MS, back in sync once the error falls under BACK_MS. A buffering player says so
// with its own message and is not judged meanwhile. Pure: the caller supplies the samples
// (with the local time) and the sender.

export const SYNC_OUT_MS = 100;
export const SYNC_BACK_MS = 40;
export const SYNC_OUT_AFTER_MS = 1000;

/**
 * One step of the verdict.
 * @param {{inSync: boolean, offSince: number|null}} previous
 * @param {object} sample
 * @param {number} sample.atMs local time of the sample
 * @param {number|null} sample.errorMs player position − expected position (null: unknown)
 * @param {boolean} [sample.moving] the party's timeline moves (playing and started)
 * @param {boolean} [sample.seeking] a seek of the player is under way
 * @param {boolean} [sample.buffering] the player waits for data
 * @param {boolean} [sample.holding] the viewer's own command awaits the server's answer
 * @param {number} [sample.bandMs] the player's dead band: a coarse player is judged by it
 * @returns {{inSync: boolean, offSince: number|null}}
 */
export function judgeSync(previous, sample) {
  const { atMs, errorMs, moving = false, seeking = false, buffering = false, holding = false, bandMs = 0 } = sample;
  const { inSync } = previous;
  if (buffering || holding || (errorMs == null && !seeking)) return { inSync, offSince: null };
  const outMs = Math.max(SYNC_OUT_MS, 2 * bandMs);
  const backMs = Math.max(SYNC_BACK_MS, bandMs);
  const off = Math.abs(errorMs ?? Infinity);
  if (seeking || (moving && off > outMs)) {
    const offSince = previous.offSince ?? atMs;
    return { inSync: inSync && atMs - offSince <= SYNC_OUT_AFTER_MS, offSince };
  }
  return { inSync: inSync || off < backMs, offSince: null };
}

/** Tells the server when the verdict changes; a new connection starts out counted in sync. */
export class SyncStatusReporter {
  /** @param {(type: string, fields: object) => boolean} send true when sent */
  constructor(send) {
    this.send = send;
    this.verdict = { inSync: true, offSince: null };
    this.told = true; // what the server holds for this connection
  }

  get inSync() { return this.verdict.inSync; }

  /** Folds in one sample (see judgeSync) and reports a changed verdict. */
  observe(sample) {
    this.verdict = judgeSync(this.verdict, sample);
    this.flush();
  }

  /** A new connection: the server counts it in sync until told otherwise. */
  connected() {
    this.told = true;
    this.flush();
  }

  flush() {
    const inSync = this.verdict.inSync;
    if (inSync !== this.told && this.send('sync_status', { in_sync: inSync })) this.told = inSync;
  }
}

/**
 * What the page's sync badge says: nothing without a player or while the connection is down
 * (the page cannot know the party's timeline then, so it never claims to be in sync), else
 * "in sync ±12 ms" or "syncing…".
 */
export function syncText({ connected, hasPlayer, errorMs, inSync }) {
  if (!connected || (errorMs == null && !hasPlayer)) return '';
  return inSync ? `in sync ±${Math.round(Math.abs(errorMs ?? 0))} ms` : 'syncing…';
}
