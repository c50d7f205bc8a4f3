// HTTP callbacks from external media servers, translated onto the same domain as the embedded
// server: SRS (JSON, answer 200 with body 0 to allow) and nginx-rtmp-module (form-encoded,
// answer 2xx to allow). Each format is parsed into one MediaEvent; applyMediaEvent applies them.
// Idempotent and order-tolerant because streamStarted/streamStopped are.
import { rmSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { systemClock, type Clock } from "../clock";
import type { Db } from "../db/client";
import { AppError, badInput, toAppError } from "../errors";
import { errorText, log, rateLimitedLog } from "../log";
import { presenceBuffer } from "../presence/buffer";
import { open } from "../crypto/secretbox";
import { parseStreamPath } from "./keys";
import { publisherNow } from "./listings";
import { recordDone, reportedRecordFile } from "./recorder";
import {
  checkPlayToken,
  publishAnsweredNow,
  reconcileStreams,
  roomByStream,
  streamStarted,
  streamStopped,
} from "./streams";
import { recordHealth, type HealthReading } from "./health";
import { hasVendorSignature, vendorPlayCheck } from "./urls";
import type { RoomClaims } from "../tokens";
import { recordRefusal, refusalReason, type RefusedPublish } from "./refusals";

const SRS_ACTIONS = [
  "on_publish",
  "on_unpublish",
  "on_play",
  "on_stop",
  "on_dvr",
  "on_hls",
  "on_connect",
  "on_close",
] as const;
const SRS_ACTION_SET = new Set<string>(SRS_ACTIONS);

/** The fields of an SRS HTTP callback onair reads. */
export interface SrsBody {
  action: (typeof SRS_ACTIONS)[number];
  client_id: string;
  ip: string;
  vhost: string;
  app: string;
  stream: string;
  param: string;
  tcUrl?: string;
  stream_url?: string;
  stream_id?: string;
  file?: string;
  cwd?: string;
}

/**
 * The SRS callback body, checked by hand: this runs for every viewer join, and a schema library
 * costs a measurable share of the hook's throughput here.
 */
export function parseSrsBody(b: unknown): SrsBody {
  if (!b || typeof b !== "object" || Array.isArray(b)) throw new AppError("BAD_REQUEST", "Body must be a JSON object");
  const o = b as Record<string, unknown>;
  const action = o.action;
  if (typeof action !== "string" || !SRS_ACTION_SET.has(action))
    throw badInput([{ path: ["action"], message: "Unknown action" }]);
  const opt = (k: string) => {
    const v = o[k];
    if (v === undefined || v === null) return undefined;
    if (typeof v === "string") return v;
    if (typeof v === "number" && k === "client_id") return String(v);
    throw badInput([{ path: [k], message: "Must be a string" }]);
  };
  return {
    action: action as SrsBody["action"],
    client_id: opt("client_id") ?? "",
    ip: opt("ip") ?? "",
    vhost: opt("vhost") ?? "",
    app: opt("app") ?? "live",
    stream: opt("stream") ?? "",
    param: opt("param") ?? "",
    tcUrl: opt("tcUrl"),
    stream_url: opt("stream_url"),
    stream_id: opt("stream_id"),
    file: opt("file"),
    cwd: opt("cwd"),
  };
}

const queryOf = (param: string) => Object.fromEntries(new URLSearchParams(param.replace(/^\?/, "")));

/**
 * A viewer's play: onair token (a pure check, answered synchronously: this runs for every viewer
 * join) or the app's vendor signature (needs the app's key: a promise); the viewer is recorded.
 */
export function authorizePlay(
  db: Db,
  name: string,
  uri: string,
  q: Record<string, string | undefined>,
  now: Date,
): RoomClaims | Promise<void> {
  if (q.token) return authorizePlayToken(q.token, name, now);
  return authorizeVendorPlay(db, name, uri, q, now);
}

/** The pure token play check, recording the viewer (the host watching their own preview is not audience). */
export function authorizePlayToken(token: string, name: string, now: Date): RoomClaims {
  const c = checkPlayToken(token, name, now);
  if (c.mr !== 1)
    presenceBuffer.record({ roomNum: c.num, appId: c.app, memberId: c.sub, role: 0, seenAt: now.getTime(), likes: 0 });
  return c;
}

async function authorizeVendorPlay(
  db: Db,
  name: string,
  uri: string,
  q: Record<string, string | undefined>,
  now: Date,
) {
  if (!hasVendorSignature(q)) throw new AppError("UNAUTHENTICATED", "A play token is required (?token=…)");
  const row = await roomByStream(db, name);
  if (!row || row.app.signScheme === "onair") throw new AppError("TOKEN_INVALID", "Unknown stream or signature");
  const r = vendorPlayCheck(
    { ...row.app, secret: () => open(row.app.secretEnc) },
    name,
    uri,
    q,
    Math.floor(now.getTime() / 1000),
  );
  if (r !== "ok") throw new AppError(r === "expired" ? "TOKEN_EXPIRED" : "TOKEN_INVALID", `Play signature ${r}`);
}

function nameOf(app: string, stream: string) {
  const p = parseStreamPath(`${app || "live"}/${stream}`);
  if (!p || p.app !== "live") throw new AppError("NOT_FOUND", "Unknown application or stream");
  return p.name;
}

type Query = Record<string, string | undefined>;
export type Via = "srs" | "nginx" | "embedded";

/**
 * What a media server's hook means, whichever server sent it: each server's format is parsed into
 * one of these, and applyMediaEvent alone acts on rooms. `file` of `recorded` is the reported file
 * once confined to MEDIA_RECORD_DIRS (undefined: it named something else, and is refused).
 */
export type MediaEvent =
  | { kind: "publish"; stream: string; client: string; query: Query; via: Via; addr?: string }
  | { kind: "unpublish"; stream: string; client: string; via: Via }
  | { kind: "play"; stream: string; uri: string; query: Query }
  | { kind: "recorded"; stream: string; file: string | undefined; via: Via }
  /** A reading of a stream's health (server/media/health.ts). */
  | { kind: "health"; stream: string; via: Via; reading: HealthReading }
  /**
   * Everything a server publishes now (stream → client id, clients under `prefix`), as its listing
   * taken at `at` says: rooms the listing contradicts are stopped or started (lost hooks).
   */
  | { kind: "listed"; via: Via; prefix: string; streams: Map<string, string>; at: Date }
  | { kind: "none" };

/**
 * The stream an SRS callback names and the URI the player asked for: RTMP and HTTP-FLV plays name
 * the stream itself; HLS playlists (hls_ctx on) name the file, in its folder (`live/<stream>` +
 * `index.m3u8`, onair's layout) or not (`live` + `<stream>.m3u8`, SRS's default).
 */
function srsStream(app: string, stream: string): { name: string; uri: string } {
  const folder = /^\/?live\/([\w-]{1,64})$/.exec(app);
  if (folder && stream === "index.m3u8") return { name: folder[1]!, uri: `/live/${folder[1]}/index.m3u8` };
  const name = nameOf(app, stream);
  return { name, uri: stream.endsWith(".m3u8") ? `/live/${name}.m3u8` : `/live/${name}.flv` };
}

/** A DVR file SRS reported: `file` is relative to SRS's `cwd`; either way it must lie in MEDIA_RECORD_DIRS. */
export function srsDvrFile(cwd: string | undefined, file: string): string | undefined {
  if (!isAbsolute(file) && !(cwd && isAbsolute(cwd))) return undefined;
  return reportedRecordFile(isAbsolute(file) ? file : resolve(cwd!, file));
}

/** An SRS HTTP callback as a media event. */
export function srsEvent(body: SrsBody): MediaEvent {
  const client = `srs:${body.client_id}`;
  switch (body.action) {
    case "on_publish":
      return {
        kind: "publish",
        stream: nameOf(body.app, body.stream),
        client,
        query: queryOf(body.param),
        via: "srs",
        addr: body.ip,
      };
    case "on_unpublish":
      return { kind: "unpublish", stream: nameOf(body.app, body.stream), client, via: "srs" };
    case "on_play": {
      const { name, uri } = srsStream(body.app, body.stream);
      return { kind: "play", stream: name, uri, query: queryOf(body.param) };
    }
    case "on_dvr":
      if (!body.file) return { kind: "none" };
      return {
        kind: "recorded",
        stream: nameOf(body.app, body.stream),
        file: srsDvrFile(body.cwd, body.file),
        via: "srs",
      };
    default:
      return { kind: "none" }; // on_stop, on_hls, on_connect, on_close: nothing to decide
  }
}

export const nginxBody = z
  .object({
    call: z.enum(["connect", "publish", "play", "publish_done", "play_done", "done", "record_done", "update"]),
    app: z.string().default("live"),
    name: z.string().default(""),
    addr: z.string().default(""),
    clientid: z.string().default(""),
    tcurl: z.string().optional(),
    path: z.string().optional(),
    type: z.string().optional(),
  })
  .passthrough();

/** An nginx-rtmp notification (on_publish, on_play, on_publish_done, on_done, on_record_done…) as a media event. */
export function nginxEvent(body: z.infer<typeof nginxBody> & Record<string, unknown>): MediaEvent {
  if (body.call === "connect" || body.call === "update" || body.call === "play_done") return { kind: "none" };
  const stream = nameOf(body.app, body.name);
  const client = `nginx:${body.clientid}`;
  switch (body.call) {
    case "publish": {
      const query = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === "string")) as Query;
      return { kind: "publish", stream, client, query, via: "nginx", addr: body.addr };
    }
    // `done` fires for players and publishers alike; only the current publisher stops the stream.
    case "publish_done":
    case "done":
      return { kind: "unpublish", stream, client, via: "nginx" };
    case "play": {
      const query = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === "string")) as Query;
      return { kind: "play", stream, uri: `/live/${stream}`, query };
    }
    case "record_done":
      return body.path
        ? { kind: "recorded", stream, file: reportedRecordFile(body.path), via: "nginx" }
        : { kind: "none" };
  }
}

