// HTTP callbacks from external media servers, translated onto the same domain as the embedded
// server: SRS (JSON, answer 200 with body 0 to allow) and nginx-rtmp-module (form-encoded,
// answer 2xx to allow). Idempotent and order-tolerant because streamStarted/streamStopped are.
import { rmSync } from "node:fs";
import { z } from "zod";
import { systemClock, type Clock } from "../clock";
import type { Db } from "../db/client";
import { AppError, badInput } from "../errors";
import { log } from "../log";
import { presenceBuffer } from "../presence/buffer";
import { open } from "../crypto/secretbox";
import { parseStreamPath } from "./keys";
import { recordDone, reportedRecordFile } from "./recorder";
import { checkPlayToken, roomByStream, streamStarted, streamStopped } from "./streams";
import { hasVendorSignature, vendorPlayCheck } from "./urls";
import type { RoomClaims } from "../tokens";

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

/** SRS HTTP callback. Returns (or resolves) when allowed; throws an AppError to deny. */
export function handleSrs(db: Db, body: SrsBody, clock: Clock = systemClock): void | Promise<unknown> {
  const name = nameOf(body.app, body.stream);
  const q = queryOf(body.param);
  const client = `srs:${body.client_id}`;
  switch (body.action) {
    case "on_publish":
      return streamStarted(db, clock, name, client, { query: q, via: "srs" });
    case "on_unpublish":
      return streamStopped(db, clock, name, client, "srs");
    case "on_play": {
      const decided = authorizePlay(db, name, `/live/${name}.flv`, q, clock.now());
      return decided instanceof Promise ? decided : undefined;
    }
    case "on_dvr": {
      const given = body.file && body.cwd && !body.file.startsWith("/") ? `${body.cwd}/${body.file}` : body.file;
      const file = given ? reportedRecordFile(given) : undefined;
      if (given && !file) log.warn("srs dvr file refused (outside MEDIA_RECORD_DIRS)", { stream: name });
      if (file)
        void recordDone(db, clock, name, file, "srs").catch((e) =>
          log.error("srs dvr failed", { error: (e as Error).message }),
        );
      return;
    }
    default:
      return; // on_stop, on_hls, on_connect, on_close: nothing to decide
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

/** nginx-rtmp notification (on_publish, on_play, on_publish_done, on_done, on_record_done…). */
export async function handleNginx(
  db: Db,
  body: z.infer<typeof nginxBody> & Record<string, unknown>,
  clock: Clock = systemClock,
) {
  if (body.call === "connect" || body.call === "update") return;
  const name = nameOf(body.app, body.name);
  const q = Object.fromEntries(Object.entries(body).filter(([, v]) => typeof v === "string")) as Record<string, string>;
  const client = `nginx:${body.clientid}`;
  switch (body.call) {
    case "publish":
      await streamStarted(db, clock, name, client, { query: q, via: "nginx" });
      return;
    case "publish_done":
      await streamStopped(db, clock, name, client, "nginx");
      return;
    case "done":
      // `done` fires for players and publishers alike; only the current publisher stops the stream.
      await streamStopped(db, clock, name, client, "nginx");
      return;
    case "play":
      await authorizePlay(db, name, `/live/${name}`, q, clock.now());
      return;
    case "record_done":
      if (body.path) {
        const file = reportedRecordFile(body.path);
        if (!file) throw new AppError("FORBIDDEN", "Record file outside MEDIA_RECORD_DIRS");
        const row = await roomByStream(db, name);
        if (row?.room.record)
          void recordDone(db, clock, name, file, "nginx").catch((e) =>
            log.error("nginx record failed", { error: (e as Error).message }),
          );
        // nginx records every stream (`record all`); files of rooms that do not record are dropped
        // (when nginx's worker user left them deletable by onair's; otherwise they stay, said once).
        else
          try {
            rmSync(file, { force: true });
          } catch (e) {
            log.warn("unrecorded nginx file left in place", { file, error: (e as Error).message });
          }
      }
      return;
    default:
      return;
  }
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
