// The front process: a small node:http server on the public port. It answers the hot paths itself
// (heartbeats, play-token checks, health) and streams every other request to the web process, within
// bounds no client can exhaust: connections per address, requests in flight, and timeouts.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
import { systemClock, type Clock } from "../clock";
import { dbHealth, getDb } from "../db/client";
import { AppError, errorBody } from "../errors";
import { env } from "../env";
import { badInput, readJson, refuseBody, sendError, sendJson } from "../http/io";
import { addressBehindProxies, bearerOf, setClientAddress, trustedProxies } from "../http/actor";
import { heartbeat, heartbeatInput, leaveInput, leaveRoom } from "../presence";
import { presenceBuffer, type PresenceBuffer } from "../presence/buffer";
import { checkRoomToken, verifyTokenInput } from "../tokens/issue";
import { createMediaRoutes } from "./media";
import { roomState } from "../rooms/state";
import { createSxbHeartbeat, isSxbPath } from "../compat/sxb";
import type { ApiHandler } from "../web/api";
import { CHAT_PATH, createRoomEvents, EVENTS_PATH } from "./events";
import { createEventsWorker, type EventsWorkerOptions } from "./events-worker";
import { createFastPath, jsonObject, type FastAnswer, type FastRoute } from "./fast";

const SMALL_BODY = 16 * 1024;
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

/**
 * A fast route's answer to a token-bearing input: `answer(input)`, or the error it throws as
 * sendError answers it. Undefined (node:http answers) for an input with no token and for an
 * unexpected error (node:http answers and logs it).
 */
function fastAnswer(
  answer: (input: unknown) => unknown,
  input: { token?: unknown } | undefined,
): FastAnswer | undefined {
  if (input?.token === undefined) return undefined;
  try {
    return { status: 200, json: JSON.stringify(answer(input)) };
  } catch (e) {
    return e instanceof AppError ? { status: e.httpStatus, json: JSON.stringify(errorBody(e)) } : undefined;
  }
}

/** Settings from server/env.ts unless given (tests use small ones). */
export interface FrontOptions {
  /** Where the web process listens, e.g. http://127.0.0.1:3001 */
  webOrigin: string;
  clock?: Clock;
  buffer?: PresenceBuffer;
  maxBodyBytes?: number;
  /** Open connections per client address (0: no cap). */
  maxConnPerIp?: number;
  /** Requests streamed to the web process at once. */
  maxInflight?: number;
  headersTimeoutMs?: number;
  /** For receiving a whole request, and for the web process to start answering one. */
  requestTimeoutMs?: number;
  /** A connection or proxied answer with no traffic for this long is closed (media plays are exempt). */
  idleTimeoutMs?: number;
  /**
   * The APIs this front answers itself (tRPC, vendor adapters: server/web/api.ts), within the same
   * in-flight bound as proxied requests; without it every such request goes to the web process.
   */
  api?: ApiHandler;
  /** Takes part in pulling always-on stream sources (server/media/pulls.ts): the front process does. */
  alwaysOn?: boolean;
  /**
   * Hands event sockets to a child process at this CPU priority (server/front/events-worker.ts);
   * without it the front serves them itself.
   */
  eventsWorker?: EventsWorkerOptions;
}

/**
 * Connections are counted per IPv4 address and per IPv6 /64: one host commonly holds a whole /64
 * and could otherwise take a fresh address for every connection.
 */
