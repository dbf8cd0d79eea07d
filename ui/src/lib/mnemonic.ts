// What the restore form does to the words a person types or pastes before the node checks them:
// lower case, one space between words, list numbers ("1.", "2)") dropped.

/** BIP-39 mnemonic lengths. */
export const WORD_COUNTS = [12, 15, 18, 21, 24] as const;

export function mnemonicWords(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[\s,;]+/)
    .map((w) => w.replace(/^\d+[.):]?$/, ""))
    .filter(Boolean);
}

/** `n` distinct positions of 0 … `count − 1`, ascending, drawn with the platform's CSPRNG. */
export function pickPositions(count: number, n: number): number[] {
  const picked = new Set<number>();
  const buf = new Uint32Array(1);
  while (picked.size < Math.min(n, count)) {
    crypto.getRandomValues(buf);
    picked.add(buf[0]! % count);
  }
  return [...picked].sort((a, b) => a - b);
}
