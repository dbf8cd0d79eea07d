/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// `npm run dev` talks to a node when P2SHARE_NODE names one (e.g. http://127.0.0.1:29332 or the
// mock: `npm run mock` → http://127.0.0.1:29400). JSON-RPC is `POST /`, so only POSTs to `/` are
// proxied; page loads stay with Vite. Log in first at <dev server>/login (proxied too).
const node = process.env.P2SHARE_NODE;

export default defineConfig({
  plugins: [react()],
  // Relative asset URLs would break on page paths; the node serves the UI at `/`.
  base: "/",
  build: {
    outDir: "dist",
    // No data: URLs: the node's Content-Security-Policy is `default-src 'self'`.
    assetsInlineLimit: 0,
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: node
    ? {
        proxy: {
          "^/$": {
            target: node,
            bypass: (req) => (req.method === "POST" ? undefined : req.url),
          },
          "^/login": { target: node },
          "^/logout": { target: node },
          "/ws": {
            target: node,
            ws: true,
            changeOrigin: true,
            // The node only accepts a WebSocket whose Origin is its own host.
            configure: (proxy) => {
              proxy.on("proxyReqWs", (proxyReq) => proxyReq.setHeader("origin", node));
            },
          },
        },
      }
    : {},
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    env: { TZ: "UTC" },
    restoreMocks: true,
  },
});
