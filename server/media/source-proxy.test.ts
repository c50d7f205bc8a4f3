// HTTP(S), RTMPS and RTSPS sources go through the checking proxy: a playlist on an allowed host that
// names a segment on an internal one gets nothing from it (the internal host never sees a request),
// what is allowed plays through it with a real ffprobe (an RTMPS source with its name kept in the TLS
// handshake), and the proxy answers only with its credentials.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import type net from "node:net";
import netModule, { type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import tls from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { env, resetEnvForTests } from "../env";
import { freePort } from "../../test/process";
import { run } from "./ffmpeg";
import { probeSource } from "./pulls";
import { sourceEnv, sourceProxy, startSourceProxy, type SourceProxy } from "./source-proxy";

let dir: string;
let allowed: http.Server;
let internal: http.Server;
let internalHits = 0;
let proxy: SourceProxy;
let okUrl: string;
let evilUrl: string;
let tlsServer: https.Server;
let tlsUrl: string;
let internalUrl: string;

// A self-signed certificate for a local HTTPS source (ffmpeg does not verify certificates by default).
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgbeINh5zRnUQJcysG
kTjNVK1Ds2oByBGbDLnDLO65sTShRANCAAQXm+0NFAZAIAsv4XcclAyNkvLX5vMC
bLDidbiA5WaO7NH6HKDbzSkby4jRONUg19NCB2q5hayXAvjyvwIt6NOE
-----END PRIVATE KEY-----`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUajBpk35v3eS1LSQd+slE7gEsbwgwCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKb25haXItdGVzdDAgFw0yNjEyMDQxMzI3MzdaGA8yMTI2MTEx
MDEzMjczN1owFTETMBEGA1UEAwwKb25haXItdGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABBeb7Q0UBkAgCy/hdxyUDI2S8tfm8wJssOJ1uIDlZo7s0focoNvN
KRvLiNE41SDX00IHarmFrJcC+PK/Ai3o04SjUzBRMB0GA1UdDgQWBBQU/UC4OMci
Bt81UkvvafQpMNJerTAfBgNVHSMEGDAWgBQU/UC4OMciBt81UkvvafQpMNJerTAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIQCWqFyostMdZ+lSiPKG
RPsZB4D37ErpGpNsoZ2qcm8etgIgWtT/xgJzANBln9Ab2hyB/o4QgJQ3QzBPP8i9
idoaCbg=
-----END CERTIFICATE-----`;

const listen = (s: net.Server, host: string) =>
  new Promise<number>((r) => s.listen(0, host, () => r((s.address() as AddressInfo).port)));

beforeAll(async () => {
  process.env.OUTBOUND_ALLOW = "127.0.0.1";
  resetEnvForTests();
  dir = mkdtempSync(join(tmpdir(), "onair-source-proxy-"));
  execFileSync(env().FFMPEG_PATH, [
    ...["-v", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "2"],
    ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-f", "mpegts", join(dir, "seg.ts")],
  ]);
  const segment = readFileSync(join(dir, "seg.ts"));
  const playlist = (seg: string) =>
    `#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n${seg}\n#EXT-X-ENDLIST\n`;
  internal = http.createServer((_req, res) => {
    internalHits++;
    res.end(segment);
  });
  // 127.0.0.2 is loopback too, and not in OUTBOUND_ALLOW: the internal host.
  const internalPort = await listen(internal, "127.0.0.2");
  internalUrl = `http://127.0.0.2:${internalPort}/seg.ts`;
  allowed = http.createServer((req, res) => {
    if (req.url === "/ok.m3u8") return res.end(playlist("seg.ts"));
    if (req.url === "/evil.m3u8") return res.end(playlist(internalUrl));
    if (req.url === "/seg.ts") return res.end(segment);
    res.statusCode = 404;
    res.end();
  });
  const port = await listen(allowed, "127.0.0.1");
  okUrl = `http://127.0.0.1:${port}/ok.m3u8`;
  evilUrl = `http://127.0.0.1:${port}/evil.m3u8`;
  tlsServer = https.createServer({ key: TEST_KEY, cert: TEST_CERT }, (req, res) =>
    res.end(req.url === "/ok.m3u8" ? playlist("seg.ts") : segment),
  );
  tlsUrl = `https://127.0.0.1:${await listen(tlsServer, "127.0.0.1")}/ok.m3u8`;
  proxy = await startSourceProxy({ allow: ["127.0.0.1"] });
});
afterAll(async () => {
  await proxy?.close();
  await (await sourceProxy()).close();
  allowed?.close();
  tlsServer?.close();
  internal?.close();
  rmSync(dir, { recursive: true, force: true });
  delete process.env.OUTBOUND_ALLOW;
  resetEnvForTests();
});

/** ffprobe reading a source as a pull does (its environment from sourceEnv). */
const probe = async (url: string) =>
  run(
    env().FFPROBE_PATH,
    ["-v", "error", "-show_entries", "stream=codec_name", "-of", "json", "-i", url],
    15_000,
    await sourceEnv(url),
  );

/** A request to the proxy as a client sends it: absolute URL (GET) or host:port (CONNECT). */
function viaProxy(method: "GET" | "CONNECT", target: string, auth: boolean | string = true) {
  // A string: the proxy URL of that reader's tag (or a URL to take the credentials from).
  const u = new URL(typeof auth === "string" ? auth : proxy.url);
  const headers: Record<string, string> = auth
    ? { "proxy-authorization": `Basic ${Buffer.from(`${u.username}:${u.password}`).toString("base64")}` }
    : {};
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; socket?: net.Socket }>(
    (resolve, reject) => {
      const req = http.request({ host: u.hostname, port: Number(u.port), method, path: target, headers });
      req.on("connect", (res, socket) =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: "", socket }),
      );
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d: Buffer) => (body += d.toString()));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on("error", reject);
      req.end();
    },
  );
}

