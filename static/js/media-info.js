// When to tell the server what this viewer's player learned about the media (`media_info`):
// its duration, which the party needs to clamp positions and to know when an item has ended.
// Pure: the page reports what the player learned and sends what is due.

export class DurationReport {
  /**
   * @param {object} o
   * @param {boolean} o.everyMedia report every media once per connection, even when the
   *   state already carries a duration. In a playlist party each connection reports every
   *   item it loads: the server checks a connection's positions against the duration that
   *   connection last learned, and an earlier item's would refuse positions past its end.
   */
  constructor({ everyMedia = false } = {}) {
    this.everyMedia = everyMedia;
    this.learnedFor = null; // the media the player's info belongs to
    this.info = null;
    this.sentFor = null; // the media reported on this connection
  }

  /** The player showing `media` knows its duration (and maybe a title). */
  learned(media, info) {
    this.learnedFor = media;
    this.info = info;
  }

  /** Another media is loading: what was learned belongs to the old one. */
  forget() {
    this.learnedFor = null;
    this.info = null;
  }

  /** A new connection has been told nothing yet. */
  connected() {
    this.sentFor = null;
  }

  /** The `media_info` fields to send now for `media` (what the party plays), or null. */
  due(media, state) {
    if (!this.info || !state || this.learnedFor !== media || this.sentFor === media) return null;
    if (!this.everyMedia && state.duration_ms != null) return null;
    return this.info;
  }

  sent(media) {
    this.sentFor = media;
  }
}
