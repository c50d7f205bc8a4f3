// The front's proxy under abuse, in process against a stand-in web process: half-sent bodies neither
// freeze it while open nor after their clients leave, each address has a connection cap, in-flight
// proxying has a bound answered at once with 503, timeouts end slow clients and a silent web process,
// failures on one side end the other, an oversized chunked body gets a clean 413, and long responses
// (a proxied stream, an HTTP-FLV play) outlive every timeout.
import { randomUUID } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { resetEnvForTests } from "../env";
import { signRoomToken } from "../tokens";
import { clientKey, createFrontServer, type FrontOptions } from "./server";

/** The stand-in web process: what it saw, and how many sockets the front holds open to it. */
let web: http.Server;
let webOrigin: string;
let webSockets = 0;
const webSeen: { url: string; bytes: number; complete: boolean; aborted: boolean }[] = [];

const listen = (s: http.Server) =>
  new Promise<number>((r) => s.listen(0, "127.0.0.1", () => r((s.address() as AddressInfo).port)));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

beforeAll(async () => {
  web = http.createServer((req, res) => {
    const url = req.url ?? "";
    if (url === "/never") return; // a web process that does not answer
    if (url === "/stream") {
      // A long response with steady output: 20 chunks, one each 100 ms.
      res.writeHead(200, { "content-type": "text/plain" });
      let i = 0;
      const t = setInterval(() => {
        res.write(`chunk ${i}\n`);
        if (++i === 20) {
          clearInterval(t);
          res.end();
        }
      }, 100);
      return;
    }
    if (url === "/die") {
      // The web process dies mid-response.
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
      setTimeout(() => req.socket.destroy(), 100);
      return;
    }
    const seen = { url, bytes: 0, complete: false, aborted: false };
    webSeen.push(seen);
    req.on("data", (c: Buffer) => (seen.bytes += c.length));
    req.on("close", () => (seen.aborted = !seen.complete));
    req.on("end", () => {
      seen.complete = true;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ process: "web", url, bytes: seen.bytes, xff: req.headers["x-forwarded-for"] }));
    });
  });
  web.on("connection", (s: net.Socket) => {
    webSockets++;
    s.on("close", () => webSockets--);
  });
  webOrigin = `http://127.0.0.1:${await listen(web)}`;
});
afterAll(async () => {
  web.closeAllConnections();
  await new Promise((r) => web.close(r));
});

const fronts: http.Server[] = [];
const clients: net.Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const f of fronts.splice(0)) {
    f.closeAllConnections();
    await new Promise((r) => f.close(r));
  }
});

async function startFront(opts: Partial<FrontOptions> = {}) {
  const front = createFrontServer({ webOrigin, ...opts });
  fronts.push(front);
  return { front, port: await listen(front) };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  ms: number;
}
/** One request on its own connection, from a chosen loopback address; rejects after `timeoutMs`. */
function request(
  port: number,
  path: string,
  o: {
    method?: string;
    from?: string;
    headers?: Record<string, string>;
    body?: (req: http.ClientRequest) => void;
    timeoutMs?: number;
  } = {},
): Promise<Answer> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: "127.0.0.1",
        port,
        path,
        method: o.method ?? "GET",
        headers: o.headers,
        localAddress: o.from ?? "127.0.0.1",
        agent: false,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => (body += c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, ms: Date.now() - started }),
        );
        res.on("error", reject);
      },
    );
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`${o.method ?? "GET"} ${path} from ${o.from ?? "127.0.0.1"}: no answer in ${o.timeoutMs} ms`));
    }, o.timeoutMs ?? 5000);
    req.on("close", () => clearTimeout(timer));
    req.on("error", reject);
    if (o.body) o.body(req);
    else req.end();
  });
}

/** A raw connection that sends `text` and then nothing; remembers what came back and when it closed. */
function rawClient(port: number, text: string, from = "127.0.0.1") {
  const s = net.connect({ host: "127.0.0.1", port, localAddress: from });
  clients.push(s);
  const state = { received: "", closedAfter: -1 };
  const started = Date.now();
  s.setEncoding("utf8");
  s.on("data", (d: string) => (state.received += d));
  s.on("error", () => undefined);
  s.on("close", () => (state.closedAfter = Date.now() - started));
  s.write(text);
  return { socket: s, state, connected: new Promise((r) => s.once("connect", r)) };
}

/** A POST that declares 1000 bytes of body and sends only `bodyStart` of it. */
const halfPost = (port: number, path = "/api/trpc/rooms.create", bodyStart = "") =>
  rawClient(port, `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-length: 1000\r\n\r\n${bodyStart}`);

const connections = (s: http.Server) => new Promise<number>((r, j) => s.getConnections((e, n) => (e ? j(e) : r(n))));