/**
 * The one place media events act on rooms. Returns (or resolves) when allowed; throws an AppError
 * to deny. A token play is decided synchronously (no promise): it runs for every viewer join.
 */
export function applyMediaEvent(db: Db, ev: MediaEvent, clock: Clock = systemClock): void | Promise<unknown> {
  switch (ev.kind) {
    case "publish": {
      const refused = (e: unknown) =>
        publishRefused(db, clock, { stream: ev.stream, reason: refusalReason(e), via: ev.via, addr: ev.addr }, e);
      // A repeat, or a refusal that stands, decided from a recent read (no promise) when it can be.
      try {
        if (publishAnsweredNow(db, clock, ev.stream, ev.client, ev.query)) return;
      } catch (e) {
        return refused(e);
      }
      return streamStarted(db, clock, ev.stream, ev.client, {
        query: ev.query,
        via: ev.via,
        // SRS and nginx-rtmp ask before they find a stream busy: whether it is, their listing says.
        stillOn:
          ev.via === "embedded" ? undefined : async (client) => (await publisherNow(ev.via, ev.stream)) === client,
      }).catch(refused);
    }
    case "unpublish":
      return streamStopped(db, clock, ev.stream, ev.client, ev.via);
    case "play": {
      const decided = authorizePlay(db, ev.stream, ev.uri, ev.query, clock.now());
      return decided instanceof Promise ? decided : undefined;
    }
    case "recorded":
      return recordingReported(db, clock, ev);
    case "health":
      return recordHealth(db, clock, ev.stream, ev.via, ev.reading);
    case "listed":
      return reconcileStreams(db, clock, ev.prefix, ev.streams, ev.at);
    case "none":
      return;
  }
}

