// The hottest requests (a heartbeat, a play-token check, AUI's and 随心播's room lists once their
// pages have been read for everybody) answered straight from the connection's bytes, without node:http's objects for them: its IncomingMessage and ServerResponse streams, header
// objects and events cost about as much CPU as all the rest of a heartbeat. Measured on this 2-core
// machine: a bare node:http answer 30–41 µs of CPU, the same answer written from the bytes 23 µs (12
// of them the kernel's socket calls either way); the front's CPU per heartbeat 40–48 µs before, 29
// after, and at 10,000 beats a second 51–59 % of a core before, 29–35 % after.
//
// Only a narrow, certain form is answered here: an HTTP/1.1 request whose request line, headers and
// body are plain ASCII, with a Host header, a Content-Length (or no body) and no Transfer-Encoding,
// Expect, Upgrade or (Proxy-)Connection other than keep-alive, for a route that answers it
// synchronously (its errors too, as node:http's route would: a bad token keeps its connection
// here). A request that comes in parts (headers and body written apart) is held until it is whole,
// within a head's and a body's bound, 8 reads, and node:http's headers and request timeouts; one
// whose first bytes are no route's goes at once. Anything else, and anything after it
// on that connection, goes to node:http with the bytes not yet answered, which reads them as it
// would a connection's first request (errors, limits, timeouts, proxying, upgrades): a fast route
// that does not answer (e.g. a body that is not JSON) has done nothing, and node:http answers the
// same request again from the start.
// Until then the connection has node:http's timeouts and answers: a 408 when no request, or only
// part of one, came within the headers timeout (a body: the request timeout); its keep-alive
// timeout after an answer; a 400 for a request the client ended before it was whole; and on
// shutdown, a request held is answered before its connection closes.
import { STATUS_CODES, type Server } from "node:http";
import type { Socket } from "node:net";
import { answerWritten } from "../http/answer-buffers";

