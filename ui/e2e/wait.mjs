// Bounded waits for the end-to-end scripts: every wait names what it waited for.

/** A wait that ran out (the scripts report it without a stack). */
export class WaitError extends Error {}

/** Poll `fn` (Node side) until it returns a truthy value; fail naming `what` after `timeoutMs`. */
export async function waitFor(what, fn, { timeoutMs, intervalMs = 250 }) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new WaitError(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last error: ${last.message ?? last})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