describe("front proxy under abuse", () => {
  it("is not frozen by 300 half-sent POSTs: others served while they are open, all once they leave", async () => {
    const { front, port } = await startFront();
    const halves = Array.from({ length: 300 }, () => halfPost(port));
    await Promise.all(halves.map((h) => h.connected));
    await until("the front to accept them all", () => webSockets >= 256 || halves.some((h) => h.state.received));
    await sleep(200);

    // Another address is served at once; the crowded one gets a quick refusal, never a hang.
    const other = await request(port, "/api/trpc/health", { from: "127.0.0.2", timeoutMs: 5000 });
    expect(other.status).toBe(200);
    expect(JSON.parse(other.body)).toMatchObject({ process: "web", url: "/api/trpc/health" });
    const crowded = await request(port, "/api/trpc/health", { timeoutMs: 2000 });
    expect([200, 429, 503]).toContain(crowded.status);

    // The clients leave: their upstream requests are aborted and the front serves everybody again.
    for (const h of halves) h.socket.destroy();
    while ((await connections(front)) > 0) await sleep(20);
    const after = await request(port, "/api/trpc/health", { timeoutMs: 5000 });
    expect(after.status).toBe(200);
    await until("the upstream sockets of the departed clients to close", () => webSockets < 10, 3000);
  });

  it("answers 503 with Retry-After at once at the in-flight bound, and serves again when it clears", async () => {
    const { port } = await startFront({ maxInflight: 20, maxConnPerIp: 0 });
    const before = webSockets;
    const halves = Array.from({ length: 20 }, () => halfPost(port));
    await until("20 requests in flight", () => webSockets >= before + 20);
    const busy = await request(port, "/api/trpc/health", { timeoutMs: 2000 });
    expect(busy.status).toBe(503);
    expect(busy.ms).toBeLessThan(1000);
    expect(Number(busy.headers["retry-after"])).toBeGreaterThan(0);
    expect(JSON.parse(busy.body)).toMatchObject({ error: { code: "UNAVAILABLE" } });
    // Hot paths are not proxied, so the bound does not touch them.
    expect((await request(port, "/api/tokens/verify?token=x", { timeoutMs: 2000 })).status).toBe(400);
    for (const h of halves) h.socket.destroy();
    await until("the slots to clear", () => webSockets <= before + 1, 3000);
    expect((await request(port, "/api/trpc/health", { timeoutMs: 5000 })).status).toBe(200);
  });

  it("bounds the APIs it answers itself on their own: a page is proxied while they are at the bound", async () => {
    const held: http.ServerResponse[] = [];
    const { port } = await startFront({
      maxInflight: 2,
      maxConnPerIp: 0,
      // An API that answers nothing until released; only /api/held is its.
      api: (req, res, path, admit = () => true) => {
        if (path !== "/api/held") return false;
        if (admit()) held.push(res);
        return true;
      },
    });
    const first = [request(port, "/api/held", { timeoutMs: 5000 }), request(port, "/api/held", { timeoutMs: 5000 })];
    await until("two API calls in flight", () => held.length === 2);
    const busy = await request(port, "/api/held", { timeoutMs: 2000 });
    expect(busy.status).toBe(503);
    expect(JSON.parse(busy.body)).toMatchObject({ error: { code: "UNAVAILABLE" } });
    const page = await request(port, "/admin/rooms", { timeoutMs: 2000 });
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body)).toMatchObject({ process: "web", url: "/admin/rooms" });
    for (const r of held.splice(0)) r.end("ok");
    expect((await Promise.all(first)).map((a) => a.status)).toEqual([200, 200]);
    const again = request(port, "/api/held", { timeoutMs: 5000 });
    await until("a freed slot admits the next call", () => held.length === 1);
    held.splice(0)[0]!.end("ok");
    expect((await again).status).toBe(200);
  });

  it("refuses an address beyond its connection cap with a quick 429 while other addresses are served", async () => {
    const { front, port } = await startFront({ maxConnPerIp: 5 });
    const idle = Array.from({ length: 5 }, () => rawClient(port, ""));
    await Promise.all(idle.map((c) => c.connected));
    while ((await connections(front)) < 5) await sleep(20);

    const refused = await request(port, "/api/trpc/health", { timeoutMs: 2000 });
    expect(refused.status).toBe(429);
    expect(refused.ms).toBeLessThan(1000);
    expect(refused.headers.connection).toBe("close");
    expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
    expect(JSON.parse(refused.body)).toMatchObject({ error: { code: "TOO_MANY_REQUESTS" } });
    expect((await request(port, "/api/trpc/health", { from: "127.0.0.2", timeoutMs: 2000 })).status).toBe(200);
    // A refused connection that sends nothing is not left open (it is not counted, so it must not linger).
    const silent = rawClient(port, "");
    await until("the silent refused connection to be closed", () => silent.state.closedAfter >= 0, 2500);

    for (const c of idle) c.socket.destroy();
    while ((await connections(front)) > 0) await sleep(20);
    expect((await request(port, "/api/trpc/health", { timeoutMs: 2000 })).status).toBe(200);
  });

  it("does not cap a trusted reverse proxy's connections, and forwards the client address it names", async () => {
    const plain = await startFront({ maxConnPerIp: 2 });
    const spoofed = await request(plain.port, "/api/trpc/health", { headers: { "x-forwarded-for": "198.51.100.7" } });
    expect(JSON.parse(spoofed.body)).toMatchObject({ xff: "127.0.0.1" });

    process.env.TRUST_PROXY = "loopback";
    resetEnvForTests();
    let port: number;
    try {
      ({ port } = await startFront({ maxConnPerIp: 2 }));
    } finally {
      delete process.env.TRUST_PROXY;
      resetEnvForTests();
    }
    const held = Array.from({ length: 3 }, () => rawClient(port, ""));
    await Promise.all(held.map((c) => c.connected));
    const r = await request(port, "/api/trpc/health", {
      headers: { "x-forwarded-for": "203.0.113.9, 198.51.100.7" },
      timeoutMs: 2000,
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ xff: "198.51.100.7" });
  });

  it("ends slow headers, unfinished bodies and a web process that does not answer", async () => {
    const { port } = await startFront({ headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    const slowHeaders = rawClient(port, "GET /api/trpc/health HTTP/1.1\r\nHost: x\r\n");
    const marker = `/api/trpc/slow.${randomUUID()}`;
    const unfinished = halfPost(port, marker, "{");
    const silentWeb = await request(port, "/never", { timeoutMs: 4000 });
    expect(silentWeb.status).toBe(504);
    expect(silentWeb.ms).toBeLessThan(2500);
    expect(JSON.parse(silentWeb.body)).toMatchObject({ error: { code: "UNAVAILABLE" } });
    await until("the slow clients to be closed", () => slowHeaders.state.closedAfter >= 0, 3000);
    await until("the unfinished body to be closed", () => unfinished.state.closedAfter >= 0, 3000);
    expect(slowHeaders.state.closedAfter).toBeLessThan(2500);
    expect(unfinished.state.closedAfter).toBeLessThan(2500);
    // The upstream request of the unfinished body was aborted, not left to the web process's own timeout.
    await until("the upstream request to be aborted", () => webSeen.some((s) => s.url === marker && s.aborted), 2000);
  });

  it("aborts the upstream request when the client leaves mid-body", async () => {
    const { port } = await startFront();
    const marker = `/api/trpc/left.${randomUUID()}`;
    const c = halfPost(port, marker, "a".repeat(100));
    await until("the web process to see the request", () => webSeen.some((s) => s.url === marker && s.bytes === 100));
    c.socket.destroy();
    const seen = webSeen.find((s) => s.url === marker)!;
    await until("the upstream request to be aborted", () => seen.aborted, 2000);
    expect(seen.complete).toBe(false);
  });

  it("ends the client's response when the web process dies mid-response", async () => {
    const { port } = await startFront();
    await expect(request(port, "/die", { timeoutMs: 3000 })).rejects.toThrow(/aborted|reset|hang up|premature/i);
  });

  it("answers an oversized chunked body with a clean 413 JSON error; the web never gets it whole", async () => {
    const { port } = await startFront({ maxBodyBytes: 1024 * 1024 });
    const marker = `/api/trpc/big.${randomUUID()}`;
    const chunk = Buffer.alloc(64 * 1024, 97);
    const r = await request(port, marker, {
      method: "POST",
      headers: { "transfer-encoding": "chunked", "content-type": "application/json" },
      body: (req) => {
        for (let i = 0; i < 32; i++) req.write(chunk); // 2 MiB
        req.end();
      },
    });
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe("close");
    expect(r.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(r.body)).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });
    expect(webSeen.filter((s) => s.url === marker && s.complete)).toEqual([]);

    // The same with the length declared: refused before a byte goes upstream, still answered cleanly.
    const declared = await request(port, `${marker}.declared`, {
      method: "POST",
      headers: { "content-length": String(32 * chunk.length) },
      body: (req) => {
        for (let i = 0; i < 32; i++) req.write(chunk);
        req.end();
      },
    });
    expect([declared.status, declared.headers.connection]).toEqual([413, "close"]);
    expect(webSeen.filter((s) => s.url === `${marker}.declared`)).toEqual([]);

    // fetch streaming the same body sees the same answer (no reset).
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (let i = 0; i < 32; i++) c.enqueue(chunk);
        c.close();
      },
    });
    const f = await fetch(`http://127.0.0.1:${port}${marker}`, { method: "POST", body, duplex: "half" } as RequestInit);
    expect(f.status).toBe(413);
    expect(await f.json()).toMatchObject({ error: { code: "PAYLOAD_TOO_LARGE" } });

    // A chunked body under the bound still goes through whole.
    const small = await request(port, marker, {
      method: "POST",
      headers: { "transfer-encoding": "chunked" },
      body: (req) => {
        for (let i = 0; i < 8; i++) req.write(chunk);
        req.end();
      },
    });
    expect(small.status).toBe(200);
    expect(JSON.parse(small.body)).toMatchObject({ bytes: 8 * 64 * 1024 });
  });

  it("passes on a web process's refusal to upgrade instead of leaving the socket hanging", async () => {
    const { port } = await startFront();
    const c = rawClient(port, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
    await until("the answer and the close", () => c.state.closedAfter >= 0, 3000);
    expect(c.state.received).toMatch(/^HTTP\/1\.1 200 /);
  });

  it("answers token checks on its fast path, errors and Bearer tokens included", async () => {
    const { front, port } = await startFront();
    const token = signRoomToken(
      { scope: "play", app: 1, room: randomUUID(), num: 7, sub: `guest:${randomUUID()}`, mr: 0 },
      new Date(),
      600,
    ).token;
    const before = front.fastPath.answered;
    const ok = await fetch(`http://127.0.0.1:${port}/api/tokens/verify?token=${token}&scope=play`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toMatchObject({ ok: true, scope: "play", num: 7 });
    const bad = await fetch(`http://127.0.0.1:${port}/api/tokens/verify?token=${token.slice(0, -3)}abc&scope=play`);
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: { code: "TOKEN_INVALID" } });
    expect(front.fastPath.answered - before).toBe(2);
    const bearer = await fetch(`http://127.0.0.1:${port}/api/tokens/verify?scope=play`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(bearer.status).toBe(200);
    expect(await bearer.json()).toMatchObject({ ok: true, num: 7 });
    expect(front.fastPath.answered - before).toBe(3);
  });

  it("counts IPv4 addresses one by one and IPv6 ones by /64", () => {
    expect(clientKey("203.0.113.7")).toBe("203.0.113.7");
    expect(clientKey("::ffff:203.0.113.7")).toBe("::ffff:203.0.113.7");
    expect(clientKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:0DB8:0001:0002::9")).toBe("2001:db8:1:2::/64");
    expect(clientKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(clientKey("::1")).toBe("0:0:0:0::/64");
    expect(clientKey("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(clientKey(undefined)).toBe("");
  });

  it("keeps long answers flowing past every timeout: a proxied stream, an HTTP-FLV play with a pause", async () => {
    // Stands in for the embedded media server's HTTP-FLV output: 1 s of data, a 1.5 s gap (the
    // publisher hiccups, or the player stops reading), then 0.5 s more.
    let flvPath = "";
    const nms = http.createServer((req, res) => {
      flvPath = req.url ?? "";
      res.writeHead(200, { "content-type": "video/x-flv" });
      let i = 0;
      const tick = () => {
        res.write(Buffer.alloc(1000, i));
        i++;
        if (i === 15) return void res.end();
        setTimeout(tick, i === 10 ? 1500 : 100);
      };
      tick();
    });
    process.env.MEDIA_HTTP_PORT = String(await listen(nms));
    resetEnvForTests();
    let port: number;
    try {
      ({ port } = await startFront({ headersTimeoutMs: 300, requestTimeoutMs: 500, idleTimeoutMs: 500 }));
    } finally {
      delete process.env.MEDIA_HTTP_PORT;
      resetEnvForTests();
    }
    try {
      const stream = await request(port, "/stream", { timeoutMs: 10_000 });
      expect(stream.status).toBe(200);
      expect(stream.body.split("\n").filter(Boolean)).toHaveLength(20);
      expect(stream.ms).toBeGreaterThan(1500);

      const name = "proxytest1";
      const token = signRoomToken(
        { scope: "play", app: 1, room: randomUUID(), num: 1, st: name, sub: `guest:${randomUUID()}`, mr: 1 },
        new Date(),
        600,
      ).token;
      const flv = await request(port, `/live/${name}.flv?token=${token}`, { timeoutMs: 10_000 });
      expect(flv.status).toBe(200);
      expect(flv.headers["content-type"]).toBe("video/x-flv");
      expect(flv.body.length).toBe(15_000);
      expect(flv.ms).toBeGreaterThan(2500);
      expect(flvPath).toMatch(new RegExp(`^/live/${name}\\.flv\\?sign=`));
    } finally {
      nms.closeAllConnections();
      await new Promise((r) => nms.close(r));
    }
  });
});
