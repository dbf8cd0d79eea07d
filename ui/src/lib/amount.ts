// Amounts typed into a form: a decimal of shares or BTC with up to 8 places, as the node parses
// them (`parse_amount` in node/api), to base units (share units or sats, 10⁸ per whole).

export type AmountParse = { ok: true; units: number; text: string } | { ok: false; reason: string };

/** Parses `"1.5"` → 150,000,000 units; the reason in words when it is not an amount. */
export function parseAmount(input: string): AmountParse {
  const text = input.trim();
  if (!text) return { ok: false, reason: "Enter an amount." };
  if (/^\d{1,3}(,\d{3})+(\.\d*)?$/.test(text) || /^\d+,\d+$/.test(text)) {
    return { ok: false, reason: "Use a dot for decimals and no thousands separators (1234.5)." };
  }
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m || (m[1] === "" && (m[2] ?? "") === "")) return { ok: false, reason: "Not a number." };
  const whole = m[1] ?? "";
  const frac = m[2] ?? "";
  if (frac.length > 8) return { ok: false, reason: "At most 8 decimal places." };
  const units = Number(whole || "0") * 1e8 + Number(frac.padEnd(8, "0") || "0");
  if (!Number.isSafeInteger(units)) return { ok: false, reason: "Too large." };
  if (units === 0) return { ok: false, reason: "The amount must be above zero." };
  // The node takes the decimal as typed (normalised: no leading dot, no trailing dot).
  const normal = `${whole || "0"}${frac ? `.${frac}` : ""}`;
  return { ok: true, units, text: normal };
}

/** Base units as the decimal string the node takes: 150,000,000 → "1.5". */
export function unitsToDecimal(units: number): string {
  const u = Math.max(0, Math.round(units));
  const whole = Math.floor(u / 1e8);
  const frac = (u - whole * 1e8).toString().padStart(8, "0").replace(/0+$/, "");
  return frac ? `${whole}.${frac}` : `${whole}`;
}
