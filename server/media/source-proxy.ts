// HTTP(S), RTMPS and RTSPS sources reach ffmpeg through this forward proxy, on 127.0.0.1 behind a
// secret of this process. Every request ffmpeg makes for such a source goes through it: the playlist, every segment
// on whatever host the playlist names, every redirect, and every TLS connection (as a CONNECT
// tunnel). Each is checked against the outbound rules (public addresses, or OUTBOUND_ALLOW) and
// connected to the address that was checked.
//
// Without it, an HLS playlist on a public host could send ffmpeg to 169.254.169.254 or to any
// internal host, and a name could answer the check with one address and ffmpeg's own lookup a
// moment later with another (DNS rebinding).
//
// ffmpeg finds the proxy in its environment (`http_proxy`; its TLS goes through the proxy with
// CONNECT, so RTMPS and RTSPS sources go through it too). The environment is readable only by the
// same user, unlike the command line. RTSP and RTMP sources are pinned to their checked address
// instead (sourceTarget).
import { randomBytes, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import net, { type AddressInfo, type Socket } from "node:net";
import { env } from "../env";
import { checkedAddresses, OutboundError, parseAllowList } from "../http/outbound";
import { rateLimitedLog } from "../log";
import { RecentMap } from "../cache";

/** Connections through the proxy at once (a pull holds one or two); beyond it, 503. */
const MAX_OPEN = 256;
/** Name resolution and connecting, each. */
const CONNECT_TIMEOUT_MS = 5000;
/** A proxied connection with nothing flowing either way for this long is closed. */
const IDLE_TIMEOUT_MS = 30_000;
const USER = "onair";
/** A reader's tag in the proxy user name (`onair.<tag>`): its refusals are kept for it to read. */
const TAG = /^[A-Za-z0-9_-]{1,64}$/;
// Hop-by-hop headers (RFC 9110 7.6.1) and the proxy's own are not passed on.
const HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authorization",
  "proxy-authenticate",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);
const warn = rateLimitedLog("warn", 0.2, 3);

export interface SourceProxy {
  /** The proxy URL for ffmpeg's `http_proxy`, with the credentials in it. */
  url: string;
  /** The same for one reader (an ffmpeg or ffprobe run): what the proxy refuses it, `refusedTo` tells. */
  urlFor(tag: string): string;
  /**
   * Why the proxy last refused an address to the reader tagged `tag` (its outbound rules), or
   * undefined. ffmpeg reports a refusal as the proxy's HTTP status (403), which reads like the
   * source's own "forbidden": a pull or probe asks here instead.
   */
  refusedTo(tag: string): string | undefined;
  /** Requests and tunnels checked, and refused (tests, health). */
  stats: { proxied: number; refused: number };
  close(): Promise<void>;
}

