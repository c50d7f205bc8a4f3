// The pages' security headers as Next applies them: next.config.js `headers()` loaded and validated by
// Next's own loader and matched the way its router matches them (every matching rule in order, a
// later value for the same header winning). Every page refuses framing; /embed/<room> is made to be framed.
import { describe, expect, it } from "vitest";
import type { NextConfig } from "next";
import loadCustomRoutes from "next/dist/lib/load-custom-routes.js";
import { modifyRouteRegex } from "next/dist/lib/redirect-status.js";
import { getPathMatch } from "next/dist/shared/lib/router/utils/path-match.js";

async function headerRules() {
  const configUrl = new URL("../../next.config.js", import.meta.url).href;
  const config = ((await import(configUrl)) as { default: NextConfig }).default;
  return (await loadCustomRoutes(config)).headers.map((rule) => ({
    match: getPathMatch(rule.source, { strict: true, removeUnnamedParams: true, regexModifier: modifyRouteRegex }),
    headers: rule.headers,
  }));
}

async function headersFor(pathname: string) {
  const out: Record<string, string> = {};
  for (const rule of await headerRules())
    if (rule.match(pathname)) for (const h of rule.headers) out[h.key.toLowerCase()] = h.value;
  return out;
}

function directives(csp: string | undefined) {
  expect(csp).toBeTruthy();
  return Object.fromEntries(
    csp!
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  );
}

const PAGES = [
  "/",
  "/signin",
  "/admin",
  "/admin/apps",
  "/host",
  "/host/rooms/abc",
  "/rooms",
  "/watch/abc",
  "/embedded",
];
const EMBEDS = ["/embed/abc", "/embed/123", "/embed/0b6c9a3e-56a4-4c1f-9d84-4a1b8a9c2e11"];

describe("security headers of pages", () => {
  it("forbid framing on every page but the embed player, which any site may frame", async () => {
    for (const p of PAGES) {
      const h = await headersFor(p);
      expect(h["x-frame-options"], p).toBe("DENY");
      expect(directives(h["content-security-policy"])["frame-ancestors"], p).toEqual(["'none'"]);
    }
    for (const p of EMBEDS) {
      const h = await headersFor(p);
      expect(h["x-frame-options"], p).toBeUndefined();
      expect(directives(h["content-security-policy"])["frame-ancestors"], p).toEqual(["*"]);
    }
  });

  it("send nosniff and a referrer policy everywhere", async () => {
    for (const p of [...PAGES, ...EMBEDS, "/_next/static/chunks/main.js"]) {
      const h = await headersFor(p);
      expect(h["x-content-type-options"], p).toBe("nosniff");
      expect(h["referrer-policy"], p).toBe("strict-origin-when-cross-origin");
    }
  });

  it("keep a CSP the players and console work under (inline scripts, MSE blobs, pull URLs elsewhere)", async () => {
    const page = directives((await headersFor("/watch/abc"))["content-security-policy"]);
    const embed = directives((await headersFor("/embed/abc"))["content-security-policy"]);
    // Only frame-ancestors differs between the two.
    expect({ ...page, "frame-ancestors": [] }).toEqual({ ...embed, "frame-ancestors": [] });
    expect(page["default-src"]).toEqual(["'self'"]);
    expect(page["script-src"]).toEqual(expect.arrayContaining(["'self'", "'unsafe-inline'"]));
    expect(page["style-src"]).toEqual(expect.arrayContaining(["'self'", "'unsafe-inline'"]));
    // flv.js and hls.js play through MSE (blob: media URLs) and hls.js runs a blob: worker.
    expect(page["media-src"]).toEqual(expect.arrayContaining(["'self'", "blob:"]));
    expect(page["worker-src"]).toEqual(expect.arrayContaining(["'self'", "blob:"]));
    // Pull and VOD URLs may point at another host (an app's pull domain, nginx-rtmp's or SRS's port).
    for (const d of ["connect-src", "media-src"])
      expect(page[d], d).toEqual(expect.arrayContaining(["http:", "https:"]));
    // Covers from any https: URL, QR codes as data: URLs.
    expect(page["img-src"]).toEqual(expect.arrayContaining(["'self'", "data:", "blob:", "https:"]));
    expect(page["object-src"]).toEqual(["'none'"]);
    expect(page["base-uri"]).toEqual(["'self'"]);
  });
});
