// Media load through signed URLs that expire (GOONI_SIGNED_URL_TTL, 4 h by default). A page kept
// open longer than that holds dead links: when a medium fails to load, the answer that carried
// its URL is read again, but only when that answer is old enough for its URLs to have expired, so
// a medium that is really missing is not fetched over and over.

/** A media error on URLs signed less than this long ago means the medium is missing, not expired. */
const FRESH_URL_MS = 60_000;

/** True when URLs received at receivedAt (ms since the epoch) may have expired by now. */
export function mayHaveExpired(receivedAt: number, now: number = Date.now()): boolean {
  return receivedAt > 0 && now - receivedAt >= FRESH_URL_MS;
}
