// 随心播 live commands (svc=live), each a translation onto the domain's verbs. People are named by
// the id they registered (`regist.id`, onair's username) in every answer.
import { z } from "zod";
import { transaction, type Ctx } from "../../actor";
import { appRow, settledAppRow, type AppRow } from "../../apps";
import { getVodUrl } from "../../media/access";
import { reportMic, requestMic } from "../../mic";
import { joinRoom, leaveRoom, listMembers, settledListMembers } from "../../presence";
import { createRecording, listRecordings } from "../../recordings";
import { createRoom, listRooms, settledListRooms, transitionRoom, updateRoom } from "../../rooms";
import { settledVendorIds, vendorIds } from "../kit";
import { appArg, num, page, parse, playAddresses, playApp, roomByNum, SXB, sxbError, tokenOnly } from "./common";

export type LiveCommand = (ctx: Ctx, body: Record<string, unknown>) => Promise<unknown>;

/** The hosts of listed rooms or recordings, by the ids clients registered. */
const hostIds = (ctx: Ctx, items: Array<{ hostId: string }>) =>
  vendorIds(
    ctx.db,
    items.map((r) => r.hostId),
  );

const httpUrl = (u: string | undefined) => (u && /^https?:\/\//.test(u) ? u : undefined);
/** The client SDK's app id as clients send it (number or string); 0 and empty mean none. */
const sdkAppId = z.union([z.number().int().min(0), z.string().max(32)]).optional();
const sdkAppIdText = (v: number | string | undefined) => (v === undefined || v === 0 || v === "0" ? "" : String(v));

// Schemas are built once: zod compiles each on its first parse, which per request cost more than the command.
const createInput = tokenOnly.extend({ type: z.string().max(16).default("live") });
const reportroomInput = tokenOnly.extend({
  room: z.object({
    title: z.string().max(256).optional(),
    roomnum: num,
    type: z.string().max(16).optional(),
    groupid: z.string().max(256).optional(),
    cover: z.string().max(1024).optional(),
    appid: sdkAppId,
    device: z.coerce.number().optional(),
    videotype: z.coerce.number().optional(),
    host: z.string().optional(),
  }),
});
const reportmemidInput = tokenOnly.extend({
  id: z.string().max(64).optional(),
  roomnum: num,
  role: z.coerce.number().int().min(0).max(2).default(0),
  operate: z.coerce.number().int().min(0).max(1).default(0),
});
const roomidlistInput = tokenOnly.extend({ roomnum: num, ...page });
const requestInput = tokenOnly.extend({ roomnum: num });
const reportstatusInput = tokenOnly.extend({ roomnum: num, status: z.enum(["on", "off"]) });
const reportrecordInput = tokenOnly.extend({
  roomnum: num,
  uid: z.string().max(64).optional(),
  name: z.string().min(1).max(256),
  type: z.coerce.number().int().min(0).max(1000).default(0),
  cover: z.string().max(1024).optional(),
});
const exitroomInput = tokenOnly.extend({ roomnum: num, type: z.string().max(16).optional() });
const recordlistInput = tokenOnly.extend({ type: z.coerce.number().int().optional(), ...page });
const livestreamlistInput = tokenOnly.extend(page);
const getroomplayurlInput = tokenOnly.extend({ roomnum: num.optional(), room: num.optional() });

// The Web demo sends `type` as the number 1; `appid` is the SDK app id the rooms were reported under.
const roomlistInput = tokenOnly.extend({
  type: z.union([z.string().max(16), z.number()]).optional(),
  appid: sdkAppId,
  ...page,
});

/** The rooms a roomlist body asks for (throws the command's error for a bad body). */
function roomlistPage(body: Record<string, unknown>) {
  const b = parse(roomlistInput, body);
  return {
    status: "live" as const,
    clientAppId: sdkAppIdText(b.appid) || undefined,
    limit: b.size,
    offset: b.index,
    withMetrics: true,
  };
}

type ListedRooms = Awaited<ReturnType<typeof listRooms>>;
const roomlistAnswer = (listed: ListedRooms, idOf: (id: string) => string) => ({
  total: listed.total,
  rooms: listed.items.map((r) => ({
    uid: idOf(r.hostId),
    info: {
      title: r.title,
      roomnum: r.num,
      type: "live",
      groupid: r.chatId,
      cover: r.coverUrl,
      thumbup: r.metrics?.likes ?? 0,
      memsize: r.metrics?.online ?? 0,
    },
  })),
});

/**
 * roomlist's answer when all it reads (the page, its total, its hosts' ids) has been read for
 * everybody and may still be served, for answers made synchronously (server/front/fast.ts);
 * undefined: run the command. Throws as the command does.
 */
export function settledRoomlist(ctx: Ctx, body: Record<string, unknown>) {
  const s = settledPage(ctx, roomlistPage(body));
  return s && roomlistAnswer(s.listed, s.idOf);
}

/** A page of live rooms and its hosts' ids, when both have been read and may still be served. */
function settledPage(ctx: Ctx, page: Parameters<typeof settledListRooms>[1]) {
  const listed = settledListRooms(ctx, page);
  const idOf =
    listed &&
    settledVendorIds(
      ctx.db,
      listed.items.map((r) => r.hostId),
    );
  return idOf && { listed, idOf };
}

/** The live rooms a livestreamlist body asks for (throws the command's error for a bad body). */
function livestreamlistPage(body: Record<string, unknown>) {
  const b = parse(livestreamlistInput, body);
  return { status: "live" as const, limit: b.size, offset: b.index, withMetrics: false };
}

/** Each listed room's host, cover and play addresses, with a play token for the caller. */
const livestreamlistAnswer = (
  ctx: Ctx,
  listed: ListedRooms,
  idOf: (id: string) => string,
  appOf: (id: number) => AppRow | undefined,
) => ({
  total: listed.total,
  videos: listed.items.map((r) => ({
    uid: idOf(r.hostId),
    cover: r.coverUrl,
    ...playAddresses(ctx, r, playApp(appOf(r.appId))),
  })),
});

/**
 * livestreamlist's answer when its page, total, hosts' ids and apps have been read for everybody
 * and may still be served (as settledRoomlist); only the caller's play tokens are made per call.
 */
export function settledLivestreamlist(ctx: Ctx, body: Record<string, unknown>) {
  const s = settledPage(ctx, livestreamlistPage(body));
  if (!s) return undefined;
  const { listed, idOf } = s;
  const appOf = new Map<number, AppRow | undefined>();
  for (const r of listed.items) {
    if (appOf.has(r.appId)) continue;
    const row = settledAppRow(ctx.db, r.appId);
    if (!row) return undefined;
    appOf.set(r.appId, row.value);
  }
  return livestreamlistAnswer(ctx, listed, idOf, (id) => appOf.get(id));
}

/** Online members, the host first, then co-hosts, then the audience in the order they came. */
const roomidlistPage = (b: z.infer<typeof roomidlistInput>, room: number) => ({
  room,
  onlineOnly: true,
  limit: b.size,
  offset: b.index,
});
const roomidlistAnswer = (listed: Awaited<ReturnType<typeof listMembers>>, idOf: (id: string) => string) => ({
  total: listed.total,
  idlist: listed.items.map((m) => ({ id: idOf(m.memberId), role: m.role })),
});

/**
 * roomidlist's answer when its room, its page of members and their ids have been read for
 * everybody and may still be served (as settledRoomlist); a room not found is the command's.
 */
export function settledRoomidlist(ctx: Ctx, body: Record<string, unknown>) {
  const b = parse(roomidlistInput, body);
  const listed = settledListMembers(ctx, roomidlistPage(b, b.roomnum));
  const idOf =
    listed &&
    settledVendorIds(
      ctx.db,
      listed.items.map((m) => m.memberId),
    );
  return idOf && roomidlistAnswer(listed, idOf);
}

export const live: Record<string, LiveCommand> = {
  async create(ctx, body) {
    parse(createInput, body);
    const r = await createRoom(ctx, { title: "live", mode: 0, record: false });
    return { roomnum: r.num, groupid: r.chatId };
  },
  async reportroom(ctx, body) {
    const b = parse(reportroomInput, body);
    // One transaction: the room is renamed (with the SDK app id it was reported under) and started, or neither.
    await transaction(ctx, async (_tx, inner) => {
      const room = await roomByNum(inner, b.room.roomnum);
      await updateRoom(inner, {
        room: room.num,
        title: b.room.title || room.title,
        coverUrl: httpUrl(b.room.cover),
        clientAppId: b.room.appid === undefined ? undefined : sdkAppIdText(b.room.appid),
      });
      // The room was created on the client's side: it is live now.
      if (room.status === "prepare" || room.status === "paused") await transitionRoom(inner, room.num, "start");
    });
    return undefined;
  },
  async roomlist(ctx, body) {
    const listed = await listRooms(ctx, roomlistPage(body));
    return roomlistAnswer(listed, await hostIds(ctx, listed.items));
  },
  async reportmemid(ctx, body) {
    const b = parse(reportmemidInput, body);
    const room = await roomByNum(ctx, b.roomnum);
    // Entering puts the member in roomidlist. The role listed is the server's (host 1, a member on
    // the mic 2, else 0), which is what an honest client reports; a claimed role is not taken.
    const j = await joinRoom(ctx, { room: room.id });
    if (b.operate === 1) await leaveRoom(ctx.db, { token: j.presenceToken }, ctx.clock.now());
    return undefined;
  },
  async roomidlist(ctx, body) {
    const b = parse(roomidlistInput, body);
    const room = await roomByNum(ctx, b.roomnum);
    const listed = await listMembers(ctx, roomidlistPage(b, room.num));
    const idOf = await vendorIds(
      ctx.db,
      listed.items.map((m) => m.memberId),
    );
    return roomidlistAnswer(listed, idOf);
  },
  async request(ctx, body) {
    const b = parse(requestInput, body);
    await requestMic(ctx, { room: (await roomByNum(ctx, b.roomnum)).num });
    return undefined;
  },
  async reportstatus(ctx, body) {
    const b = parse(reportstatusInput, body);
    // Hosts approve co-hosts over the clients' IM, which the server never sees.
    await reportMic(
      ctx,
      { room: (await roomByNum(ctx, b.roomnum)).num, status: b.status },
      { approvedElsewhere: true },
    );
    return undefined;
  },
  async reportrecord(ctx, body) {
    const b = parse(reportrecordInput, body);
    const room = await roomByNum(ctx, b.roomnum);
    await createRecording(ctx, {
      room: room.num,
      name: b.name,
      type: b.type,
      coverUrl: httpUrl(b.cover) ?? "",
      url: "",
      durationMs: 0,
      sizeBytes: 0,
    });
    return undefined;
  },
  async exitroom(ctx, body) {
    const b = parse(exitroomInput, body);
    const room = await roomByNum(ctx, b.roomnum);
    const me = ctx.actor.kind === "user" ? ctx.actor.userId : "";
    if (me === room.hostId) {
      if (room.status !== "ended") await transitionRoom(ctx, room.num, "stop");
    } else {
      const j = await joinRoom(ctx, { room: room.id });
      await leaveRoom(ctx.db, { token: j.presenceToken }, ctx.clock.now());
    }
    return undefined;
  },
  async recordlist(ctx, body) {
    const b = parse(recordlistInput, body);
    const listed = await listRecordings(ctx, { status: "ready", type: b.type, limit: b.size, offset: b.index });
    const idOf = await hostIds(ctx, listed.items);
    const videos = await Promise.all(
      listed.items.map(async (r) => ({
        uid: idOf(r.hostId),
        cover: r.coverUrl,
        videoId: r.id,
        playid: r.id,
        playurl: r.url || (await getVodUrl(ctx, r.id)).url,
      })),
    );
    return { total: listed.total, videos };
  },
  async livestreamlist(ctx, body) {
    const listed = await listRooms(ctx, livestreamlistPage(body));
    const appIds = [...new Set(listed.items.map((r) => r.appId))];
    const [idOf, rows] = await Promise.all([
      hostIds(ctx, listed.items),
      Promise.all(appIds.map(async (id) => [id, await appRow(ctx.db, id)] as const)),
    ]);
    const appOf = new Map(rows);
    return livestreamlistAnswer(ctx, listed, idOf, (id) => appOf.get(id));
  },
  async getroomplayurl(ctx, body) {
    const b = parse(getroomplayurlInput, body);
    const n = b.roomnum ?? b.room;
    if (!n) throw sxbError(SXB.BAD_DATA, "roomnum is required");
    const room = await roomByNum(ctx, n);
    if (room.status !== "live") throw sxbError(SXB.NOT_LIVE, "用户没有在直播");
    return { cover: room.coverUrl, ...playAddresses(ctx, room, await appArg(ctx.db, room.appId)) };
  },
};
