import { useState } from "react";
import { Icon } from "./Icon";

async function copyText(text: string): Promise<boolean> {
  try {
    if (navigator.clipboard && window.isSecureContext) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // Fall through to the selection trick.
  }
  // Plain-http LAN origins have no clipboard API.
  const ta = document.createElement("textarea");
  ta.value = text;
  ta.setAttribute("readonly", "");
  ta.className = "offscreen";
  document.body.appendChild(ta);
  ta.select();
  let ok = false;
  try {
    ok = document.execCommand("copy");
  } catch {
    ok = false;
  }
  ta.remove();
  return ok;
}

/**
 * `label` is read out with the text ("Copy the pool URL: stratum+tcp://…"); `name` replaces both,
 * for long texts (a PSBT) that a screen reader should not spell out.
 */
export function CopyButton({ text, label = "Copy", name }: { text: string; label?: string; name?: string }) {
  const [done, setDone] = useState<"idle" | "ok" | "fail">("idle");
  return (
    <button
      type="button"
      className="btn btn-small btn-ghost"
      aria-label={name ?? `${label}: ${text}`}
      onClick={async () => {
        setDone((await copyText(text)) ? "ok" : "fail");
        setTimeout(() => setDone("idle"), 1500);
      }}
    >
      <Icon name={done === "ok" ? "check" : "copy"} size={14} />
      <span aria-live="polite">{done === "ok" ? "Copied" : done === "fail" ? "Select & copy" : "Copy"}</span>
    </button>
  );
}