export function clientKey(address = ""): string {
  if (!address.includes(":") || address.startsWith("::ffff:")) return address;
  const [head = "", tail] = address.split("%")[0]!.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups =
    tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::/64`;
}

/** A web process that did not answer within the bound. */
class UpstreamTimeout extends Error {}

export function createFrontServer(opts: FrontOptions) {
  const e = env();
  const clock = opts.clock ?? systemClock;
  const buffer = opts.buffer ?? presenceBuffer;
  const web = new URL(opts.webOrigin);
  const maxBody = opts.maxBodyBytes ?? e.MAX_BODY_BYTES;
  const maxConnPerIp = opts.maxConnPerIp ?? e.FRONT_MAX_CONN_PER_IP;
  const maxInflight = opts.maxInflight ?? e.FRONT_MAX_INFLIGHT;
  const requestTimeout = opts.requestTimeoutMs ?? e.FRONT_REQUEST_TIMEOUT_MS;
  // node refuses a headers timeout longer than the request timeout.
  const headersTimeout = Math.min(opts.headersTimeoutMs ?? e.FRONT_HEADERS_TIMEOUT_MS, requestTimeout);
  const idleTimeout = opts.idleTimeoutMs ?? e.FRONT_IDLE_TIMEOUT_MS;
  const proxies = trustedProxies();
  // A socket for every admitted request: the in-flight bound, not a hidden queue in the agent, says no.
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInflight });
  let inflight = 0;
  let apiInflight = 0;
  const mediaRoute = createMediaRoutes(clock, { alwaysOn: opts.alwaysOn });
  const sxbHeartbeat = createSxbHeartbeat(buffer, clock);
  // A front and its events worker hold EVENTS_MAX_SOCKETS between them.
  const events = createRoomEvents({ clock, buffer, elsewhere: () => (worker ? worker.open + worker.waiting : 0) });

  /** A heartbeat's answer (throws the error to answer instead). */
  function heartbeatAnswer(input: unknown) {
    const p = heartbeatInput.safeParse(input);
    if (!p.success) throw badInput(p.error.issues);
    return heartbeat(buffer, p.data, clock.now());
  }
  /** A token check's answer (throws the error to answer instead). */
  function verifyAnswer(input: unknown) {
    const p = verifyTokenInput.safeParse(input);
    if (!p.success) throw badInput(p.error.issues);
    return checkRoomToken(p.data, clock.now());
  }
  /** A token check's input from its query string (the token may come as a Bearer header instead). */
  function verifyQuery(query: URLSearchParams, bearer: string | undefined) {
    const q = Object.fromEntries(query);
    return { ...q, token: q.token ?? bearer, num: q.num === undefined ? undefined : Number(q.num) };
  }
  /**
   * The same requests answered from the connection's bytes (./fast.ts), with the same answers and
   * errors (a token in the body or query, else a Bearer header's); a body that is not a JSON object,
   * or no token at all, is answered by the routes above.
   */
  const fastRoutes: Record<string, FastRoute> = {
    "POST /api/presence/heartbeat": (body, _q, auth) => fastAnswer(heartbeatAnswer, fastBody(body, auth)),
    "POST /api/tokens/verify": (body, _q, auth) => fastAnswer(verifyAnswer, fastBody(body, auth)),
    "GET /api/tokens/verify": (_body, query, auth) =>
      fastAnswer(verifyAnswer, verifyQuery(new URLSearchParams(query), bearerOf({ authorization: auth }))),
  };
  // 随心播's heartbeat and the APIs' routes share paths (one per command's path): the heartbeat's
  // route answers its command, the APIs' the others.
  for (const [k, route] of Object.entries(sxbHeartbeat.fast)) fastRoutes[k] = route;
  for (const [k, route] of Object.entries(opts.api?.fast ?? {})) {
    const api = boundApi(route);
    const first = fastRoutes[k];
    fastRoutes[k] = first ? (body, query, auth, r) => first(body, query, auth, r) ?? api(body, query, auth, r) : api;
  }
  /**
   * An API's fast route within the APIs' in-flight bound (answerApi), as that API's requests are:
   * an answer that comes later counts until it has come; over the bound, node:http refuses it.
   */
  function boundApi(route: FastRoute): FastRoute {
    return (body, query, authorization, request) => {
      if (apiInflight >= maxInflight) return undefined;
      const got = route(body, query, authorization, request);
      if (!(got instanceof Promise)) return got;
      apiInflight++;
      return got.finally(() => apiInflight--);
    };
  }

  async function tokenFromBody(req: IncomingMessage) {
    const body = (await readJson(req, SMALL_BODY)) as Record<string, unknown>;
    if (body === null || typeof body !== "object" || Array.isArray(body))
      throw new AppError("BAD_REQUEST", "Body must be a JSON object");
    return withBearer(body, bearerOf(req.headers));
  }
  /** The body's token, or the Bearer header's where the body has none. */
  function withBearer(body: Record<string, unknown>, bearer: string | undefined) {
    return bearer && body.token === undefined ? { ...body, token: bearer } : body;
  }
  /** A fast route's JSON body with the Bearer header's token where it has none (undefined: not an object). */
  function fastBody(body: string, authorization: string | undefined) {
    const o = jsonObject(body);
    return o && withBearer(o, bearerOf({ authorization }));
  }

  const routes: Record<
    string,
    (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>
  > = {
    "POST /api/presence/heartbeat": async (req, res) => {
      sendJson(res, 200, heartbeatAnswer(await tokenFromBody(req)));
    },
    "POST /api/presence/leave": async (req, res) => {
      const p = leaveInput.safeParse(await tokenFromBody(req));
      if (!p.success) throw badInput(p.error.issues);
      sendJson(res, 200, await leaveRoom(getDb(), p.data, clock.now(), buffer));
    },
    "GET /api/tokens/verify": (req, res, query) => {
      sendJson(res, 200, verifyAnswer(verifyQuery(query, bearerOf(req.headers))));
    },
    "POST /api/tokens/verify": async (req, res) => {
      sendJson(res, 200, verifyAnswer(await tokenFromBody(req)));
    },
    "GET /api/rooms/state": async (_req, res, query) => {
      sendJson(res, 200, await roomState(getDb(), query.get("room") ?? "", clock.now()));
    },
    [`GET ${EVENTS_PATH}`]: (req, res, query) => events.sse(req, res, query),
    [`POST ${CHAT_PATH}`]: (req, res) => events.postChat(req, res),
    "GET /api/health": async (_req, res) => {
      const [db, webHealth] = await Promise.all([dbHealth(), fetchWebHealth()]);
      sendJson(res, db.ok && webHealth.ok !== false ? 200 : 503, {
        process: "front",
        db,
        web: webHealth,
        // inWorker: of those, the events worker's (null: EVENTS_WORKER=0).
        events: { sockets: events.open + (worker?.open ?? 0), inWorker: worker ? worker.open : null },
      });
    },
  };

  async function fetchWebHealth(): Promise<Record<string, unknown>> {
    try {
      const r = await fetch(new URL("/api/health", web), { signal: AbortSignal.timeout(2500) });
      return (await r.json()) as Record<string, unknown>;
    } catch (e) {
      return { ok: false, error: `web process unreachable: ${(e as Error).message}` };
    }
  }

  /** The address a request comes from: the peer, or the one a trusted reverse proxy (TRUST_PROXY) names. */
  function addressOf(req: IncomingMessage) {
    const forwarded = req.headers["x-forwarded-for"];
    return addressBehindProxies(
      req.socket.remoteAddress ?? "",
      Array.isArray(forwarded) ? forwarded.join(",") : forwarded,
      proxies,
    );
  }

  function refuseBusy(res: ServerResponse) {
    res.setHeader("retry-after", "1");
    res.setHeader("connection", "close");
    sendError(res, new AppError("UNAVAILABLE", "The server is busy; retry in a moment"));
  }

  /**
   * The APIs answered here, within a bound of their own like the proxy's (it keeps the database
   * pool's queue short); counted only once the path is known to be theirs, so a console page is
   * never refused for the APIs' load.
   */
  function answerApi(req: IncomingMessage, res: ServerResponse, path: string): boolean {
    if (!opts.api) return false;
    return opts.api(req, res, path, () => {
      if (apiInflight >= maxInflight) return (refuseBusy(res), false);
      setClientAddress(req, addressOf(req));
      apiInflight++;
      res.once("close", () => apiInflight--);
      return true;
    });
  }

  /**
   * Streams a request to the web process and its answer back. Either side failing ends the other: a
   * client that leaves aborts its upstream request (which would otherwise hold an agent socket until
   * the web process's own timeout), and a web process that dies mid-answer cuts the client's.
   */
  function proxy(req: IncomingMessage, res: ServerResponse) {
    if (inflight >= maxInflight) return refuseBusy(res);
    const tooLarge = () => new AppError("PAYLOAD_TOO_LARGE", `Body larger than ${maxBody} bytes`);
    // Refuse a declared oversized body here, with a clear answer, instead of a reset mid-upload.
    if (Number(req.headers["content-length"] ?? 0) > maxBody) return refuseBody(req, res, tooLarge());

    inflight++;
    let settled = false;
    let upDone = false; // the upstream request failed or was abandoned: drop what the client still sends
    let clientGone = false;
    let bytes = 0;
    const settle = () => {
      if (settled) return;
      settled = true;
      inflight--;
      clearTimeout(deadline);
    };
    const headers = {
      ...req.headers,
      "x-forwarded-for": addressOf(req),
      "x-forwarded-host": req.headers.host ?? "",
      "x-forwarded-proto": "http",
    };
    const up = http.request({
      host: web.hostname,
      port: web.port,
      method: req.method,
      path: req.url,
      headers,
      agent,
    });
    // The web process must start answering within the bound; an answer may then stream for as long as it moves.
    const deadline = setTimeout(() => up.destroy(new UpstreamTimeout()), requestTimeout);
    up.setTimeout(idleTimeout, () => up.destroy(new UpstreamTimeout()));

    up.on("response", (upRes) => {
      clearTimeout(deadline);
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
      upRes.on("error", () => res.destroy());
      upRes.on("close", () => {
        if (!upRes.complete) res.destroy();
      });
    });
    up.on("error", (err) => {
      upDone = true;
      settle();
      req.resume(); // it may be paused for back-pressure; the rest is dropped
      if (clientGone || res.writableFinished || bytes > maxBody) return;
      if (res.headersSent) return void res.destroy();
      const timedOut = err instanceof UpstreamTimeout;
      sendJson(res, timedOut ? 504 : 502, {
        error: {
          code: "UNAVAILABLE",
          message: timedOut ? "The web process did not answer in time" : "The web process is not answering",
        },
      });
    });
    res.on("close", () => {
      clientGone = !res.writableFinished;
      settle();
      if (clientGone) up.destroy();
    });

    // The body is counted as it streams: a chunked one declares no length to refuse up front.
    req.on("data", (chunk: Buffer) => {
      if (upDone) return;
      bytes += chunk.length;
      if (bytes > maxBody) {
        upDone = true;
        up.destroy();
        settle();
        return refuseBody(req, res, tooLarge());
      }
      if (!up.write(chunk)) req.pause();
    });
    up.on("drain", () => req.resume());
    req.on("end", () => {
      if (!upDone) up.end();
    });
    if (req.readableEnded) up.end(); // a hot path that looked and passed it on may have read it
  }

  function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    socket.on("error", () => socket.destroy());
    if (refused.has(req.socket))
      return void socket.end("HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\nconnection: close\r\n\r\n");
    const up = http.request({
      host: web.hostname,
      port: web.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    const deadline = setTimeout(() => up.destroy(), requestTimeout);
    socket.on("close", () => up.destroy());
    up.on("upgrade", (upRes, upSocket, upHead) => {
      clearTimeout(deadline);
      const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2)
        lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
      socket.write(lines.join("\r\n") + "\r\n\r\n");
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.on("error", () => upSocket.destroy());
      upSocket.on("close", () => socket.destroy());
      socket.on("close", () => upSocket.destroy());
      upSocket.pipe(socket).pipe(upSocket);
    });
    // The web process answered without upgrading: pass the status on and close.
    up.on("response", (upRes) => {
      clearTimeout(deadline);
      upRes.resume();
      socket.end(
        `HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`,
      );
    });
    up.on("error", () => {
      clearTimeout(deadline);
      socket.destroy();
    });
    up.end();
  }

  // Connections per client address. One beyond the cap is answered 429 on its first request, and
  // closed within a second if it sends none (refused connections are not counted, so they must not linger).
  // A trusted reverse proxy carries many clients' requests on its connections: it is not capped.
  const perClient = new Map<string, number>();
  const refused = new WeakSet<Socket>();
  const worker =
    opts.eventsWorker &&
    createEventsWorker({
      ...opts.eventsWorker,
      hold: (key) => perClient.set(key, (perClient.get(key) ?? 0) + 1),
      release: releaseSlot,
      serveHere: upgradeHere,
    });
  /** Serves a room-event upgrade in the front itself. */
  function upgradeHere(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    events.upgrade(req, socket, head, new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)));
  }

  function releaseSlot(key: string) {
    const left = (perClient.get(key) ?? 1) - 1;
    if (left > 0) perClient.set(key, left);
    else perClient.delete(key);
  }

  /** The connection's place in the per-address cap (null: not counted). */
  const slotKey = (socket: Socket) =>
    maxConnPerIp <= 0 || proxies.has(socket.remoteAddress ?? "") ? null : clientKey(socket.remoteAddress);

  function admit(socket: Socket) {
    const key = slotKey(socket);
    if (key === null) return;
    const n = perClient.get(key) ?? 0;
    if (n >= maxConnPerIp) {
      refused.add(socket);
      socket.setTimeout(Math.min(1000, idleTimeout));
      return;
    }
    perClient.set(key, n + 1);
    socket.once("close", () => releaseSlot(key));
  }

  const server = http.createServer(
    {
      headersTimeout,
      requestTimeout,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // node checks the two timeouts above every 30 s unless told otherwise: a 30 s bound could take a minute.
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      if (refused.has(req.socket)) {
        res.setHeader("retry-after", "1");
        res.setHeader("connection", "close");
        return sendError(res, new AppError("TOO_MANY_REQUESTS", "Too many connections from this address"));
      }
      // Routing without a URL object: this runs for every request, hot or proxied.
      const raw = req.url ?? "/";
      const q = raw.indexOf("?");
      const path = q < 0 ? raw : raw.slice(0, q);
      const route = routes[`${req.method} ${path}`];
      if (route) {
        try {
          const pending = route(req, res, new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)));
          if (pending) pending.catch((e: unknown) => sendError(res, e));
        } catch (e) {
          sendError(res, e);
        }
        return;
      }
      if (isSxbPath(path) && req.method === "POST" && raw.includes("cmd=heartbeat")) {
        const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
        return void sxbHeartbeat(req, res, query)
          .then((handled) => handled || answerApi(req, res, path) || proxy(req, res))
          .catch((e) => sendError(res, e));
      }
      if (path.startsWith("/live/") || path.startsWith("/vod/") || path.startsWith("/hooks/")) {
        // A play lasts hours and a paused player stops reading for minutes: no idle timeout for media
        // (node puts it back for the connection's next request). Request timeouts end with the request.
        if (!path.startsWith("/hooks/")) req.socket.setTimeout(0);
        if (mediaRoute(req, res, path, new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)))) return;
      }
      if (answerApi(req, res, path)) return;
      proxy(req, res);
    },
  );
  // Taken before admission is added (it must see a connection first); node:http reads what it does not answer.
  const fast = createFastPath(server, {
    routes: fastRoutes,
    skip: (socket) => refused.has(socket),
    headersTimeoutMs: headersTimeout,
    requestTimeoutMs: requestTimeout,
    keepAliveTimeoutMs: KEEP_ALIVE_TIMEOUT_MS,
    maxBody: SMALL_BODY,
  });
  server.setTimeout(idleTimeout);
  server.on("connection", admit);
  server.on("connection", fast.connection);
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const raw = req.url ?? "/";
    const q = raw.indexOf("?");
    if ((q < 0 ? raw : raw.slice(0, q)) !== EVENTS_PATH) return proxyUpgrade(req, socket, head);
    if (refused.has(req.socket))
      return void socket.end("HTTP/1.1 429 Too Many Requests\r\nretry-after: 1\r\nconnection: close\r\n\r\n");
    // A full front refuses the upgrade itself (503); otherwise the worker takes it when it is up.
    if (!events.full() && worker?.take(req, req.socket, head, slotKey(req.socket))) return;
    upgradeHere(req, socket, head);
  });
  const closeEvents = () => {
    events.close();
    worker?.close();
  };
  server.on("close", closeEvents);
  return Object.assign(server, {
    /** Connections read by the fast path, and the requests it answered. */
    fastPath: fast,
    roomEvents: {
      close: closeEvents,
      /** Event sockets and streams open on this front and its events worker. */
      get open() {
        return events.open + (worker?.open ?? 0);
      },
    },
  });
}
