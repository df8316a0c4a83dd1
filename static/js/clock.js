// Clock alignment with the server (NTP-style): turns ping/pong samples into an estimate of
// server time. Pure: the local time source is injected; the wall clock is never consulted,
// because it may be skewed or stepped while the page is open.

/** Tuning for ClockSync; every field may be overridden. */
export const CLOCK_DEFAULTS = Object.freeze({
  windowSize: 30, // recent samples kept; older ones age out so a drifting clock is followed
  bestOf: 3, // when the samples' bounds contradict, the median offset of this many lowest-RTT samples
  burstPings: 4, // pings sent at once on connecting: round trips, not the welcome's one-way reading, before anything starts
  fastSamples: 8, // samples taken quickly right after connecting (the burst's among them)
  fastDelayMs: 150,
  slowDelayMs: 1000,
});

export class ClockSync {
  /** @param {{now?: () => number} & Partial<typeof CLOCK_DEFAULTS>} options */
  constructor(options = {}) {
    const { now = () => performance.now(), ...tuning } = options;
    this.now = now;
    this.tuning = { ...CLOCK_DEFAULTS, ...tuning };
    this.samples = [];
    this.sampleCount = 0; // samples since the last restartFast(), drives the ping schedule
    this.pingsSinceFast = 0; // pings sent since the last restartFast(), for the burst
    this.provisionalOffset = null;
  }

  /**
   * Records one round trip: `t0` local time at send, `serverMs` the server's reading,
   * `t1` local time at receipt. Returns the sample, or null when it is unusable.
   */
  record(t0, serverMs, t1) {
    const rtt = t1 - t0;
    if (!Number.isFinite(rtt) || rtt < 0 || !Number.isFinite(serverMs)) return null;
    // The server read its clock somewhere inside the round trip; the midpoint is the
    // unbiased guess when both legs take equally long.
    const sample = { rtt, offset: serverMs - (t0 + t1) / 2, at: t1 };
    this.samples.push(sample);
    if (this.samples.length > this.tuning.windowSize) this.samples.shift();
    this.sampleCount += 1;
    return sample;
  }

  /**
   * A one-way reading (e.g. welcome.server_ms) used only until the first real sample:
   * it is late by the one-way delay, which is better than no estimate at all.
   */
  recordOneWay(serverMs, receivedAt = this.now()) {
    if (Number.isFinite(serverMs)) this.provisionalOffset = serverMs - receivedAt;
  }

  /** Server time minus local time, or null before any reading. */
  offset() {
    if (this.samples.length === 0) return this.provisionalOffset;
    // Each sample bounds the offset: the server read its clock after t0 and before t1, so
    // offset ∈ [serverMs − t1, serverMs − t0]. The intersection of all bounds keeps the
    // shortest delay seen in each direction separately, tighter than any one sample.
    let lo = -Infinity;
    let hi = Infinity;
    for (const s of this.samples) {
      lo = Math.max(lo, s.offset - s.rtt / 2);
      hi = Math.min(hi, s.offset + s.rtt / 2);
    }
    if (lo <= hi) return (lo + hi) / 2;
    // Bounds that contradict each other (a clock stepped, or drifted across the window).
    const best = [...this.samples].sort((a, b) => a.rtt - b.rtt).slice(0, this.tuning.bestOf);
    return median(best.map((s) => s.offset));
  }

  /** True once at least one round trip has been measured. */
  measured() {
    return this.samples.length > 0;
  }

  /** The lowest round-trip time in the window, or null. */
  bestRtt() {
    return this.samples.length ? Math.min(...this.samples.map((s) => s.rtt)) : null;
  }

  /** Estimated server time (ms since the epoch) at local time `perfNow`; null before any reading. */
  serverNow(perfNow = this.now()) {
    const offset = this.offset();
    return offset == null ? null : perfNow + offset;
  }

  /** True once the quick samples after connecting (or after restartFast) are all in. */
  settled() {
    return this.sampleCount >= this.tuning.fastSamples;
  }

  /**
   * How long to wait before the next ping, asked once per ping sent: the first few at once
   * (a burst), then quick ones until the quick samples are in, then relaxed.
   */
  nextPingDelay() {
    const { burstPings, fastSamples, fastDelayMs, slowDelayMs } = this.tuning;
    this.pingsSinceFast += 1;
    if (this.pingsSinceFast < burstPings) return 0;
    return this.sampleCount < fastSamples ? fastDelayMs : slowDelayMs;
  }

  /**
   * Goes back to quick pings (after a reconnect, or when a hidden tab becomes visible),
   * keeping the samples: the server clock is the same, only the path may have changed.
   */
  restartFast() {
    this.sampleCount = 0;
    this.pingsSinceFast = 0;
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
