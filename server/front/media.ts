// Media routes of the front process: token-checked HTTP-FLV (proxied from the embedded server),
// HLS playlists and segments (the embedded server's, or SRS's fetched from its HTTP server),
// recording playback, and the hooks external media servers call.
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import https from "node:https";
import { join, sep } from "node:path";
import { eq } from "drizzle-orm";
import type { Clock } from "../clock";
import { getDb } from "../db/client";
import { recordings } from "../db/schema";
import { env } from "../env";
import { AppError, badInput, toAppError, errorBody } from "../errors";
import { readBody, sendError, sendJson } from "../http/io";
import { hlsDir } from "../media/embedded";
import {
  applyMediaEvent,
  authorizePlay,
  handleNginxAuth,
  hookRefused,
  nginxBody,
  nginxEvent,
  parseSrsBody,
  srsEvent,
  type HookSeen,
} from "../media/hooks";
import { nmsInternalSecret } from "../media/keys";
import { recordingsDir } from "../media/recorder";
import { nodeOfStream, ownOrigins, type MediaNode } from "../media/nodes";
import { nms } from "../media/signers";
import { roomClaimsRevoked, verifyRoomToken, type RoomClaims } from "../tokens";
import { trustedProxies } from "../http/actor";
import { safeEqual } from "../crypto/secretbox";
import { isLtToken, LT, LtError, playStream, sendLt } from "../compat/ltstream";
import { serveTs } from "./ts";
import { PullError, Pulls } from "../media/pulls";
import { checkPlayToken } from "../media/streams";
import { thumbnailOf } from "../media/thumbnails";

/**
 * `Content-Disposition: attachment` naming a recording's file: an ASCII fallback and the real name
 * (RFC 6266 / 5987), with nothing that could end the header or the quoted string.
 */
const rfc5987 = (v: string) =>
  encodeURIComponent(v).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
