// `npm run media:srs-conf` prints a config with what SRS needs for onair, and README's SRS section
// is that config as printed (so the README cannot drift from what the script generates).
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { srsConf } from "./srs-conf";

describe("npm run media:srs-conf", () => {
  it("prints HTTP-FLV, onair's HLS layout, the hooks and DVR; README shows exactly that config", () => {
    // The defaults, whatever this shell has set.
    const bare = { ...process.env };
    for (const k of ["PUBLIC_URL", "PORT", "MEDIA_HOOK_SECRET"]) delete bare[k];
    const r = spawnSync("npm", ["run", "-s", "media:srs-conf", "--", "--dir", "/srv/onair-srs"], {
      encoding: "utf8",
      env: bare,
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const conf = r.stdout;
    expect(conf).toBe(
      srsConf({ onair: "http://127.0.0.1:3000", rtmpPort: 1935, httpPort: 8080, dir: "/srv/onair-srs" }),
    );
    for (const line of [
      /^http_server \{\n {4}enabled {9}on;\n {4}listen {10}8080;/m,
      /http_remux \{\n {8}enabled {9}on;\n {8}mount {11}\[vhost\]\/\[app\]\/\[stream\]\.flv;/,
      /hls_m3u8_file {3}\[app\]\/\[stream\]\/index\.m3u8;/,
      /hls_ts_file {5}\[app\]\/\[stream\]\/\[seq\]\.ts;/,
      /dvr_plan {8}session;/,
    ])
      expect(conf).toMatch(line);
    for (const hook of ["on_publish", "on_unpublish", "on_play", "on_stop", "on_dvr"])
      expect(conf).toContain(`${hook.padEnd(16)}http://127.0.0.1:3000/hooks/srs;`);
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("### Using SRS"), readme.indexOf("### Vendor APIs"));
    expect(section).toContain("```nginx\n" + conf + "```");
    expect(section).toMatch(/`pushDomain`.*\n?.*`pullDomain`/);
    const secret = srsConf({ onair: "http://o:1/", rtmpPort: 1, httpPort: 2, dir: "/x", secret: "s e" });
    expect(secret).toContain("on_dvr          http://o:1/hooks/srs?secret=s%20e;");
  });
});
