// A rough strength figure for a wallet passphrase: the bits a guesser faces if the characters were
// random, cut down for the obvious (repeats, sequences, the passwords everyone tries). A hint,
// not a gate: the node takes any non-empty passphrase.

export interface Strength {
  /** 0 (empty) to 4 (strong). */
  score: 0 | 1 | 2 | 3 | 4;
  label: string;
  /** Rough entropy in bits. */
  bits: number;
}

const COMMON = /^(password|passw0rd|letmein|qwerty|azerty|123456|iloveyou|admin|welcome|bitcoin|p2share|satoshi)/i;

export function passphraseStrength(p: string): Strength {
  if (!p) return { score: 0, label: "", bits: 0 };
  let pool = 0;
  if (/[a-z]/.test(p)) pool += 26;
  if (/[A-Z]/.test(p)) pool += 26;
  if (/\d/.test(p)) pool += 10;
  if (/[^a-zA-Z\d\s]/.test(p)) pool += 33;
  if (/\s/.test(p)) pool += 1;
  // Runs of one character and ascending sequences add next to nothing.
  let effective = 0;
  for (let i = 0; i < p.length; i++) {
    const prev = p.charCodeAt(i - 1);
    const c = p.charCodeAt(i);
    effective += i > 0 && (c === prev || c === prev + 1) ? 0.25 : 1;
  }
  let bits = effective * Math.log2(Math.max(pool, 2));
  if (COMMON.test(p.trim())) bits = Math.min(bits, 20);
  bits = Math.round(bits);
  if (bits < 40) return { score: 1, label: "weak", bits };
  if (bits < 60) return { score: 2, label: "fair", bits };
  if (bits < 80) return { score: 3, label: "good", bits };
  return { score: 4, label: "strong", bits };
}