export async function startSourceProxy(
  opts: { allow?: readonly string[]; resolve?: Parameters<typeof checkedAddresses>[2]["resolve"] } = {},
): Promise<SourceProxy> {
  const secret = randomBytes(18).toString("base64url");
  const secretBytes = Buffer.from(secret);
  const stats = { proxied: 0, refused: 0 };
  /** The last refusal per reader's tag (bounded: the oldest readers' go first). */
  const refusedTags = new RecentMap<string, string>(500);
  let open = 0;
  const allow = () => parseAllowList(opts.allow ?? env().OUTBOUND_ALLOW);

  /** The reader's tag ("" for none) when the request carries the proxy's credentials, else null. */
  const authorized = (req: IncomingMessage): string | null => {
    const header = req.headers["proxy-authorization"] ?? "";
    if (!header.startsWith("Basic ") || header.length > 300) return null;
    const pair = Buffer.from(header.slice(6), "base64").toString("utf8");
    const colon = pair.indexOf(":");
    if (colon < 0) return null;
    const user = pair.slice(0, colon);
    const given = Buffer.from(pair.slice(colon + 1));
    const ok = given.length === secretBytes.length && timingSafeEqual(given, secretBytes);
    if (!ok) return null;
    if (user === USER) return "";
    const tag = user.startsWith(`${USER}.`) ? user.slice(USER.length + 1) : "";
    return TAG.test(tag) ? tag : null;
  };
  /** The first checked address that accepts a connection, or an error to answer with. */
  async function connectChecked(target: URL): Promise<Socket> {
    const deadline = Date.now() + CONNECT_TIMEOUT_MS;
    const addresses = await checkedAddresses(target, allow(), { resolve: opts.resolve }, deadline);
    const port = Number(target.port) || (target.protocol === "https:" ? 443 : 80);
    let last: Error = new OutboundError("network", "no address");
    for (const a of addresses) {
      try {
        return await new Promise<Socket>((resolve, reject) => {
          const s = net.connect({ host: a.address, port, timeout: Math.max(1, deadline - Date.now()) });
          s.once("connect", () => (s.setTimeout(IDLE_TIMEOUT_MS), resolve(s)));
          s.once("timeout", () => (s.destroy(), reject(new OutboundError("timeout", "connect timed out"))));
          s.once("error", (e) => reject(new OutboundError("network", e.message)));
        });
      } catch (e) {
        last = e as Error;
      }
    }
    throw last;
  }
  const refusal = (e: unknown, tag: string) => {
    const reason = e instanceof OutboundError ? e.reason : "network";
    if (reason === "refused_address") {
      stats.refused++;
      if (tag) refusedTags.set(tag, (e as Error).message);
    } else warn("source proxy: upstream failed", { reason });
    const status = reason === "refused_address" || reason === "bad_url" ? 403 : reason === "timeout" ? 504 : 502;
    return { status, text: `${reason}: ${(e as Error).message}\n` };
  };
  /** Counts a connection against MAX_OPEN (once, however many requests it carries) until it closes; false when full. */
  const admitted = new WeakSet<Socket>();
  const admit = (s: Socket) => {
    if (admitted.has(s)) return true;
    if (open >= MAX_OPEN) return false;
    open++;
    admitted.add(s);
    s.once("close", () => open--);
    return true;
  };

  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "text/plain", connection: "close", ...headers });
      res.end(text);
    };
    const tag = authorized(req);
    if (tag === null)
      return answer(407, "proxy credentials required\n", { "proxy-authenticate": 'Basic realm="onair"' });
    let target: URL;
    try {
      target = new URL(req.url ?? "");
    } catch {
      return answer(400, "absolute http:// URLs only\n");
    }
    if (target.protocol !== "http:" || (req.method !== "GET" && req.method !== "HEAD"))
      return answer(405, "GET or HEAD of http:// URLs only (https goes through CONNECT)\n");
    if (!admit(req.socket)) return answer(503, "too many source connections\n");
    connectChecked(target).then(
      (upstream) => {
        stats.proxied++;
        const headers: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = v;
        headers.host = target.host;
        headers.connection = "close";
        const up = http.request({
          method: req.method,
          path: `${target.pathname}${target.search}`,
          headers,
          createConnection: () => upstream,
        });
        up.on("response", (r) => {
          const out: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(r.headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
          res.writeHead(r.statusCode ?? 502, out);
          r.pipe(res);
          r.on("error", () => res.destroy());
        });
        up.on("error", () => (res.headersSent ? res.destroy() : answer(502, "upstream failed\n")));
        res.on("close", () => up.destroy());
        up.end();
      },
      (e: unknown) => {
        const r = refusal(e, tag);
        answer(r.status, r.text);
      },
    );
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    const reply = (status: number, text: string, extra = "") => {
      client.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\n${extra}connection: close\r\n\r\n${text}`);
    };
    client.on("error", () => client.destroy());
    const tag = authorized(req);
    if (tag === null) return reply(407, "", 'proxy-authenticate: Basic realm="onair"\r\n');
    let target: URL;
    try {
      // "host:port" (a bracketed IPv6 host included); a tunnel is for TLS.
      target = new URL(`https://${req.url ?? ""}/`);
      if (!target.port && !/:443$/.test(req.url ?? "")) throw new Error();
    } catch {
      return reply(400, "CONNECT host:port only\n");
    }
    if (!admit(client)) return reply(503, "too many source connections\n");
    connectChecked(target).then(
      (upstream) => {
        stats.proxied++;
        client.setTimeout(IDLE_TIMEOUT_MS, () => client.destroy());
        upstream.on("timeout", () => upstream.destroy());
        upstream.on("error", () => client.destroy());
        upstream.on("close", () => client.destroy());
        client.on("close", () => upstream.destroy());
        client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
        if (head.length) upstream.write(head);
        upstream.pipe(client);
        client.pipe(upstream);
      },
      (e: unknown) => {
        const r = refusal(e, tag);
        reply(r.status, r.text);
      },
    );
  });
  server.on("clientError", (_e, s: Socket) => s.destroy());
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${USER}:${secret}@127.0.0.1:${port}/`,
    urlFor: (tag: string) => {
      if (!TAG.test(tag)) throw new Error("a proxy tag is 1-64 of [A-Za-z0-9_-]");
      return `http://${USER}.${tag}:${secret}@127.0.0.1:${port}/`;
    },
    refusedTo: (tag: string) => refusedTags.get(tag),
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let shared: Promise<SourceProxy> | undefined;

/** This process's proxy, started on first use. */
export function sourceProxy(): Promise<SourceProxy> {
  shared ??= startSourceProxy().catch((e: unknown) => {
    shared = undefined;
    throw e;
  });
  return shared;
}

/**
 * The environment of an ffmpeg or ffprobe that reads `url`: for sources over HTTP(S) or TLS
 * (`rtmps:`, `rtsps:`) this process's environment with `http_proxy` set to the proxy and every
 * other proxy setting removed (a `no_proxy` would let a host go around it); for other schemes
 * undefined (the parent's: RTSP and RTMP are pinned to their checked address, sourceTarget).
 *
 * ffmpeg's TLS layer (libavformat/tls.c, every version) opens its connection through the
 * `http_proxy` of its environment as a CONNECT tunnel to the URL's own name: the server's name
 * stays in the TLS handshake (SNI) while the proxy checks the address and connects to it.
 */
export async function sourceEnv(url: string, tag?: string): Promise<NodeJS.ProcessEnv | undefined> {
  if (!/^(https?|rtmps|rtsps):/i.test(url)) return undefined;
  const proxy = await sourceProxy();
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(https?|no|all)_proxy$/i.test(k)) out[k] = v;
  out.http_proxy = tag ? proxy.urlFor(tag) : proxy.url;
  return out as NodeJS.ProcessEnv;
}

/** A tag for a reader's proxy user (sourceEnv: a pull attempt's runs, or one probe), to ask `proxyRefusal` about after. */
export const readerTag = () => randomBytes(9).toString("base64url");

/**
 * Why this process's proxy refused an address to the reader tagged `tag` ("… (not in
 * OUTBOUND_ALLOW)"), or undefined (no proxy started, or nothing refused to it).
 */
export async function proxyRefusal(tag: string): Promise<string | undefined> {
  const why = shared && (await shared.catch(() => undefined))?.refusedTo(tag);
  return why ? `${why} (not in OUTBOUND_ALLOW)` : undefined;
}
