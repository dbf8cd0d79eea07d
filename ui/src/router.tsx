// A tiny hash router (`#/blocks`): works from `file://`, a Tauri window and the node's `/`
// alike, and needs no server-side routes.
import { useSyncExternalStore, type AnchorHTMLAttributes, type ReactNode } from "react";

function subscribe(cb: () => void): () => void {
  window.addEventListener("hashchange", cb);
  return () => window.removeEventListener("hashchange", cb);
}

/** The current path: `#/blocks?x=1` → `/blocks`; empty → `/`. */
export function currentPath(): string {
  const h = window.location.hash.replace(/^#/, "");
  const path = h.split("?")[0] ?? "";
  return path.startsWith("/") ? path : `/${path}`;
}

export function usePath(): string {
  return useSyncExternalStore(subscribe, currentPath, () => "/");
}

export function navigate(path: string): void {
  window.location.hash = `#${path}`;
}

export function Link({
  to,
  children,
  ...rest
}: { to: string; children: ReactNode } & Omit<AnchorHTMLAttributes<HTMLAnchorElement>, "href">) {
  return (
    <a href={`#${to}`} {...rest}>
      {children}
    </a>
  );
}
