// The fast path over real sockets: its answers are node:http's byte for byte; whatever it does not
// answer node:http answers, in order, on the same connection; a route that fails changes nothing.
import http from "node:http";
import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { takeAnswerBuffer } from "../http/answer-buffers";
import { sendJson } from "../http/io";
import { createFastPath, headerOf, type FastRoute } from "./fast";

type Server = http.Server & { fast: ReturnType<typeof createFastPath>; seen: string[] };

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/**
 * node:http answers `POST /beat` with {"n":<body's n>} (400 for a body that is not such JSON) and
 * anything else with 404; the fast path answers `POST /beat` too, counting what it did in `done`.
 */
async function serve(
  done: number[] = [],
  timeouts: { headersTimeoutMs: number; requestTimeoutMs?: number; keepAliveTimeoutMs: number } = {
    headersTimeoutMs: 60_000,
    keepAliveTimeoutMs: 65_000,
  },
): Promise<{ server: Server; port: number }> {
  const seen: string[] = [];
  const server = http.createServer({ keepAliveTimeout: timeouts.keepAliveTimeoutMs }, (req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (body += c));
    req.on("end", () => {
      seen.push(`${req.method} ${req.url} ${body}`);
      if (req.method !== "POST" || req.url !== "/beat") return sendJson(res, 404, { error: "none" });
      try {
        const n = (JSON.parse(body) as { n: unknown }).n;
        if (typeof n !== "number") throw new Error("no n");
        if (n < 0) return sendJson(res, 422, { error: "negative", n });
        sendJson(res, 200, { n });
      } catch {
        sendJson(res, 400, { error: "bad" });
      }
    });
  }) as Server;
  const beat: FastRoute = (body) => {
    try {
      const n = (JSON.parse(body) as { n: unknown }).n;
      if (typeof n !== "number") return undefined;
      // An answer this route gives itself, error or not (the node:http route gives the same).
      if (n < 0) return { status: 422, json: JSON.stringify({ error: "negative", n }) };
      done.push(n);
      return { status: 200, json: JSON.stringify({ n }) };
    } catch {
      return undefined;
    }
  };
  server.fast = createFastPath(server, {
    routes: {
      "POST /beat": beat,
      // An answer that comes later ({"n", "ms"}): none for n < 0 (node:http answers it then).
      "POST /later": (body) => {
        const { n, ms } = JSON.parse(body) as { n: number; ms: number };
        return new Promise((r) =>
          setTimeout(() => r(n < 0 ? undefined : { status: 200, json: JSON.stringify({ n }) }), ms),
        );
      },
      // An answer longer than a socket's buffer, as bytes.
      "POST /big": (_body, query) => ({
        status: 200,
        json: Buffer.from(JSON.stringify({ pad: "x".repeat(query === "huge" ? HUGE : BIG) })),
      }),
    },
    requestTimeoutMs: 60_000,
    ...timeouts,
    maxBody: 1024,
  });
  server.on("connection", server.fast.connection);
  server.seen = seen;
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { server, port: (server.address() as net.AddressInfo).port };
}

