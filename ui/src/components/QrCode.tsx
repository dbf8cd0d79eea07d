// A QR code as inline SVG (no canvas, no data: URL: the node's CSP is `default-src 'self'`), dark
// on white whatever the theme so that every phone camera reads it. The encoder is `uqr`: it leaves
// built-in prototypes alone, which the desktop window needs (Tauri freezes `Object.prototype`, and
// the `qrcode` package assigns `exports.toString`, which then throws while the bundle loads).
import { useMemo } from "react";
import { encode } from "uqr";

/** The SVG path of the dark modules, one subpath per horizontal run, offset by the quiet zone. */
export function qrPath(text: string, margin = 4): { size: number; d: string } {
  const qr = encode(text, { ecc: "M", border: 0 });
  const n = qr.size;
  const parts: string[] = [];
  for (let y = 0; y < n; y++) {
    let x = 0;
    while (x < n) {
      if (!qr.data[y]?.[x]) {
        x++;
        continue;
      }
      let run = 1;
      while (x + run < n && qr.data[y]?.[x + run]) run++;
      parts.push(`M${x + margin} ${y + margin}h${run}v1h-${run}z`);
      x += run;
    }
  }
  return { size: n + 2 * margin, d: parts.join("") };
}

/**
 * A `bitcoin:` URI of a bech32 address is encoded in upper case: QR's alphanumeric mode makes the
 * code smaller and easier to scan (BIP-21 and BIP-173 allow it). Anything else is kept as is.
 */
export function qrText(uri: string): string {
  return /^bitcoin:[a-z]{2,4}1[02-9ac-hj-np-z]+$/i.test(uri) ? uri.toUpperCase() : uri;
}

export function QrCode({ text, label, size = 208 }: { text: string; label: string; size?: number }) {
  const { size: modules, d } = useMemo(() => qrPath(qrText(text)), [text]);
  return (
    <svg
      className="qr"
      width={size}
      height={size}
      viewBox={`0 0 ${modules} ${modules}`}
      role="img"
      aria-label={label}
      shapeRendering="crispEdges"
      data-testid="qr"
    >
      <rect width={modules} height={modules} fill="#ffffff" />
      <path d={d} fill="#000000" />
    </svg>
  );
}
