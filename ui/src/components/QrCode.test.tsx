import { render, screen } from "@testing-library/react";
import { encode } from "uqr";
import { describe, expect, it } from "vitest";
import { QrCode, qrPath, qrText } from "./QrCode";
import { WALLET_ADDRESS } from "../test/fixtures";

describe("QrCode", () => {
  it("encodes a bech32 bitcoin: URI in upper case (alphanumeric mode), anything else as is", () => {
    expect(qrText(`bitcoin:${WALLET_ADDRESS}`)).toBe(`BITCOIN:${WALLET_ADDRESS.toUpperCase()}`);
    expect(qrText(`bitcoin:${WALLET_ADDRESS}?amount=1.5`)).toBe(`bitcoin:${WALLET_ADDRESS}?amount=1.5`);
    expect(qrText("hello")).toBe("hello");
  });

  it("draws every dark module, with a quiet zone of 4", () => {
    const text = qrText(`bitcoin:${WALLET_ADDRESS}`);
    const qr = encode(text, { ecc: "M", border: 0 });
    const { size, d } = qrPath(text);
    expect(size).toBe(qr.size + 8);
    // The runs of the path cover exactly the dark modules.
    const dark = qr.data.flat().filter(Boolean).length;
    const covered = [...d.matchAll(/h(\d+)v1/g)].reduce((a, m) => a + Number(m[1]), 0);
    expect(covered).toBe(dark);
    // The top-left finder pattern starts at the quiet zone's edge.
    expect(d.startsWith("M4 4h7v1h-7z")).toBe(true);
  });

  it("renders an SVG image labelled for screen readers, dark on white", () => {
    render(<QrCode text={`bitcoin:${WALLET_ADDRESS}`} label="QR code of the address" />);
    const svg = screen.getByRole("img", { name: "QR code of the address" });
    expect(svg.tagName.toLowerCase()).toBe("svg");
    expect(svg.querySelector("rect")).toHaveAttribute("fill", "#ffffff");
    expect(svg.querySelector("path")).toHaveAttribute("fill", "#000000");
  });
});
