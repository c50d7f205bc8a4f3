// Stream sources: a room takes its stream from a URL onair pulls (RTSP, RTMP, HTTP-FLV, HLS) instead of
// a push. The URL may carry a camera's credentials: it is stored sealed (like app secrets), shown back
// as scheme + host only, and never logged. A source URL must reach an address callbacks may reach
// (public, or listed in OUTBOUND_ALLOW: operators list their camera network there).
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Actor } from "../actor";
import { audit } from "../audit";
import { open, seal } from "../crypto/secretbox";
import type { DbOrTx } from "../db/client";
import { rooms, streamSources, type SourceKind, type SourceState } from "../db/schema";
import { env } from "../env";
import { AppError } from "../errors";
import { addressKind, parseAllowList, permitted } from "../http/outbound";
import { newStreamName } from "../media/keys";

export { SOURCE_KINDS, SOURCE_MODES, SOURCE_STATES, type SourceKind, type SourceState } from "../db/schema";
export type SourceRow = typeof streamSources.$inferSelect;

export const SOURCE_SCHEMES = ["rtsp:", "rtsps:", "rtmp:", "rtmps:", "http:", "https:"] as const;
const MAX_URL = 2048;

/** The stream a sub source is published as: a companion of the room's own stream name. */
export const subStreamName = (streamName: string) => `${streamName}-sub`;
/** The room stream a companion stream belongs to (undefined for an ordinary stream name). */
export const mainOfSubStream = (name: string) => (name.endsWith("-sub") ? name.slice(0, -4) : undefined);

/** Rooms made for devices have no person hosting them. */
export const DEVICE_HOST = "00000000-0000-0000-0000-000000000000";

/** A URL as it may be shown: scheme and host (and port); never user, password, path or query. */
export function shownUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "";
  }
}

/** Parses a source URL (scheme, size); its address is checked when it is pulled (checkSourceAddress). */
export function parseSourceUrl(raw: string): URL {
  const text = raw.trim();
  let u: URL;
  try {
    if (text.length > MAX_URL) throw new Error();
    u = new URL(text);
  } catch {
    throw new AppError("BAD_REQUEST", `A source is a URL of at most ${MAX_URL} characters`, { field: "url" });
  }
  if (!(SOURCE_SCHEMES as readonly string[]).includes(u.protocol) || !u.hostname)
    throw new AppError("BAD_REQUEST", `A source URL is one of ${SOURCE_SCHEMES.join(" ")}`, { field: "url" });
  return u;
}