describe("the source proxy", () => {
  it("answers only with its credentials, and passes only what the outbound rules allow", async () => {
    const anon = await viaProxy("GET", okUrl, false);
    expect(anon.status).toBe(407);
    expect(anon.headers["proxy-authenticate"]).toMatch(/^Basic/);

    const ok = await viaProxy("GET", okUrl);
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("#EXTM3U");

    const refused = await viaProxy("GET", internalUrl);
    expect(refused.status).toBe(403);
    expect(refused.body).toMatch(/refused_address: 127.0.0.2 resolves to a loopback address/);
    // A tunnel (how ffmpeg's TLS goes) is checked the same way.
    const tunnelRefused = await viaProxy("CONNECT", new URL(internalUrl).host);
    expect(tunnelRefused.status).toBe(403);
    expect(internalHits).toBe(0);

    const tunnel = await viaProxy("CONNECT", new URL(okUrl).host);
    expect(tunnel.status).toBe(200);
    const through = await new Promise<string>((resolve) => {
      let got = "";
      tunnel.socket!.on("data", (d: Buffer) => (got += d.toString()));
      tunnel.socket!.on("end", () => resolve(got));
      tunnel.socket!.write(`GET /ok.m3u8 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n`);
    });
    expect(through).toMatch(/^HTTP\/1.1 200/);
    expect(through).toContain("#EXTM3U");
    // A reader's tag in its user name: what is refused to it, it can ask (ffmpeg only sees a 403).
    const tagged = await viaProxy("CONNECT", new URL(internalUrl).host, proxy.urlFor("reader-1"));
    expect(tagged.status).toBe(403);
    expect(proxy.refusedTo("reader-1")).toMatch(/^127.0.0.2 resolves to a loopback address/);
    expect(proxy.refusedTo("reader-2")).toBeUndefined();
    expect((await viaProxy("GET", okUrl, proxy.urlFor("reader-2"))).status).toBe(200);
    expect(proxy.refusedTo("reader-2")).toBeUndefined();
    // The secret is what counts: a tagged name with another secret, or a malformed tag, is refused.
    const wrong = new URL(proxy.urlFor("reader-3"));
    wrong.password = "nope";
    expect((await viaProxy("GET", okUrl, wrong.href)).status).toBe(407);
    const badTag = new URL(proxy.url);
    badTag.username = "onair.bad%20tag";
    expect((await viaProxy("GET", okUrl, badTag.href)).status).toBe(407);
    // Only absolute http:// URLs, by GET or HEAD.
    expect((await viaProxy("GET", "/relative")).status).toBe(400);
    expect((await viaProxy("GET", "ftp://127.0.0.1/x")).status).toBe(405);
  });

  it("ffprobe reads an allowed HLS source through it, and a playlist naming an internal host gets nothing from it", async () => {
    const shared = await sourceProxy();
    const before = shared.stats.proxied;
    const ok = await probe(okUrl);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("h264");
    // It went through the proxy: the playlist and the segment.
    expect(shared.stats.proxied - before).toBeGreaterThanOrEqual(2);

    // HTTPS goes through it too, as CONNECT tunnels (ffmpeg's TLS over its http_proxy).
    const viaTls = shared.stats.proxied;
    const tls = await probe(tlsUrl);
    expect(tls.code).toBe(0);
    expect(tls.out).toContain("h264");
    expect(shared.stats.proxied - viaTls).toBeGreaterThanOrEqual(2);

    const refusedBefore = shared.stats.refused;
    const evil = await probe(evilUrl);
    expect(evil.out).not.toContain("h264");
    expect(shared.stats.refused).toBeGreaterThan(refusedBefore);
    expect(internalHits).toBe(0);
    // A pull's probe says why, where ffprobe saw only the proxy's 403 ("auth failed" before).
    await expect(probeSource(evilUrl, 15_000)).rejects.toMatchObject({
      kind: "address refused",
      message: expect.stringMatching(/^127\.0\.0\.2 resolves to a loopback address.*\(not in OUTBOUND_ALLOW\)$/),
    });
    expect(internalHits).toBe(0);
    // Other schemes are not proxied (RTSP is pinned to its checked address instead).
    expect(await sourceEnv("rtsp://127.0.0.1/x")).toBeUndefined();
    // A no_proxy of the parent's cannot let a host go around it.
    process.env.no_proxy = "*";
    try {
      const e = await sourceEnv(okUrl);
      expect(e?.no_proxy).toBeUndefined();
      expect(e?.http_proxy).toBe(shared.url);
    } finally {
      delete process.env.no_proxy;
    }
  });

  it("RTMPS and RTSPS sources reach their server through it: the name in the TLS handshake, the address checked", async () => {
    // An RTMP server (ffmpeg listening) behind a TLS terminator on an allowed address, and a TLS
    // server on an internal one; each records the connections it gets and the name they asked for.
    const rtmpPort = await freePort();
    const server = spawn(env().FFMPEG_PATH, [
      ...["-v", "error", "-re", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "30"],
      ...["-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10", "-f", "flv", "-listen", "1"],
      `rtmp://127.0.0.1:${rtmpPort}/live/cam`,
    ]);
    const names: string[] = [];
    const front = tls.createServer({ key: TEST_KEY, cert: TEST_CERT }, (s) => {
      names.push(s.servername || "(none)");
      const up = netModule.connect(rtmpPort, "127.0.0.1");
      s.pipe(up).pipe(s);
      up.on("error", () => s.destroy());
      s.on("error", () => up.destroy());
    });
    let internalTls = 0;
    const hidden = tls.createServer({ key: TEST_KEY, cert: TEST_CERT }, (s) => (internalTls++, s.destroy()));
    hidden.on("connection", () => internalTls++);
    const port = await listen(front, "127.0.0.1");
    const hiddenPort = await listen(hidden, "127.0.0.2");
    try {
      const shared = await sourceProxy();
      for (const u of ["rtmps://x/y", "RTSPS://x/y"]) expect((await sourceEnv(u))?.http_proxy).toBe(shared.url);
      const before = shared.stats.proxied;
      // ffmpeg's listener takes a moment to open.
      let ok = await probe(`rtmps://localhost:${port}/live/cam`);
      for (let i = 0; i < 10 && ok.code !== 0; i++) {
        await new Promise((r) => setTimeout(r, 300));
        ok = await probe(`rtmps://localhost:${port}/live/cam`);
      }
      expect(ok.code, ok.err).toBe(0);
      expect(ok.out).toContain("h264");
      expect(shared.stats.proxied).toBeGreaterThan(before);
      expect(names.at(-1)).toBe("localhost");

      // An RTSPS source too: its TLS reaches the server through the proxy, with the name.
      const n = names.length;
      const rtsps = await probe(`rtsps://localhost:${port}/cam`);
      expect(rtsps.code).not.toBe(0);
      expect(names.length).toBe(n + 1);
      expect(names.at(-1)).toBe("localhost");

      // What the outbound rules refuse is never reached, whatever the scheme.
      const refusedBefore = shared.stats.refused;
      for (const u of [`rtmps://127.0.0.2:${hiddenPort}/live/cam`, `rtsps://127.0.0.2:${hiddenPort}/cam`])
        expect((await probe(u)).out).not.toContain("h264");
      expect(shared.stats.refused).toBe(refusedBefore + 2);
      await expect(probeSource(`rtmps://127.0.0.2:${hiddenPort}/live/cam`, 15_000)).rejects.toMatchObject({
        kind: "address refused",
      });
      expect(internalTls).toBe(0);
    } finally {
      server.kill("SIGKILL");
      front.close();
      hidden.close();
    }
  }, 60_000);
});
