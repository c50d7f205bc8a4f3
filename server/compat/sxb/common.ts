// 随心播's codes, its error, the one mapping of domain errors onto them, and the pieces every
// command shares (token field, paging, room by number, play addresses).
import { createHash } from "node:crypto";
import { z } from "zod";
import { dbOf, type Ctx } from "../../actor";
import { appOfRow, appRow, type AppRow } from "../../apps";
import type { DbOrTx } from "../../db/client";
import { env } from "../../env";
import type { ErrorCode } from "../../errors";
import { pullUrls } from "../../media/urls";
import { findRoom, type RoomRow } from "../../rooms";
import { reusedRoomToken } from "../../tokens/reuse";
import { parseOr, vendorCode, VendorError } from "../kit";

/** The seed's error codes. */
export const SXB = {
  OK: 0,
  BAD_REQUEST: 10001,
  BAD_JSON: 10002,
  BAD_DATA: 10003,
  USER_EXISTS: 10004,
  NO_USER: 10005,
  BAD_PASSWORD: 10006,
  RELOGIN: 10007,
  RELOGOUT: 10008,
  TOKEN_EXPIRED: 10009,
  NO_ROOM: 10010,
  NO_AV_ROOM: 20001,
  NOT_LIVE: 20002,
  INTERNAL: 90000,
} as const;

export const sxbError = (code: number, message: string) => new VendorError(code, message);

const DOMAIN_CODES: Partial<Record<ErrorCode, number>> = {
  BAD_REQUEST: SXB.BAD_DATA,
  UNAUTHENTICATED: SXB.TOKEN_EXPIRED,
  TOKEN_INVALID: SXB.TOKEN_EXPIRED,
  TOKEN_EXPIRED: SXB.TOKEN_EXPIRED,
  BAD_CREDENTIALS: SXB.BAD_PASSWORD,
  CONFLICT: SXB.USER_EXISTS,
  NOT_FOUND: SXB.NO_ROOM,
  FORBIDDEN: SXB.BAD_REQUEST,
  DISABLED: SXB.BAD_REQUEST,
  ILLEGAL_TRANSITION: SXB.NOT_LIVE,
  MIC_REFUSED: SXB.BAD_REQUEST,
  PAYLOAD_TOO_LARGE: SXB.BAD_REQUEST,
  TOO_MANY_REQUESTS: SXB.BAD_REQUEST,
};

/** The one mapping from anything thrown to the envelope's {errorCode, errorInfo}. */
export function codeOf(e: unknown): { code: number; info: string; internal: boolean } {
  const c = vendorCode(e, DOMAIN_CODES, { code: SXB.INTERNAL, message: "server error" });
  return { code: c.code, info: c.message, internal: c.internal };
}

/** The paths clients call: the reference server's, and the Web demo's `/sxb_new/`. */
export const SXB_PATHS = new Set(["/sxb/index.php", "/index.php", "/sxb/", "/sxb_new/", "/sxb_new/index.php"]);

/** The envelope: errors travel with HTTP 200 (the clients drop non-2xx bodies). */
export const envelope = (errorCode: number, errorInfo: string, data?: unknown) =>
  data === undefined ? { errorCode, errorInfo } : { errorCode, errorInfo, data };

export const parse = <T extends z.ZodType>(schema: T, body: unknown): z.infer<T> =>
  parseOr(schema, body, (message) => sxbError(SXB.BAD_DATA, message));

export const tokenOnly = z.object({ token: z.string().min(10).max(4096) }).passthrough();
export const num = z.coerce.number().int().positive();
export const page = {
  index: z.coerce.number().int().min(0).max(1_000_000).default(0),
  size: z.coerce.number().int().min(1).max(100).default(10),
};

export async function roomByNum(ctx: Ctx, n: number): Promise<RoomRow> {
  try {
    return await findRoom(dbOf(ctx), ctx.actor, n);
  } catch {
    throw sxbError(SXB.NO_ROOM, "直播房间不存在");
  }
}

export async function appArg(db: DbOrTx, appId: number) {
  return playApp(await appRow(db, appId));
}

type PlayApp = Parameters<typeof pullUrls>[1];
const ONAIR_SCHEME: PlayApp = { signScheme: "onair", pushDomain: null, pullDomain: null };
/** Per app row (shared reads hand out the same row object for a second): copying a row's fields took 2 µs. */
const playApps = new WeakMap<AppRow, PlayApp>();

/** What pullUrls needs of a room's app (its row as appRow reads it; none: onair's own scheme). */
export function playApp(row: AppRow | undefined): PlayApp {
  if (!row) return ONAIR_SCHEME;
  let app = playApps.get(row);
  if (!app) {
    const a = appOfRow(row)!;
    playApps.set(row, (app = { ...a.app, secret: a.secret }));
  }
  return app;
}

/** The play addresses of a room (FLV, HLS, RTMP) with a play token for the caller. */
export function playAddresses(ctx: Ctx, room: Pick<RoomRow, "appId" | "id" | "num" | "streamName">, app: PlayApp) {
  const me = ctx.actor.kind === "user" ? ctx.actor.userId : "guest:sxb";
  // A caller's token for a room is signed at most once a minute per process (lists sign one for
  // every listed room on every call): tokens/reuse.ts.
  const issued = reusedRoomToken(
    { scope: "play", app: room.appId, room: room.id, num: room.num, st: room.streamName, sub: me },
    ctx.clock.now(),
    env().PLAY_TOKEN_TTL_S,
  );
  const u = pullUrls(room, app, issued.token, Math.floor(issued.expiresAt.getTime() / 1000));
  return { address: u.flv_url, address2: u.hls_url, address3: u.rtmp_url };
}

/** A userSig for the IM SDK: onair signs the user id (document: not Tencent's TLS signature). */
export const userSig = (userId: string) =>
  createHash("sha256").update(`usersig:${userId}:${env().AUTH_SECRET}`).digest("base64url");
