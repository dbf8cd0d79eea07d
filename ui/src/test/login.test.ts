// login.html is a separate, self-contained page (public/login.html, copied verbatim to dist/):
// run its inline script in a fresh jsdom and check what it sends.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { JSDOM } from "jsdom";
import { describe, expect, it, vi } from "vitest";

const html = readFileSync(resolve(process.cwd(), "public/login.html"), "utf8");

function page(answer: { status: number; body?: unknown }) {
  const dom = new JSDOM(html, { runScripts: "outside-only", url: "http://127.0.0.1:29332/login" });
  const w = dom.window;
  const fetch = vi.fn(async (_url: string, _init: { body: string }) => ({
    status: answer.status,
    ok: answer.status >= 200 && answer.status < 300,
    json: async () => answer.body,
  }));
  Object.assign(w, { fetch });
  const replace = vi.fn();
  // jsdom's location cannot navigate: run the script with `location` shadowed to watch the call.
  Object.assign(w, { __location: { search: "", replace } });
  const script = html.match(/<script>([\s\S]*?)<\/script>/)![1]!;
  w.eval(`(function (location) {${script}})(window.__location);`);
  const $ = (id: string) => w.document.getElementById(id) as HTMLInputElement;
  const submit = async (user: string, password: string) => {
    $("user").value = user;
    $("password").value = password;
    $("form").dispatchEvent(new w.Event("submit", { cancelable: true }));
    await new Promise((r) => setTimeout(r, 10));
  };
  return { fetch, replace, submit, error: () => $("error").textContent };
}

describe("login.html", () => {
  it("has no external script, style or asset", () => {
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(html).not.toMatch(/<link[^>]+stylesheet/);
    expect(html).not.toMatch(/\burl\(|https?:\/\//);
    expect(html.match(/<script>/g)).toHaveLength(1);
    expect(html.match(/<style>/g)).toHaveLength(1);
    expect(html).not.toMatch(/\sstyle="/); // inline style attributes would need 'unsafe-hashes'
  });

  it("posts JSON user and password and goes to / on 204", async () => {
    const p = page({ status: 204 });
    await p.submit("alice", "correct horse");
    expect(p.fetch).toHaveBeenCalledOnce();
    const [url, init] = p.fetch.mock.calls[0]!;
    expect(url).toBe("/login");
    expect(JSON.parse(init.body)).toEqual({ user: "alice", password: "correct horse" });
    expect(p.replace).toHaveBeenCalledWith("/");
  });

  it("splits a pasted cookie line when the user is empty", async () => {
    const p = page({ status: 204 });
    await p.submit("", "  __cookie__:ab12cd34\n");
    expect(JSON.parse(p.fetch.mock.calls[0]![1].body)).toEqual({ user: "__cookie__", password: "ab12cd34" });
  });

  it("shows the node's error on 401", async () => {
    const p = page({ status: 401, body: { error: "wrong user or password" } });
    await p.submit("__cookie__", "nope");
    expect(p.error()).toBe("Wrong user or password.");
    expect(p.replace).not.toHaveBeenCalled();
  });
});