const BIG = 1024 * 1024;
/** More than the kernel's socket buffers on both ends hold. */
const HUGE = 64 * 1024 * 1024;
const beat = (n: number | string, extra = "") => {
  const body = typeof n === "number" ? `{"n":${n}}` : n;
  return `POST /beat HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
};

/** A raw connection that collects whole answers (status, headers, body) as they come. */
function connect(port: number) {
  const socket = net.connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  let buf = Buffer.alloc(0);
  const answers: { status: number; head: string; body: string }[] = [];
  let waiting: (() => void) | undefined;
  socket.on("data", (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) break;
      const head = buf.toString("latin1", 0, end);
      const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
      if (buf.length < end + 4 + len) break;
      answers.push({ status: Number(head.slice(9, 12)), head, body: buf.toString("utf8", end + 4, end + 4 + len) });
      buf = buf.subarray(end + 4 + len);
    }
    waiting?.();
  });
  const closed = new Promise<void>((r) => socket.on("close", () => r()));
  return {
    socket,
    answers,
    closed,
    send: (s: string | Buffer) => socket.write(s),
    async until(n: number, ms = 5000) {
      const deadline = Date.now() + ms;
      while (answers.length < n) {
        if (Date.now() > deadline) throw new Error(`${answers.length} answers, expected ${n}`);
        await new Promise<void>((r) => {
          waiting = r;
          setTimeout(r, 50);
        });
      }
      return answers;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A request's head, then its body `ms` later, as clients that write them apart do. */
async function sendApart(c: ReturnType<typeof connect>, req: string, ms: number) {
  const cut = req.indexOf("\r\n\r\n") + 4;
  c.send(req.slice(0, cut));
  await sleep(ms);
  c.send(req.slice(cut));
}

const withoutDate = (head: string) => head.replace(/\r\nDate: [^\r]*/, "");

describe("fast path", () => {
  it("answers as node:http does, byte for byte but the date", async () => {
    const done: number[] = [];
    const { server, port } = await serve(done);
    const c = connect(port);
    c.send(beat(1));
    // A chunked body is not for the fast path: node:http answers the same request.
    c.send('POST /beat HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n7\r\n{"n":1}\r\n0\r\n\r\n');
    const [fast, slow] = await c.until(2);
    expect(done).toEqual([1]);
    expect(server.seen).toEqual(['POST /beat {"n":1}']);
    expect(fast!.status).toBe(200);
    expect(fast!.body).toBe('{"n":1}');
    expect(withoutDate(fast!.head)).toBe(withoutDate(slow!.head));
    expect(fast!.head).toMatch(/\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
    expect(slow!.body).toBe(fast!.body);
    c.socket.destroy();
    // An error the route answers itself: the same bytes as node:http's sendJson.
    const e = connect(port);
    e.send(beat(-1));
    e.send('POST /beat HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n8\r\n{"n":-1}\r\n0\r\n\r\n');
    const [fastError, slowError] = await e.until(2);
    expect(fastError!.status).toBe(422);
    expect(fastError!.head).toMatch(/^HTTP\/1\.1 422 Unprocessable Entity\r\n/);
    expect(withoutDate(fastError!.head)).toBe(withoutDate(slowError!.head));
    expect(fastError!.body).toBe(slowError!.body);
    expect(server.seen).toEqual(['POST /beat {"n":1}', 'POST /beat {"n":-1}']);
    e.socket.destroy();
  });

  it("hands node:http the rest of a connection in order: pipelined, split and failed requests", async () => {
    const done: number[] = [];
    const { server, port } = await serve(done);
    const c = connect(port);
    c.send(beat(1));
    await c.until(1);
    // Three in one write: answered here, then one node:http must answer (404), then one more.
    c.send(beat(2) + "GET /other HTTP/1.1\r\nhost: x\r\n\r\n" + beat(3));
    await c.until(4);
    // One request in two writes: node:http has the connection now and reads both halves in order.
    const split = beat(4);
    c.send(split.slice(0, 20));
    await sleep(50);
    c.send(split.slice(20));
    // A body the route refuses: node:http answers it (400), the route having done nothing.
    c.send(beat('{"m":5}'));
    const answers = await c.until(6);
    expect(answers.map((a) => [a.status, a.body])).toEqual([
      [200, '{"n":1}'],
      [200, '{"n":2}'],
      [404, '{"error":"none"}'],
      [200, '{"n":3}'],
      [200, '{"n":4}'],
      [400, '{"error":"bad"}'],
    ]);
    // Once node:http has a connection it keeps it: 3 and 4 were its own.
    expect(done).toEqual([1, 2]);
    expect(server.seen).toEqual(["GET /other ", 'POST /beat {"n":3}', 'POST /beat {"n":4}', 'POST /beat {"m":5}']);
    expect(server.fast.open).toBe(0);
    c.socket.destroy();
  });

  it("holds a request that comes in parts until it is whole, and answers it itself", async () => {
    const done: number[] = [];
    const { server, port } = await serve(done);
    const c = connect(port);
    // Headers and body written apart, as some HTTP clients do; then a head in three parts.
    await sendApart(c, beat(1), 50);
    await c.until(1);
    const second = beat(2);
    for (const part of [second.slice(0, 5), second.slice(5, 30), second.slice(30)]) {
      c.send(part);
      await sleep(30);
    }
    // A whole request and the start of another in one write, the rest after.
    const fourth = beat(4);
    c.send(beat(3) + fourth.slice(0, 40));
    await sleep(30);
    c.send(fourth.slice(40));
    const answers = await c.until(4);
    expect(answers.map((a) => a.body)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    expect(done).toEqual([1, 2, 3, 4]);
    expect(server.seen).toEqual([]);
    expect(server.fast.open).toBe(1);
    c.socket.destroy();
  });

  it("answers a part of a request as node:http does: 408 past the headers timeout, 400 when the client ends", async () => {
    const { server, port } = await serve([], { headersTimeoutMs: 300, keepAliveTimeoutMs: 65_000 });
    // After an answer, a request begun and not finished: the headers timeout, not the keep-alive one.
    const slow = connect(port);
    let got = "";
    slow.socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
    slow.send(beat(1));
    await slow.until(1);
    slow.send(beat(2).slice(0, 30));
    const t0 = Date.now();
    await slow.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(got).toMatch(/\r\n\r\n\{"n":1\}HTTP\/1\.1 408 Request Timeout\r\nConnection: close\r\n\r\n$/);
    // Ended by the client before it was whole.
    const cut = connect(port);
    let cutGot = "";
    cut.socket.on("data", (d: Buffer) => (cutGot += d.toString("latin1")));
    cut.socket.end(beat(3).slice(0, 30));
    await cut.closed;
    expect(cutGot).toBe("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
    // One whose head drips in for longer than the headers timeout: 408 at the timeout, as node:http
    // answers (the timeout counts from the request's first byte, not from its last).
    const drip = connect(port);
    let dripGot = "";
    drip.socket.on("data", (d: Buffer) => (dripGot += d.toString("latin1")));
    const bytes = beat(4);
    const t1 = Date.now();
    for (let i = 0; i < 6 && !drip.socket.destroyed; i++) {
      drip.send(bytes.slice(i * 3, i * 3 + 3));
      await sleep(100);
    }
    await drip.closed;
    expect(Date.now() - t1).toBeLessThan(1000);
    expect(dripGot).toBe("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
    expect(server.seen).toEqual([]);
  });

  it("gives a body the request timeout, not the headers one, and hands node:http what it cannot finish", async () => {
    const { server, port } = await serve([], {
      headersTimeoutMs: 300,
      requestTimeoutMs: 3000,
      keepAliveTimeoutMs: 65_000,
    });
    // The head now, the body after the headers timeout: still within the request's.
    const late = connect(port);
    await sendApart(late, beat(1), 600);
    const [a] = await late.until(1);
    expect(a!.status).toBe(200);
    expect(server.fast.open).toBeGreaterThan(0);
    // A request in more than 8 pieces, an empty line after a request, a start no route has: node:http's.
    const pieces = connect(port);
    const many = beat(2);
    for (let i = 0; i < many.length; i += 3) {
      pieces.send(many.slice(i, i + 3));
      await sleep(5);
    }
    await pieces.until(1);
    const crlf = connect(port);
    crlf.send(beat(3) + "\r\n");
    await crlf.until(1);
    crlf.send(beat(4));
    await crlf.until(2);
    const t0 = Date.now();
    const garbage = connect(port);
    garbage.send("\x16\x03\x01\x02\x00\x01");
    await garbage.closed;
    expect(Date.now() - t0).toBeLessThan(250);
    expect(server.seen).toEqual(['POST /beat {"n":2}', 'POST /beat {"n":4}']);
    for (const c of [late, pieces, crlf]) c.socket.destroy();
  });

  it("answers a request it holds when the server closes, then closes its connection", async () => {
    const done: number[] = [];
    const { server, port } = await serve(done);
    const idle = connect(port);
    idle.send(beat(1));
    await idle.until(1);
    const busy = connect(port);
    const req = beat(2);
    busy.send(req.slice(0, 40));
    await sleep(50);
    server.closeIdleConnections();
    await idle.closed;
    busy.send(req.slice(40));
    const [a] = await busy.until(1);
    expect(a!.body).toBe('{"n":2}');
    await busy.closed;
    expect(done).toEqual([1, 2]);
  });

  it("leaves to node:http every request not plainly one of its own", async () => {
    const cases = [
      beat(1, "connection: close\r\n"),
      beat(1, "expect: 100-continue\r\n"),
      beat(1, "upgrade: websocket\r\n"),
      beat(1, "content-length: 7\r\n"), // two lengths
      beat(1).replace(/content-length: (\d+)/, "content-length: $1\t"), // node:http refuses it (400)
      beat(1, "proxy-connection: close\r\n"), // node:http reads it as Connection
      beat(1, "authorization: Bearer a\r\nauthorization: Bearer b\r\n"), // node:http keeps the first
      beat(1, "x-a: 1\r\n".repeat(101)),
      beat(1, "x-folded: a\r\n b\r\n"),
      beat(1, "bad header: x\r\n"),
      beat(1, "x-ctl: a\x01b\r\n"),
      beat('{"n":1,"s":"ü"}'),
      beat(`{"n":1,"pad":"${"x".repeat(2000)}"}`),
      beat(1).replace("host: x\r\n", ""),
      beat(1).replace("HTTP/1.1", "HTTP/1.0"),
      beat(1).replace("POST /beat", "POST /beat/"),
      beat(1).replace("POST /beat", "PUT /beat"),
    ];
    for (const req of cases) {
      const done: number[] = [];
      const { server, port } = await serve(done);
      const c = connect(port);
      c.send(req);
      await c.until(1).catch(() => undefined);
      expect(done, JSON.stringify(req)).toEqual([]);
      expect(server.fast.answered, JSON.stringify(req)).toBe(0);
      c.socket.destroy();
    }
  });

  it("keeps node:http's timeouts: 408 for a connection silent from the start, keep-alive after an answer", async () => {
    const { port } = await serve([], { headersTimeoutMs: 300, keepAliveTimeoutMs: 1000 });
    const silent = connect(port);
    let got = "";
    silent.socket.on("data", (d: Buffer) => (got += d.toString("latin1")));
    const t0 = Date.now();
    await silent.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(got).toBe("HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n");
    // After an answer the keep-alive timeout runs (and node:http's second of grace), not the headers timeout.
    const idle = connect(port);
    idle.send(beat(1));
    const [a] = await idle.until(1);
    expect(a!.head).toMatch(/\r\nKeep-Alive: timeout=1$/);
    const t1 = Date.now();
    await idle.closed;
    expect(Date.now() - t1).toBeGreaterThanOrEqual(1800);
    expect(idle.answers).toHaveLength(1);
  });

  it("closes its connections when the server closes", async () => {
    const { server, port } = await serve();
    const other = connect(port);
    other.send(beat(2));
    await other.until(1);
    expect(server.fast.open).toBe(1);
    server.closeIdleConnections();
    await other.closed;
    expect(server.fast.open).toBe(0);
  });

  it("keeps a connection whose answers are longer than its socket's buffer, reading on once each is written", async () => {
    const { server, port } = await serve();
    const c = connect(port);
    const big = "POST /big HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";
    for (let i = 1; i <= 3; i++) {
      c.send(big);
      const a = await c.until(i);
      expect(a[i - 1]!.body.length).toBe(BIG + 10);
    }
    expect(server.fast.answered).toBe(3);
    expect(server.fast.open).toBe(1);
    // Two at once: the second is read once the first is written, and answered in turn.
    c.send(big + big);
    await c.until(5);
    expect(server.fast.answered + server.seen.length).toBe(5);
    c.socket.destroy();
  });

  it("answers a request later in its place: the connection reads nothing more until then", async () => {
    const { server, port } = await serve();
    const c = connect(port);
    const later = (n: number, ms: number) => {
      const body = JSON.stringify({ n, ms });
      return `POST /later HTTP/1.1\r\nhost: x\r\ncontent-length: ${body.length}\r\n\r\n${body}`;
    };
    c.send(later(1, 150) + beat(2) + later(3, 10) + beat(4));
    const answers = await c.until(4);
    expect(answers.map((a) => a.body)).toEqual([1, 2, 3, 4].map((n) => `{"n":${n}}`));
    expect(server.seen).toEqual([]);
    // One whose answer does not come: node:http answers it, from its start, and the rest in order.
    c.send(later(-1, 20) + beat(5));
    const more = await c.until(6);
    expect(more.slice(4).map((a) => a.status)).toEqual([404, 200]);
    expect(server.seen).toEqual(['POST /later {"n":-1,"ms":20}', 'POST /beat {"n":5}']);
    c.socket.destroy();
    // On shutdown, a request being answered is answered, then its connection closes.
    const d = connect(port);
    d.send(later(7, 200));
    await sleep(50);
    const closed = new Promise((r) => server.close(r));
    const [last] = await d.until(1);
    expect(last!.body).toBe('{"n":7}');
    await d.closed;
    await closed;
  });

  it("on shutdown, writes an answer under way to its end before closing its connection", async () => {
    const { server, port } = await serve();
    const socket = net.connect(port, "127.0.0.1");
    socket.pause();
    socket.write("POST /big?huge HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n");
    while (server.fast.answered < 1) await sleep(10);
    const closed = new Promise((r) => server.close(r));
    await sleep(100);
    // Read only now: all of it arrives, then the connection ends.
    let bytes = 0;
    let head = "";
    socket.on("data", (d: Buffer) => {
      if (!head) head = d.toString("latin1", 0, d.indexOf("\r\n\r\n"));
      bytes += d.length;
    });
    socket.resume();
    await new Promise((r) => socket.on("close", r));
    expect(head).toMatch(/^HTTP\/1.1 200 OK\r\n/);
    expect(bytes).toBe(head.length + 4 + HUGE + 10);
    await closed;
  });

  it("does not queue answers without bound for a client that never reads them", async () => {
    const done: number[] = [];
    const { server, port } = await serve(done);
    const accepted: net.Socket[] = [];
    server.prependListener("connection", (s: net.Socket) => accepted.push(s));
    const socket = net.connect(port, "127.0.0.1");
    socket.setNoDelay(true);
    socket.pause();
    await new Promise((r) => socket.once("connect", r));
    // Whole requests, 64 a write, so that no read ends inside one: 64,000 beats whose answers (11 MB,
    // more than the kernel's socket buffers hold) are never read.
    const batch = beat(1).repeat(64);
    for (let i = 0; i < 1000; i++) {
      socket.write(batch);
      await sleep(1);
    }
    await sleep(500);
    expect(done.length).toBeGreaterThan(0);
    expect(done.length + server.seen.length).toBeLessThan(64_000);
    expect(accepted[0]!.writableLength).toBeLessThan(256 * 1024);
    socket.destroy();
  });

  it("gives an answer's buffer back only once the kernel has all of it", async () => {
    // A Unix socket's buffers hold about 200 KiB: a 1-MiB answer to a client that does not read
    // stays partly unwritten. Were its buffer given back before, the next answer (another client's)
    // would be written into it.
    const server = http.createServer((_req, res) => sendJson(res, 404, {}));
    const fast = createFastPath(server, {
      routes: {
        "POST /pooled": (body) => {
          const b = takeAnswerBuffer(1024 * 1024);
          b.fill(body);
          return { status: 200, json: b };
        },
      },
      headersTimeoutMs: 60_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 65_000,
      maxBody: 1024,
    });
    server.on("connection", fast.connection);
    servers.push(server);
    const path = join(tmpdir(), `onair-fast-${process.pid}-${Date.now()}.sock`);
    await new Promise<void>((r) => server.listen(path, r));
    const pooled = (fill: string) => `POST /pooled HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\n\r\n${fill}`;
    const slow = net.connect(path);
    slow.pause();
    slow.write(pooled("a"));
    while (fast.answered < 1) await sleep(5);
    await sleep(50);
    // Others meanwhile, one after another, each reading its answer whole.
    for (const fill of ["b", "c", "d"]) {
      const c = net.connect(path);
      const chunks: Buffer[] = [];
      c.on("data", (d: Buffer) => chunks.push(d));
      c.write(pooled(fill));
      const n = 1024 * 1024;
      while (Buffer.concat(chunks).length < n) await sleep(5);
      const got = Buffer.concat(chunks);
      expect(got.subarray(got.length - n).every((x) => x === fill.charCodeAt(0))).toBe(true);
      c.destroy();
    }
    // Then the slow one reads: its answer is still all "a".
    const chunks: Buffer[] = [];
    slow.on("data", (d: Buffer) => chunks.push(d));
    slow.resume();
    while (Buffer.concat(chunks).length < 1024 * 1024) await sleep(5);
    const got = Buffer.concat(chunks);
    const body = got.subarray(got.indexOf("\r\n\r\n") + 4);
    expect(body.length).toBe(1024 * 1024);
    expect(body.every((x) => x === 0x61)).toBe(true);
    slow.destroy();
  });
});

describe("headerOf", () => {
  it("finds a header by name in any case, its first value trimmed, and only a whole name", () => {
    const head =
      "GET /x HTTP/1.1\r\nHost: a\r\nX-Forwarded-For:  10.0.0.9 , 1.2.3.4\r\nX-Forwarded-For: 5.6.7.8\r\nAccept: */*";
    expect(headerOf(head, "x-forwarded-for")).toBe("10.0.0.9 , 1.2.3.4");
    expect(headerOf(head, "accept")).toBe("*/*");
    expect(headerOf(head, "forwarded-for")).toBeUndefined();
    expect(headerOf(head, "cookie")).toBeUndefined();
    // The one after the first (node:http would join them), and none after the last.
    expect(headerOf(head, "x-forwarded-for", 1)).toBe("5.6.7.8");
    expect(headerOf(head, "x-forwarded-for", 2)).toBeUndefined();
    expect(headerOf(head, "accept", 1)).toBeUndefined();
  });
});