/**
 * External servers record every stream (nginx `record all`, SRS `dvr_plan session`): a room with
 * `record` on keeps its file as a recording (remuxed to MP4, the reported file then removed); any
 * other file is deleted at once. Files onair's workers cannot delete stay, said in the log.
 */
async function recordingReported(db: Db, clock: Clock, ev: Extract<MediaEvent, { kind: "recorded" }>) {
  const file = ev.file;
  if (!file) throw new AppError("FORBIDDEN", "Record file outside MEDIA_RECORD_DIRS");
  const row = await roomByStream(db, ev.stream);
  if (row?.room.record) {
    void recordDone(db, clock, ev.stream, file, ev.via, { removeSource: true }).catch((e) =>
      log.error(`${ev.via} recording failed`, { stream: ev.stream, error: errorText(e) }),
    );
    return;
  }
  try {
    rmSync(file, { force: true });
  } catch (e) {
    log.warn(`unrecorded ${ev.via} file left in place`, { file, error: errorText(e) });
  }
}

/**
 * A refused publish, from any media server (hooks here, the embedded server's checks): recorded for
 * the room's host (server/media/refusals.ts), then the refusal stands (`error` is thrown again).
 */
export async function publishRefused(db: Db, clock: Clock, refusal: RefusedPublish, error?: unknown): Promise<never> {
  await recordRefusal(db, clock, refusal);
  if (error instanceof Error) throw error;
  throw new AppError("TOKEN_INVALID", "Publish refused");
}

/** Where a hook came from and what it named, for its refusal's log line. */
export interface HookSeen {
  hook: string;
  peer: string;
  action?: string;
  stream?: string;
  client?: string;
}
const refusalLine = rateLimitedLog("warn", 10, 50);
/**
 * A printable stream or address: what a client sent may be anything, and a publish key or token
 * put where the stream name goes is never printed.
 */
const printable = (v: string | undefined) =>
  !v ? undefined : /^[\w.:/[\]-]{1,100}$/.test(v) && !/pk\d+_|eyJ/.test(v) ? v : "(unprintable)";
/** One line per refused hook (reason code, stream, addresses; never a token or key), at most 10 a second. */
export function hookRefused(seen: HookSeen, error: unknown) {
  const a = toAppError(error);
  refusalLine("hook refused", {
    hook: seen.hook,
    action: seen.action,
    code: a.code,
    stream: printable(seen.stream),
    client: printable(seen.client),
    peer: printable(seen.peer),
  });
}

/** nginx auth_request for HLS playlists and segments: the token comes from the original URI. */
export async function handleNginxAuth(db: Db, originalUri: string, now: Date) {
  const [path, query = ""] = originalUri.split("?");
  const m =
    /^\/live\/([\w-]{1,64})(?:\.m3u8|\/[\w.-]+\.(?:m3u8|ts))$/.exec(path ?? "") ??
    /^\/live\/([\w-]{1,64})-\d+\.ts$/.exec(path ?? "");
  if (!m) throw new AppError("NOT_FOUND", "Not a stream URI");
  await authorizePlay(db, m[1]!, path!, queryOf(query), now);
}