type Resolve = (host: string) => Promise<string[]>;
const resolveAll: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * The outbound rules of callbacks, for a source: every address its host resolves to must be public
 * or allowed by OUTBOUND_ALLOW. Returns why not (for the source's last error), or the URL to pull
 * and input options for ffmpeg. RTSP (what cameras speak) and RTMP are pulled from the address that
 * was checked, so that a second DNS answer, given to ffmpeg a moment later, cannot point it at an
 * address the check would have refused (DNS rebinding):
 * - RTSP sends no host name but in its URLs, so a camera answers the same;
 * - RTMP servers may choose a virtual host and application by the name in the tcUrl of the connect
 *   command: ffmpeg is given that tcUrl with the name (`-rtmp_tcurl`, as ffmpeg would have built it)
 *   while it connects to the address. Paths whose application ffmpeg versions split differently (one
 *   segment, `/ondemand/…`, `slist=`) keep the name.
 * TLS schemes (RTMPS, RTSPS) keep the name (SNI, certificates) and, like HTTP(S) sources, go
 * through the checking proxy (server/media/source-proxy.ts), which checks the address ffmpeg's
 * connection goes to. For the RTMP paths that keep the name, the check is made on the name's
 * answer of the moment.
 */
export async function sourceTarget(
  url: URL,
  allowEntries = env().OUTBOUND_ALLOW,
  resolve: Resolve = resolveAll,
): Promise<{ refused: string; url?: undefined } | { refused?: undefined; url: string; args: string[] }> {
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  let addresses: string[];
  try {
    addresses = isIP(host) ? [host] : await resolve(host);
  } catch {
    return { refused: `cannot resolve ${host}` };
  }
  if (!addresses.length) return { refused: `cannot resolve ${host}` };
  const allow = parseAllowList(allowEntries);
  const refused = addresses.find((a) => !permitted(allow, host, a));
  if (refused) return { refused: `${host} is a ${addressKind(refused)} address (not in OUTBOUND_ALLOW)` };
  const kept = { url: url.href, args: [] as string[] };
  if (isIP(host)) return kept;
  const pin = () => {
    const pinned = new URL(url.href);
    pinned.hostname = isIP(addresses[0]!) === 6 ? `[${addresses[0]}]` : addresses[0]!;
    return pinned.href;
  };
  if (url.protocol === "rtsp:") return { url: pin(), args: [] };
  if (url.protocol === "rtmp:") {
    const app = rtmpApp(url.pathname + url.search);
    if (app === null) return kept;
    return { url: pin(), args: ["-rtmp_tcurl", `rtmp://${url.hostname}:${url.port || "1935"}/${app}`] };
  }
  return kept;
}

/**
 * The application ffmpeg's RTMP client takes from a URL's path and query (rtmpproto.c: the first
 * segment, or the first two when a third follows and no ':' comes before it), or null where ffmpeg
 * versions differ or the rule is not the plain one.
 */
export function rtmpApp(path: string): string | null {
  if (path.startsWith("/ondemand/") || /\?.*slist=/.test(path)) return null;
  const next = path.slice(1);
  const first = next.indexOf("/");
  if (first < 0) return null;
  const rest = next.slice(first + 1);
  const slash = rest.indexOf("/");
  const colon = rest.indexOf(":");
  const app = slash < 0 || (colon >= 0 && colon < slash) ? next.slice(0, first) : next.slice(0, first + 1 + slash);
  return app.length < 1024 ? app : null;
}

/** Why a source's address is refused by the outbound rules (sourceTarget), or undefined. */
export async function checkSourceAddress(url: URL, allowEntries = env().OUTBOUND_ALLOW): Promise<string | undefined> {
  return (await sourceTarget(url, allowEntries)).refused;
}

/**
 * A source URL as an operator typed it, checked as it will be pulled: a supported scheme, and an
 * address the outbound rules allow. BAD_REQUEST names `field` with the broken rule (`source_url`:
 * scheme or form; `source_address`: refused by OUTBOUND_ALLOW) for clients to say in their words.
 */
export async function checkSourceInput(raw: string, field = "url"): Promise<URL> {
  const refuse = (rule: "source_url" | "source_address", why: string) =>
    new AppError("BAD_REQUEST", `${field}: ${why}`, {
      field,
      fields: { [field]: why },
      rules: { [field]: { code: "custom", rule } },
    });
  let u: URL;
  try {
    u = parseSourceUrl(raw);
  } catch (e) {
    if (e instanceof AppError) throw refuse("source_url", e.message);
    throw e;
  }
  const refused = await checkSourceAddress(u);
  if (refused) throw refuse("source_address", refused);
  return u;
}

/** What a source looks like to anyone who may see it: never the URL itself. */
export function sourceView(s: SourceRow) {
  return {
    kind: s.kind,
    url: s.urlShown,
    mode: s.mode,
    state: s.state,
    lastError: s.lastError,
    retries: s.retries,
    updatedAt: s.updatedAt,
  };
}

/** The URL to pull (server side only). */
export const sourceUrl = (s: SourceRow) => open(s.urlEnc);

export async function sourcesOfRoom(db: DbOrTx, roomNum: number): Promise<SourceRow[]> {
  return db.select().from(streamSources).where(eq(streamSources.roomNum, roomNum)).orderBy(asc(streamSources.kind));
}

export async function sourceOf(db: DbOrTx, roomNum: number, kind: SourceKind): Promise<SourceRow | undefined> {
  return (
    await db
      .select()
      .from(streamSources)
      .where(and(eq(streamSources.roomNum, roomNum), eq(streamSources.kind, kind)))
  )[0];
}

/**
 * Sets (or, with an empty URL, removes) a room's main or sub source. A changed URL starts over
 * (idle, no error, no retries); the running pull, if any, notices on its next start.
 */
export async function setSource(
  tx: DbOrTx,
  actor: Actor,
  now: Date,
  s: { appId: number; roomNum: number; kind: SourceKind; url: string; mode?: SourceRow["mode"] },
) {
  const before = await sourceOf(tx, s.roomNum, s.kind);
  if (!s.url.trim()) {
    if (!before) return;
    await tx.delete(streamSources).where(eq(streamSources.id, before.id));
  } else {
    const u = parseSourceUrl(s.url);
    const fields = {
      urlEnc: seal(u.toString()),
      urlShown: shownUrl(u.toString()),
      mode: s.mode ?? before?.mode ?? "on_demand",
      state: "idle" as const,
      lastError: "",
      retries: 0,
      updatedAt: now,
    };
    if (before) await tx.update(streamSources).set(fields).where(eq(streamSources.id, before.id));
    else
      await tx
        .insert(streamSources)
        .values({ appId: s.appId, roomNum: s.roomNum, kind: s.kind, createdAt: now, ...fields });
  }
  // The audit row names the host only: the URL may hold credentials.
  await audit(tx, actor, now, {
    appId: s.appId,
    action: s.url.trim() ? "source.set" : "source.remove",
    targetType: "room",
    targetId: s.roomNum,
    detail: { kind: s.kind, url: s.url.trim() ? shownUrl(s.url) : "" },
  });
}

/** A pull's progress, as the media side reports it; `retried` counts one more attempt. */
export async function markSource(
  db: DbOrTx,
  id: number,
  now: Date,
  state: SourceState,
  opts: { error?: string; retried?: boolean; resetRetries?: boolean } = {},
) {
  await db
    .update(streamSources)
    .set({
      state,
      updatedAt: now,
      ...(opts.error !== undefined ? { lastError: opts.error.slice(0, 300) } : {}),
      ...(opts.retried ? { retries: sql`${streamSources.retries} + 1` } : opts.resetRetries ? { retries: 0 } : {}),
    })
    .where(eq(streamSources.id, id));
}

/** A room for a device (LTStream's monitor): no person hosts it; its number is the device code. */
export async function createDeviceRoom(tx: DbOrTx, appId: number, title: string, now: Date, address: string) {
  const [res] = await tx.insert(rooms).values({
    id: crypto.randomUUID(),
    appId,
    title,
    extends: JSON.stringify({ address }),
    hostId: DEVICE_HOST,
    streamName: newStreamName(),
    micSeats: 1,
    createdAt: now,
    updatedAt: now,
  });
  await tx
    .update(rooms)
    .set({ chatId: String(res.insertId) })
    .where(eq(rooms.num, res.insertId));
  return res.insertId;
}