/** A body's JSON object (undefined when it is not one): what fast routes answer. */
export function jsonObject(body: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(body);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An answer: its status and its JSON text (or that text's UTF-8 bytes). Its header is sendJson's
 * (server/http/io.ts), or with `type` and `headers` that of `res.writeHead(status, {"content-type":
 * type, "content-length": …, ...headers})`.
 */
export interface FastAnswer {
  status: number;
  json: string | Buffer;
  /** The content type (sendJson's: JSON in UTF-8). */
  type?: string;
  /** Header lines after the length, each ending in CRLF, in place of sendJson's `cache-control`. */
  headers?: string;
}

/** What else a route may want of its request: its head (request line and headers) and its socket. */
export interface FastRequest {
  head: string;
  socket: Socket;
}

/**
 * Answers a request (its body, its query string without the "?", and its Authorization header's
 * value), or returns undefined, having changed nothing, for node:http to answer it. An answer may
 * come later (a promise): the connection reads nothing more until it has come, and one that comes
 * undefined (or fails) leaves the request, and the rest of the connection, to node:http.
 */
export type FastRoute = (
  body: string,
  query: string,
  authorization: string | undefined,
  request: FastRequest,
) => FastAnswer | undefined | Promise<FastAnswer | undefined>;

/**
 * A header's value in a request's head (trimmed; `name` in lower case), or undefined: the first
 * line of that name, or the one after `skip` others (1: a second one, which node:http would join).
 */
export function headerOf(head: string, name: string, skip = 0): string | undefined {
  const lower = head.toLowerCase();
  let at = -1;
  for (let i = 0; i <= skip; i++) {
    at = lower.indexOf(`\r\n${name}:`, at + 1);
    if (at < 0) return undefined;
  }
  const from = at + name.length + 3;
  const end = head.indexOf("\r\n", from);
  return head.slice(from, end < 0 ? undefined : end).trim();
}

export interface FastPathOptions {
  /** Routes by "METHOD /path". */
  routes: Record<string, FastRoute>;
  /** Connections node:http takes from the start (e.g. over the per-address cap, to be refused). */
  skip?: (socket: Socket) => boolean;
  /**
   * node:http's headers timeout: a connection that sends nothing for this long after it opens is
   * answered 408 and closed, as node:http does.
   */
  headersTimeoutMs: number;
  /** node:http's request timeout: a request whose headers came has this long in all for its body. */
  requestTimeoutMs: number;
  /**
   * node:http's keep-alive timeout, which its answers announce: a connection idle this long (and
   * node:http's second of grace) after an answer is closed.
   */
  keepAliveTimeoutMs: number;
  /** Bodies longer than this go to node:http (which refuses them). */
  maxBody: number;
}

const MAX_HEAD = 8 * 1024;
const HEAD_END = Buffer.from("\r\n\r\n");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, spaces and tabs: nothing node:http's parser might read differently. */
const PLAIN = /^[\x20-\x7e\t]*$/;
const TARGET = /^\/[\x21-\x7e]*$/;
/** What node:http's parser reads as a length: spaces or tabs before the digits, spaces after. */
const LENGTH = /^[ \t]*(\d{1,9}) *$/;
/** Heartbeat clients send a dozen headers; node:http keeps only its first 1,000 or so. */
const MAX_HEADERS = 100;
/** answer(): the request has not all come yet. */
const WAIT = -2;
/** answer(): the request's head has come, its body not all yet. */
const WAIT_BODY = -3;
/** Reads a request may take here (more go to node:http, whose parser reads them incrementally). */
const MAX_READS = 8;
/** node:http's answer to a request the client ended before it was whole. */
const BAD_REQUEST = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
/** node:http's answer to a connection that sent no request within its headers timeout. */
const TIMED_OUT = "HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n";
const ASCII_TEXT = /^[\x20-\x7e\t\r\n]*$/;

/**
 * Takes the server's connections: each is read here until a request comes that is not answered
 * here, and from then on node:http reads it. Call right after creating the server (node:http's own
 * connection listener must be the only one yet); add listeners that must see every connection
 * first (e.g. admission) before calling `connection`, which the caller registers.
 */
export function createFastPath(server: Server, opts: FastPathOptions) {
  const own = server.listeners("connection");
  if (own.length !== 1) throw new Error("createFastPath must come right after the server is created");
  const nodeHttp = own[0] as (this: Server, socket: Socket) => void;
  server.removeListener("connection", nodeHttp);
  const open = new Set<Socket>();
  /** Connections read here that have had no answer yet (the headers timeout still runs). */
  const fresh = new WeakSet<Socket>();
  const keepAliveMs = opts.keepAliveTimeoutMs + 1000;
  /**
   * The start of a request that has come in part (a client may write its headers and its body
   * apart), and when it began: at most a head and a body's bound, for at most the headers timeout.
   */
  const partial = new Map<Socket, { bytes: Buffer; since: number; reads: number }>();
  /**
   * Connections whose request a route answers later (reading paused meanwhile): that request's
   * bytes, and what came after it.
   */
  const waiting = new Map<Socket, { request: Buffer; rest: Buffer | null }>();
  /** The server is closing: a held request is answered, and its connection then closed. */
  let closing = false;
  /** The first line of each route's requests, for telling a request that can never be one. */
  const lines = Object.keys(opts.routes);
  const keepAlive = `Keep-Alive: timeout=${Math.floor(opts.keepAliveTimeoutMs / 1000)}\r\n\r\n`;
  let dateSecond = -1;
  let date = "";
  let answered = 0;
  let answeredLater = 0;

  function onData(this: Socket, chunk: Buffer) {
    const held = partial.get(this);
    let d = chunk;
    if (held) {
      partial.delete(this);
      d = Buffer.concat([held.bytes, chunk]);
    }
    let off = 0;
    while (off < d.length) {
      const n = answer(this, d, off);
      if (n === WAIT || n === WAIT_BODY) {
        // The same request as before (nothing answered since) keeps its start. node:http gives the
        // headers their timeout and the whole request its own.
        const same = held !== undefined && off === 0;
        const since = same ? held.since : Date.now();
        const reads = same ? held.reads + 1 : 1;
        const limit = n === WAIT ? opts.headersTimeoutMs : opts.requestTimeoutMs;
        if (reads > MAX_READS || Date.now() - since > limit) return handOff(this, d.subarray(off));
        partial.set(this, { bytes: Buffer.from(d.subarray(off)), since, reads });
        this.setTimeout(Math.max(1, limit - (Date.now() - since)));
        return;
      }
      if (n < 0) return handOff(this, d.subarray(off));
      off += n;
      const later = waiting.get(this);
      if (later) {
        // Read on once the answer has come (then(), below).
        if (off < d.length) later.rest = Buffer.from(d.subarray(off));
        this.pause();
        return;
      }
      // A client that sends on without reading: node:http holds back (it pauses reading) from here.
      if (this.writableNeedDrain && off < d.length) return handOff(this, d.subarray(off));
    }
    if (closing) return void this.end();
    // A request that came in parts was answered: the keep-alive timeout runs again.
    if (held) this.setTimeout(keepAliveMs);
    readOn(this);
  }
  /**
   * An answer longer than the socket's buffer is still being written: the next request is read
   * once it is (TCP holds back a client that sends more meanwhile), as node:http does.
   */
  function readOn(socket: Socket) {
    // (A connection read as usual is flowing already: nothing to do on the hot path.)
    if (!socket.writableNeedDrain) return void (socket.readableFlowing === false && socket.resume());
    socket.pause();
    if (!socket.listeners("drain").includes(onDrain)) socket.once("drain", onDrain);
  }
  /** A route's answer that came later: written, then what came after its request is read. */
  function answerLater(socket: Socket, got: FastAnswer | undefined) {
    const w = waiting.get(socket);
    waiting.delete(socket);
    if (!w || socket.destroyed || !open.has(socket)) return;
    if (!got) return handOff(socket, w.rest ? Buffer.concat([w.request, w.rest]) : w.request);
    write(socket, got);
    answeredLater++;
    if (closing) return void socket.end();
    if (w.rest) onData.call(socket, w.rest);
    else readOn(socket);
  }
  function onDrain(this: Socket) {
    // On shutdown, the answer written, the connection closes (as a held request's does).
    if (closing) this.end();
    else this.resume();
  }
  function onTimeout(this: Socket) {
    // node:http's answers to a connection that sent no request, or part of one, within its headers timeout.
    if (fresh.has(this) || partial.has(this)) this.end(TIMED_OUT);
    this.destroy();
  }
  function onEnd(this: Socket) {
    // A request cut short by the client's end: node:http's answer to it.
    if (partial.has(this)) this.end(BAD_REQUEST);
    else this.end();
  }
  function onError(this: Socket) {
    this.destroy();
  }
  function onClose(this: Socket) {
    open.delete(this);
    partial.delete(this);
    waiting.delete(this);
  }

  /** The request at `off` answered (its length in bytes), WAIT for the rest of it, or -1: node:http answers it. */
  function answer(socket: Socket, d: Buffer, off: number): number {
    // node:http skips empty lines before a request; they are left to it.
    if (d[off] === 0x0d || d[off] === 0x0a) return -1;
    const end = d.indexOf(HEAD_END, off);
    if (end < 0) return d.length - off > MAX_HEAD || !mayBeOurs(d, off) ? -1 : WAIT;
    if (end - off > MAX_HEAD) return -1;
    const head = d.toString("latin1", off, end);
    const lineEnd = head.indexOf("\r\n");
    const line = lineEnd < 0 ? head : head.slice(0, lineEnd);
    const sp1 = line.indexOf(" ");
    const sp2 = line.indexOf(" ", sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || line.slice(sp2 + 1) !== "HTTP/1.1") return -1;
    const target = line.slice(sp1 + 1, sp2);
    if (!TARGET.test(target)) return -1;
    const q = target.indexOf("?");
    const route = opts.routes[`${line.slice(0, sp1)} ${q < 0 ? target : target.slice(0, q)}`];
    if (!route) return -1;
    let length = -1;
    let headers = 0;
    let authorization: string | undefined;
    // node:http refuses an HTTP/1.1 request without a Host header (400).
    let host = false;
    for (let at = lineEnd < 0 ? head.length : lineEnd + 2; at < head.length;) {
      let next = head.indexOf("\r\n", at);
      if (next < 0) next = head.length;
      const h = head.slice(at, next);
      at = next + 2;
      if (++headers > MAX_HEADERS) return -1;
      const colon = h.indexOf(":");
      if (colon <= 0) return -1;
      const name = h.slice(0, colon);
      const value = h.slice(colon + 1);
      if (!TOKEN.test(name) || !PLAIN.test(value)) return -1;
      switch (name.toLowerCase()) {
        case "content-length": {
          const m = LENGTH.exec(value);
          if (length >= 0 || !m) return -1;
          length = Number(m[1]);
          break;
        }
        case "host":
          host = true;
          break;
        case "authorization":
          if (authorization !== undefined) return -1;
          authorization = value.trim();
          break;
        case "connection":
          if (value.trim().toLowerCase() !== "keep-alive") return -1;
          break;
        case "proxy-connection": // node:http reads it as Connection
        case "transfer-encoding":
        case "expect":
        case "upgrade":
          return -1;
      }
    }
    if (!host) return -1;
    if (length < 0) length = 0;
    if (length > opts.maxBody) return -1;
    const start = end + HEAD_END.length;
    if (start + length > d.length) return WAIT_BODY;
    const body = d.toString("latin1", start, start + length);
    if (!ASCII_TEXT.test(body)) return -1;
    const got = route(body, q < 0 ? "" : target.slice(q + 1), authorization, { head, socket });
    if (got === undefined) return -1;
    if (got instanceof Promise) {
      waiting.set(socket, { request: Buffer.from(d.subarray(off, start + length)), rest: null });
      if (fresh.delete(socket)) socket.setTimeout(keepAliveMs);
      got.then(
        (a) => answerLater(socket, a),
        () => answerLater(socket, undefined),
      );
    } else write(socket, got);
    return start + length - off;
  }

  /** Writes an answer: node:http's header for it (sendJson's by default), then the JSON. */
  function write(socket: Socket, { status, json, type, headers }: FastAnswer) {
    const now = Date.now();
    if (Math.floor(now / 1000) !== dateSecond) {
      dateSecond = Math.floor(now / 1000);
      date = new Date(now).toUTCString();
    }
    // The header node:http writes for sendJson's answer (server/http/io.ts), byte for byte.
    const header =
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "unknown"}\r\ncontent-type: ${type ?? "application/json; charset=utf-8"}\r\ncontent-length: ${Buffer.byteLength(json)}\r\n` +
      `${headers ?? "cache-control: no-store\r\n"}Date: ${date}\r\nConnection: keep-alive\r\n${keepAlive}`;
    if (typeof json === "string") socket.write(header + json);
    else {
      // Bytes (a long answer, encoded once) go out with the header in one system call.
      socket.cork();
      socket.write(header);
      socket.write(json, () => answerWritten(json));
      socket.uncork();
    }
    answered++;
    if (fresh.delete(socket)) socket.setTimeout(keepAliveMs);
  }

  /** node:http reads the connection from here, starting with `rest` (bytes not answered here). */
  function handOff(socket: Socket, rest: Buffer | null) {
    socket.pause();
    socket.removeListener("data", onData);
    socket.removeListener("drain", onDrain);
    socket.removeListener("timeout", onTimeout);
    socket.removeListener("end", onEnd);
    socket.removeListener("error", onError);
    socket.removeListener("close", onClose);
    socket.setTimeout(0);
    open.delete(socket);
    fresh.delete(socket);
    partial.delete(socket);
    // node:http then reads the socket in its native parser, and what the stream holds (`rest`, then
    // any chunk read after it) through the stream's 'data' events: resume() emits those on the next
    // tick, before the event loop can read the socket again, so they come first.
    nodeHttp.call(server, socket);
    if (rest?.length) socket.unshift(rest);
    socket.resume();
  }

  /** Whether the bytes at `off` (a request's start, its head not all come) may be one of the routes'. */
  function mayBeOurs(d: Buffer, off: number) {
    const start = d.toString("latin1", off, Math.min(d.length, off + 64));
    return lines.some((line) =>
      start.length <= line.length
        ? line.startsWith(start)
        : start.startsWith(line) && (start[line.length] === " " || start[line.length] === "?"),
    );
  }

  /**
   * Closes the connections read here: all of them, or (`idle`) those between two requests; one that
   * holds part of a request is closed once it is answered, and one whose answer is still being
   * written once it is, as node:http does.
   */
  function closeConnections(idle: boolean) {
    closing = true;
    for (const s of open) {
      // Not idle: a request held or being answered, or an answer being written (it ends once written).
      if (idle && (partial.has(s) || waiting.has(s) || s.writableNeedDrain)) continue;
      s.destroy();
      open.delete(s);
    }
  }
  const closeIdle = server.closeIdleConnections.bind(server);
  const closeEvery = server.closeAllConnections.bind(server);
  server.closeIdleConnections = () => (closeIdle(), closeConnections(true));
  server.closeAllConnections = () => (closeEvery(), closeConnections(false));

  return {
    /** The server's connection listener (register it after admission). */
    connection: (socket: Socket) => {
      if (opts.skip?.(socket)) {
        // node:http sets its server's timeout on a connection; one set before (a shorter one, for a
        // connection about to be refused) stays.
        const timeout = socket.timeout;
        nodeHttp.call(server, socket);
        if (timeout) socket.setTimeout(timeout);
        return;
      }
      open.add(socket);
      fresh.add(socket);
      socket.setTimeout(opts.headersTimeoutMs);
      socket.on("timeout", onTimeout);
      socket.on("end", onEnd);
      socket.on("error", onError);
      socket.on("close", onClose);
      socket.on("data", onData);
    },
    /** Connections read here now (not yet handed to node:http). */
    get open() {
      return open.size;
    },
    /** Requests answered here so far. */
    get answered() {
      return answered;
    },
    /** Of those, the ones whose route answered later (a promise). */
    get answeredLater() {
      return answeredLater;
    },
  };
}
