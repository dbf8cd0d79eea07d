// BIP-340 tagged hash: SHA256(SHA256(tag) ‖ SHA256(tag) ‖ msg) (docs/protocol.md §1.3).
import { sha256 } from "./sha256";

export type Digest = (data: Uint8Array) => Promise<Uint8Array>;

/** SHA-256 via WebCrypto where the page may use it, else the pure-TS fallback. */
export function defaultDigest(): Digest {
  const subtle = globalThis.crypto?.subtle;
  if (subtle && typeof subtle.digest === "function") {
    return async (data) => new Uint8Array(await subtle.digest("SHA-256", data as BufferSource));
  }
  return async (data) => sha256(data);
}

/** The pure-TS digest, as a `Digest`. */
export const fallbackDigest: Digest = async (data) => sha256(data);

export async function taggedHash(
  tag: string,
  msg: Uint8Array,
  digest: Digest = defaultDigest(),
): Promise<Uint8Array> {
  const tagHash = await digest(new TextEncoder().encode(tag));
  const buf = new Uint8Array(64 + msg.length);
  buf.set(tagHash, 0);
  buf.set(tagHash, 32);
  buf.set(msg, 64);
  return digest(buf);
}