export function attachment(name: string): string {
  // Control characters, quotes, backslashes and slashes become spaces (code points: no control regex).
  const safe = [...name].map((c) => (c.charCodeAt(0) < 0x20 || c === "\u007f" || '"\\/'.includes(c) ? " " : c));
  const base = (safe.join("").trim() || "recording").slice(0, 200);
  const file = /\.mp4$/i.test(base) ? base : `${base}.mp4`;
  const ascii = file.replace(/[^\x20-\x7e]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${rfc5987(file)}`;
}

/**
 * The file behind a recording, only when it is a regular file whose real path (links resolved)
 * lies inside the recordings folder: a row can never make the front read anything else.
 */
export function servableRecording(filePath: string): string | undefined {
  if (!filePath) return undefined;
  try {
    const root = realpathSync(recordingsDir());
    const real = realpathSync(filePath);
    if (!real.startsWith(root + sep) || !statSync(real).isFile()) return undefined;
    return real;
  } catch {
    return undefined;
  }
}

/**
 * Open HTTP-FLV plays and whose token they were opened with: a play whose holder is revoked
 * (kicked, user or app disabled; mirrored on every instance) is cut within a second.
 */
const flowing = new Map<ServerResponse, RoomClaims>();
let sweeper: NodeJS.Timeout | undefined;
function watchRevocation(claims: RoomClaims, res: ServerResponse) {
  flowing.set(res, claims);
  res.on("close", () => flowing.delete(res));
  sweeper ??= setInterval(() => {
    for (const [r, c] of flowing)
      if (roomClaimsRevoked(c)) {
        flowing.delete(r);
        r.destroy();
      }
  }, 1000).unref();
}

const CORS = { "access-control-allow-origin": "*", "cache-control": "no-store" };

export function createMediaRoutes(clock: Clock, opts: { alwaysOn?: boolean } = {}) {
  const e = env();
  const allow = new Set(
    e.MEDIA_HOOK_ALLOW.split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const flvAgent = new http.Agent({ keepAlive: false });
  const pulls = new Pulls(getDb, clock);
  if (opts.alwaysOn) pulls.startAlwaysOn();

  const proxies = trustedProxies();
  function hookAllowed(req: IncomingMessage, query: URLSearchParams) {
    const secret = e.MEDIA_HOOK_SECRET;
    const given = query.get("secret") ?? (req.headers["x-onair-hook-secret"] as string | undefined);
    if (secret && given && safeEqual(secret, given)) return true;
    const peer = req.socket.remoteAddress ?? "";
    // Through a proxy every caller has the proxy's address: the address alone proves nothing.
    if (req.headers["x-forwarded-for"] !== undefined || proxies.has(peer)) return false;
    return allow.has(peer);
  }

  /**
   * A live room's thumbnail, with the play rules of its stream: a play token for it (checked, not
   * counted as a viewer) or the app's play signature.
   */
  async function thumb(res: ServerResponse, name: string, path: string, query: URLSearchParams) {
    const token = query.get("token");
    if (token) checkPlayToken(token, name, clock.now());
    else await authorizePlay(getDb(), name, path, Object.fromEntries(query), clock.now());
    const t = await thumbnailOf(getDb(), name);
    res.writeHead(200, {
      "content-type": "image/jpeg",
      "content-length": t.jpeg.length,
      "last-modified": t.takenAt.toUTCString(),
      "cache-control": "private, max-age=10",
      "access-control-allow-origin": "*",
    });
    res.end(t.jpeg);
  }

  async function live(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) {
    const picture = /^\/live\/([\w-]{1,64})\/thumb\.jpg$/.exec(path);
    if (picture) return thumb(res, picture[1]!, path, query);
    const q = Object.fromEntries(query);
    const flv = /^\/live\/([\w-]{1,64})\.flv$/.exec(path);
    const ts = /^\/live\/([\w-]{1,64})\.ts$/.exec(path);
    const hls = /^\/live\/([\w-]{1,64})\/(index\.m3u8|[\w-]{1,64}\.ts)$/.exec(path);
    let name = flv?.[1] ?? ts?.[1] ?? hls?.[1];
    let lt = false;
    let claims: RoomClaims | undefined;
    if (!name) throw new AppError("NOT_FOUND", "No such stream URL");
    // (Only plays with LTStream's `type` parameter are checked for an LTStream token: onair's own
    // players never send it, so their plays pay nothing for this.)
    if ((flv || ts) && (/^\d+$/.test(name) || (query.has("type") && isLtToken(query.get("token"))))) {
      // LTStream clients play /live/<code>.flv|.ts?type=1&token=<LTStream token>; every answer to
      // such a play uses LTStream's codes (an unknown code is 1201 whatever it looks like).
      try {
        name = await playStream(getDb(), name, query.get("type"), query.get("token"), clock.now());
        lt = true;
      } catch (e) {
        if (!(e instanceof LtError)) throw e;
        return sendLt(res, e.code === LT.NO_STREAM ? 404 : 401, { code: e.code, message: e.message });
      }
    } else {
      // The check happens before a single byte of media is sent, so a refused player gets an error status.
      const decided = authorizePlay(getDb(), name, path, q, clock.now());
      if (decided instanceof Promise) await decided;
      else claims = decided;
    }
    // A stream a source feeds is pulled now (on demand); a pull that cannot start answers within 5 s.
    if (flv || ts) {
      let release: (() => void) | undefined;
      try {
        release = await pulls.forPlay(name);
      } catch (x) {
        if (!(x instanceof PullError)) throw x;
        return lt
          ? sendLt(res, 502, { code: LT.PULL_FAILED, message: "拉流失败" })
          : sendJson(
              res,
              503,
              // Viewers get the kind of a refusal, not the address the source named.
              errorBody(new AppError("UNAVAILABLE", `The stream's source cannot be pulled (${x.kind ?? x.message})`)),
            );
      }
      if (release) res.on("close", release);
    }
    if (ts) {
      const p = `/live/${name}`;
      const origin = (await nodeOf(name))?.flvOrigin ?? `http://127.0.0.1:${e.mediaHttpPort}`;
      const source = `${origin}${p}.flv?sign=${nms.sign(nmsInternalSecret(), p, Math.floor(Date.now() / 1000) + 3600)}`;
      serveTs(name, source, res, () =>
        lt
          ? sendLt(res, 502, { code: LT.PULL_FAILED, message: "拉流失败" })
          : sendJson(res, 503, errorBody(new AppError("UNAVAILABLE", "The stream cannot be pulled"))),
      );
      if (claims) watchRevocation(claims, res);
      return;
    }
    if (flv) {
      const p = `/live/${name}`;
      // The stream may be on another instance's media node: pull it from there.
      const origin = new URL((await nodeOf(name))?.flvOrigin ?? `http://127.0.0.1:${e.mediaHttpPort}`);
      const up = http.get(
        {
          host: origin.hostname,
          port: origin.port,
          path: `${p}.flv?sign=${nms.sign(nmsInternalSecret(), p, Math.floor(Date.now() / 1000) + 3600)}`,
          agent: flvAgent,
        },
        (upRes) => {
          res.writeHead(upRes.statusCode === 200 ? 200 : 502, { "content-type": "video/x-flv", ...CORS });
          upRes.pipe(res);
          res.on("close", () => upRes.destroy());
          if (claims) watchRevocation(claims, res);
        },
      );
      up.on("error", () =>
        lt
          ? sendLt(res, 502, { code: LT.PULL_FAILED, message: "拉流失败" })
          : sendJson(res, 503, errorBody(new AppError("UNAVAILABLE", "The media server is not answering"))),
      );
      return;
    }
    const file = join(hlsDir(), name, hls![2]!);
    if (!existsSync(file)) {
      // Packaged by another instance's media node: its front serves the files (and checks the token again).
      const node = req.headers["x-onair-hop"] ? undefined : await nodeOf(name);
      if (node && node.frontOrigin !== ownOrigins().frontOrigin) return relayHls(req, res, node, path, query);
      if (srsOrigin) return hls![2] === "index.m3u8" ? srsPlaylist(res, name, query) : srsSegment(res, name, hls![2]!);
      throw new AppError("NOT_FOUND", "This stream is not live (no HLS yet)");
    }
    if (hls![2] === "index.m3u8") {
      // Segments inherit the playlist's query (the token), so players need no extra logic.
      const qs = query.toString();
      const body = readFileSync(file, "utf8").replace(/^(seg_\d+\.ts)$/gm, `$1?${qs}`);
      res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl", ...CORS });
      res.end(body);
    } else {
      res.writeHead(200, {
        "content-type": "video/mp2t",
        "content-length": statSync(file).size,
        "access-control-allow-origin": "*",
        "cache-control": "max-age=60",
      });
      createReadStream(file).pipe(res);
    }
  }

  // SRS's HLS, fetched from its HTTP server (layout [app]/[stream]/index.m3u8 and [app]/[stream]/<name>.ts):
  // players reach it only through here, every playlist and segment with the token checked above.
  const srsOrigin = e.MEDIA_SRS_HTTP_URL ? new URL(e.MEDIA_SRS_HTTP_URL) : undefined;
  const srsClient = srsOrigin?.protocol === "https:" ? https : http;
  const srsAgent = new srsClient.Agent({ keepAlive: true, maxSockets: 256 });
  function srsGet(pathAndQuery: string): Promise<IncomingMessage> {
    return new Promise<IncomingMessage>((resolve, reject) => {
      const up = srsClient.get(
        { host: srsOrigin!.hostname, port: srsOrigin!.port, path: pathAndQuery, agent: srsAgent, timeout: 10_000 },
        (upRes) => {
          // A body cut short (SRS gone, the timeout) ends its reader or the piped answer, never the front.
          upRes.on("error", () => undefined);
          resolve(upRes);
        },
      );
      up.on("timeout", () => up.destroy(new Error("SRS did not answer within 10 s")));
      up.on("error", reject);
    }).catch(() => {
      throw new AppError("UNAVAILABLE", "The media server (SRS) is not answering");
    });
  }
  /** A playlist's text (at most 1 MiB), or undefined when SRS has none (404). */
  async function srsText(up: IncomingMessage): Promise<string | undefined> {
    if (up.statusCode !== 200) {
      up.resume();
      if (up.statusCode === 404) return undefined;
      throw new AppError("UNAVAILABLE", `The media server (SRS) answered ${up.statusCode}`);
    }
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of up as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 1024 * 1024) {
        up.destroy();
        throw new AppError("UNAVAILABLE", "The media server's playlist is too large");
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  async function srsPlaylist(res: ServerResponse, name: string, query: URLSearchParams) {
    const own = `/live/${name}/index.m3u8`;
    // The viewer's query goes along: with hls_ctx on, SRS asks onair's hook about this play too.
    const viewer = query.toString();
    let text = await srsText(await srsGet(`${own}?${viewer}`));
    // hls_ctx on: SRS first answers a one-variant playlist naming the same playlist with a session
    // (`…/index.m3u8?hls_ctx=<id>`); that one is fetched once (never a URL of SRS's choosing).
    const session = text && /^#EXT-X-STREAM-INF:.*\r?\n(\S+)\?hls_ctx=(\w{1,64})\s*$/m.exec(text);
    if (session && session[1] === own) text = await srsText(await srsGet(`${own}?hls_ctx=${session[2]}`));
    if (text === undefined) throw new AppError("NOT_FOUND", "This stream is not live (no HLS yet)");
    // Every segment line carries the viewer's query (the token) instead of SRS's, so each is checked here.
    const body = text.replace(/^(?!#)(\S.*)$/gm, (line: string) => {
      const seg = /^([\w-]{1,64}\.ts)(?:\?\S*)?$/.exec(line.trim());
      if (!seg)
        throw new AppError("UNAVAILABLE", "SRS's playlist is not in onair's layout (see npm run media:srs-conf)");
      return `${seg[1]}?${viewer}`;
    });
    res.writeHead(200, { "content-type": "application/vnd.apple.mpegurl", ...CORS });
    res.end(body);
  }

  async function srsSegment(res: ServerResponse, name: string, segment: string) {
    const up = await srsGet(`/live/${name}/${segment}`);
    if (up.statusCode !== 200) {
      up.resume();
      throw up.statusCode === 404
        ? new AppError("NOT_FOUND", "No such segment (any more)")
        : new AppError("UNAVAILABLE", `The media server (SRS) answered ${up.statusCode}`);
    }
    const headers: Record<string, string> = {
      "content-type": "video/mp2t",
      "access-control-allow-origin": "*",
      "cache-control": "max-age=60",
    };
    if (typeof up.headers["content-length"] === "string") headers["content-length"] = up.headers["content-length"];
    res.writeHead(200, headers);
    up.pipe(res);
    up.on("error", () => res.destroy());
    res.on("close", () => up.destroy());
  }

  /** Which live media node holds a stream (cached a second per process). */
  const nodes = new Map<string, { at: number; node: Promise<MediaNode | undefined> }>();
  function nodeOf(name: string) {
    const now = Date.now();
    const hit = nodes.get(name);
    if (hit && now - hit.at < 1000) return hit.node;
    const node = nodeOfStream(getDb(), name, clock.now()).catch(() => undefined);
    nodes.set(name, { at: now, node });
    if (nodes.size > 10_000) nodes.clear();
    return node;
  }

  function relayHls(req: IncomingMessage, res: ServerResponse, node: MediaNode, path: string, query: URLSearchParams) {
    const target = new URL(`${path}?${query.toString()}`, node.frontOrigin);
    const up = http.get(target, { headers: { "x-onair-hop": "1" }, timeout: 10_000 }, (upRes) => {
      const headers: Record<string, string> = { ...CORS };
      for (const h of ["content-type", "content-length", "cache-control"])
        if (typeof upRes.headers[h] === "string") headers[h] = upRes.headers[h];
      res.writeHead(upRes.statusCode ?? 502, headers);
      upRes.pipe(res);
    });
    up.on("timeout", () => up.destroy());
    up.on("error", () => {
      if (!res.headersSent)
        sendJson(res, 503, errorBody(new AppError("UNAVAILABLE", "The media node of this stream is not answering")));
      else res.destroy();
    });
    res.on("close", () => up.destroy());
  }

  async function vod(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams) {
    const m = /^\/vod\/([0-9a-f-]{36})\.mp4$/.exec(path);
    if (!m) throw new AppError("NOT_FOUND", "No such recording URL");
    const token = query.get("token");
    if (!token) throw new AppError("UNAUTHENTICATED", "A play token is required (?token=…)");
    // A play token bound to this recording; its `:download` form (issued to the room's managers
    // only, server/media/access.ts) also names the file as an attachment.
    const claims = verifyRoomToken(token, { scope: "play" }, clock.now());
    if (claims.st !== `vod:${m[1]}` && claims.st !== `vod:${m[1]}:download`)
      throw new AppError("TOKEN_INVALID", "Token is for another recording");
    const rec = (
      await getDb()
        .select({ filePath: recordings.filePath, status: recordings.status, name: recordings.name })
        .from(recordings)
        .where(eq(recordings.id, m[1]!))
    )[0];
    const file = rec?.status === "ready" ? servableRecording(rec.filePath) : undefined;
    if (!file) throw new AppError("NOT_FOUND", "Recording not found");
    const size = statSync(file).size;
    const disposition = claims.st.endsWith(":download") ? { "content-disposition": attachment(rec!.name) } : {};
    const range = /^bytes=(\d*)-(\d*)$/.exec(req.headers.range ?? "");
    if (range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : Math.max(0, size - Number(range[2]));
      const end = range[1] && range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || start > end) {
        res.writeHead(416, { "content-range": `bytes */${size}` });
        return void res.end();
      }
      res.writeHead(206, {
        "content-type": "video/mp4",
        "content-length": end - start + 1,
        "content-range": `bytes ${start}-${end}/${size}`,
        "accept-ranges": "bytes",
        ...disposition,
        ...CORS,
      });
      return void createReadStream(file, { start, end }).pipe(res);
    }
    res.writeHead(200, {
      "content-type": "video/mp4",
      "content-length": size,
      "accept-ranges": "bytes",
      ...disposition,
      ...CORS,
    });
    createReadStream(file).pipe(res);
  }

  async function srs(req: IncomingMessage, res: ServerResponse, seen: HookSeen) {
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, 64 * 1024));
    } catch (x) {
      throw x instanceof AppError ? x : new AppError("BAD_REQUEST", "Body is not valid JSON");
    }
    const parsed = parseSrsBody(body);
    Object.assign(seen, { action: parsed.action, stream: `${parsed.app}/${parsed.stream}`, client: parsed.ip });
    const pending = applyMediaEvent(getDb(), srsEvent(parsed), clock);
    if (pending) await pending;
    // A known length lets node send headers and body in one write (no chunked encoding).
    res.writeHead(200, { "content-type": "text/plain", "content-length": 1 });
    res.end("0");
  }

  async function nginx(req: IncomingMessage, res: ServerResponse, seen: HookSeen) {
    const form = Object.fromEntries(new URLSearchParams(await readBody(req, 64 * 1024)));
    const p = nginxBody.safeParse(form);
    if (!p.success) throw badInput(p.error.issues);
    Object.assign(seen, { action: p.data.call, stream: `${p.data.app}/${p.data.name}`, client: p.data.addr });
    await applyMediaEvent(getDb(), nginxEvent({ ...form, ...p.data }), clock);
    res.writeHead(200, { "content-type": "text/plain", "content-length": 2 });
    res.end("ok");
  }

  /** Routes under /live/, /vod/ and /hooks/. Returns false when the path is not one of ours. */
  return function route(req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): boolean {
    let h: (() => Promise<void>) | undefined;
    if (path.startsWith("/live/") && (req.method === "GET" || req.method === "HEAD"))
      h = () => live(req, res, path, query);
    else if (path.startsWith("/vod/") && (req.method === "GET" || req.method === "HEAD"))
      h = () => vod(req, res, path, query);
    else if (path.startsWith("/hooks/")) {
      const seen: HookSeen = { hook: path, peer: req.socket.remoteAddress ?? "" };
      const hook = async () => {
        if (!hookAllowed(req, query))
          throw new AppError("FORBIDDEN", "Hook caller not allowed (MEDIA_HOOK_ALLOW / MEDIA_HOOK_SECRET)");
        if (path === "/hooks/srs" && req.method === "POST") return srs(req, res, seen);
        if (path === "/hooks/nginx" && req.method === "POST") return nginx(req, res, seen);
        if (path === "/hooks/nginx/auth") {
          const uri = String(req.headers["x-original-uri"] ?? "");
          seen.stream = uri.split("?")[0];
          await handleNginxAuth(getDb(), uri, clock.now());
          res.writeHead(200, { "content-length": 0 });
          return void res.end();
        }
        throw new AppError("NOT_FOUND", "Unknown hook");
      };
      // Refusals are routine for players but worth a line for hooks (operators debug their servers
      // with it): one per refusal, rate-limited (server/media/hooks.ts).
      h = () =>
        hook().catch((x) => {
          hookRefused(seen, x);
          const a = toAppError(x);
          // SRS denies on any answer but 200 + "0"; the body says why for its logs.
          if (path === "/hooks/srs") sendJson(res, a.httpStatus, { code: a.httpStatus, ...errorBody(a) });
          else sendError(res, x);
        });
    }
    if (!h) return false;
    h().catch((x) => sendError(res, x));
    return true;
  };
}
