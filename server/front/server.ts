// The front process: a small node:http server on the public port. It answers the hot paths itself
// (heartbeats, play-token checks, health) and streams every other request to the web process.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { systemClock, type Clock } from "../clock";
import { dbHealth, getDb } from "../db/client";
import { AppError } from "../errors";
import { env } from "../env";
import { badInput, readJson, sendError, sendJson } from "../http/io";
import { bearerOf } from "../http/actor";
import { heartbeat, heartbeatInput, leaveInput, leaveRoom } from "../presence";
import { presenceBuffer, type PresenceBuffer } from "../presence/buffer";
import { checkRoomToken, verifyTokenInput } from "../tokens/issue";
import { createMediaRoutes } from "./media";
import { roomState } from "../rooms/state";
import { createSxbHeartbeat } from "../compat/sxb";

const SMALL_BODY = 16 * 1024;

export interface FrontOptions {
  /** Where the web process listens, e.g. http://127.0.0.1:3001 */
  webOrigin: string;
  clock?: Clock;
  buffer?: PresenceBuffer;
  maxBodyBytes?: number;
}

export function createFrontServer(opts: FrontOptions) {
  const clock = opts.clock ?? systemClock;
  const buffer = opts.buffer ?? presenceBuffer;
  const web = new URL(opts.webOrigin);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const maxBody = opts.maxBodyBytes ?? env().MAX_BODY_BYTES;
  const mediaRoute = createMediaRoutes(clock);
  const sxbHeartbeat = createSxbHeartbeat(buffer, clock);

  async function tokenFromBody(req: IncomingMessage) {
    const body = (await readJson(req, SMALL_BODY)) as Record<string, unknown>;
    if (body === null || typeof body !== "object" || Array.isArray(body))
      throw new AppError("BAD_REQUEST", "Body must be a JSON object");
    const bearer = bearerOf(req.headers);
    return bearer && body.token === undefined ? { ...body, token: bearer } : body;
  }

  const routes: Record<
    string,
    (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void | Promise<void>
  > = {
    "POST /api/presence/heartbeat": async (req, res) => {
      const p = heartbeatInput.safeParse(await tokenFromBody(req));
      if (!p.success) throw badInput(p.error.issues);
      sendJson(res, 200, heartbeat(buffer, p.data, clock.now()));
    },
    "POST /api/presence/leave": async (req, res) => {
      const p = leaveInput.safeParse(await tokenFromBody(req));
      if (!p.success) throw badInput(p.error.issues);
      sendJson(res, 200, await leaveRoom(getDb(), p.data, clock.now()));
    },
    "GET /api/tokens/verify": (req, res, query) => {
      const q = Object.fromEntries(query);
      const p = verifyTokenInput.safeParse({
        ...q,
        token: q.token ?? bearerOf(req.headers),
        num: q.num === undefined ? undefined : Number(q.num),
      });
      if (!p.success) throw badInput(p.error.issues);
      sendJson(res, 200, checkRoomToken(p.data, clock.now()));
    },
    "POST /api/tokens/verify": async (req, res) => {
      const p = verifyTokenInput.safeParse(await tokenFromBody(req));
      if (!p.success) throw badInput(p.error.issues);
      sendJson(res, 200, checkRoomToken(p.data, clock.now()));
    },
    "GET /api/rooms/state": async (_req, res, query) => {
      sendJson(res, 200, await roomState(getDb(), query.get("room") ?? "", clock.now()));
    },
    "GET /api/health": async (_req, res) => {
      const [db, webHealth] = await Promise.all([dbHealth(), fetchWebHealth()]);
      sendJson(res, db.ok && webHealth.ok !== false ? 200 : 503, { process: "front", db, web: webHealth });
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

  function proxy(req: IncomingMessage, res: ServerResponse) {
    // Refuse a declared oversized body here, with a clear answer, instead of a reset mid-upload.
    if (Number(req.headers["content-length"] ?? 0) > maxBody) {
      res.setHeader("connection", "close");
      sendError(res, new AppError("PAYLOAD_TOO_LARGE", `Body larger than ${maxBody} bytes`));
      req.resume();
      return;
    }
    const headers = {
      ...req.headers,
      "x-forwarded-for": req.socket.remoteAddress ?? "",
      "x-forwarded-host": req.headers.host ?? "",
      "x-forwarded-proto": "http",
    };
    const up = http.request(
      { host: web.hostname, port: web.port, method: req.method, path: req.url, headers, agent },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on("error", () => {
      if (!res.headersSent)
        sendJson(res, 502, { error: { code: "UNAVAILABLE", message: "The web process is not answering" } });
      else res.destroy();
    });
    req.pipe(up);
  }

  function proxyUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const up = http.request({
      host: web.hostname,
      port: web.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
    });
    up.on("upgrade", (upRes, upSocket, upHead) => {
      const lines = [`HTTP/1.1 ${upRes.statusCode} ${upRes.statusMessage}`];
      for (let i = 0; i < upRes.rawHeaders.length; i += 2)
        lines.push(`${upRes.rawHeaders[i]}: ${upRes.rawHeaders[i + 1]}`);
      socket.write(lines.join("\r\n") + "\r\n\r\n");
      if (upHead.length) socket.write(upHead);
      if (head.length) upSocket.write(head);
      upSocket.pipe(socket).pipe(upSocket);
    });
    up.on("error", () => socket.destroy());
    up.end();
  }

  const server = http.createServer((req, res) => {
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
    if (
      (path === "/sxb/index.php" || path === "/index.php") &&
      req.method === "POST" &&
      raw.includes("cmd=heartbeat")
    ) {
      const query = new URLSearchParams(q < 0 ? "" : raw.slice(q + 1));
      return void sxbHeartbeat(req, res, query)
        .then((handled) => handled || proxy(req, res))
        .catch((e) => sendError(res, e));
    }
    if (path.startsWith("/live/") || path.startsWith("/vod/") || path.startsWith("/hooks/")) {
      if (mediaRoute(req, res, path, new URLSearchParams(q < 0 ? "" : raw.slice(q + 1)))) return;
    }
    proxy(req, res);
  });
  server.on("upgrade", proxyUpgrade);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  return server;
}
