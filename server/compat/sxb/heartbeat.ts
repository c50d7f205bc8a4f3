// 随心播 `heartbeat` {token, roomnum, role, thumbup}, every 10 s from every member: a hot path,
// answered by the front process. The token is checked in memory; the room through a one-second
// cache of the shared store; the beat goes to the presence buffer.
import type { IncomingMessage, ServerResponse } from "node:http";
import { eq, inArray } from "drizzle-orm";
import { z } from "zod";
import { systemClock, type Clock } from "../../clock";
import { open } from "../../crypto/secretbox";
import { getDb } from "../../db/client";
import { apps, MEMBER_ROLE, rooms } from "../../db/schema";
import { userActorOf } from "../../http/actor";
import type { PresenceBuffer } from "../../presence/buffer";
import { memberSubject } from "../../tokens";
import { revocationSet } from "../../tokens/revocations";
import { readFields, sendAnswer } from "../kit";
import { codeOf, envelope, num, parse, SXB, sxbError, tokenOnly } from "./common";
import { assertSigned } from "./sign";

const beatBody = tokenOnly.extend({
  roomnum: num,
  role: z.coerce.number().int().min(0).max(2).default(0),
  thumbup: z.coerce.number().int().min(0).max(2_000_000_000).default(0),
});

export function createSxbHeartbeat(buffer: PresenceBuffer, clock: Clock = systemClock) {
  type RoomOfBeat = { at: number; appId: number; ok: boolean; hostId: string; secret?: string };
  type Entry = { value?: RoomOfBeat; loading?: Promise<RoomOfBeat> };
  const cache = new Map<number, Entry>();
  /**
   * Rooms to read, gathered over one turn of the event loop and read in one query: with beats
   * spread over many rooms, one statement a tick instead of one per room and second.
   */
  type Wanted = Map<number, { now: number; done: (v: RoomOfBeat) => void; fail: (e: unknown) => void }>;
  let batch: Wanted | undefined;
  const MAX_BATCH = 500;
  async function readBatch(wanted: Wanted) {
    try {
      const rows = await getDb()
        .select({
          num: rooms.num,
          appId: rooms.appId,
          status: rooms.status,
          hostId: rooms.hostId,
          sxbSign: apps.sxbSign,
          secretEnc: apps.secretEnc,
        })
        .from(rooms)
        .innerJoin(apps, eq(apps.id, rooms.appId))
        .where(inArray(rooms.num, [...wanted.keys()]));
      const byNum = new Map(rows.map((r) => [r.num, r]));
      for (const [num, w] of wanted) {
        const row = byNum.get(num);
        w.done({
          at: w.now,
          appId: row?.appId ?? 0,
          ok: !!row && row.status !== "ended",
          hostId: row?.hostId ?? "",
          secret: row?.sxbSign ? open(row.secretEnc) : undefined,
        });
      }
    } catch (e) {
      for (const w of wanted.values()) w.fail(e);
    }
  }
  const load = (roomNum: number, entry: Entry, now: number) =>
    (entry.loading ??= new Promise<RoomOfBeat>((done, fail) => {
      if (!batch) {
        const mine: Wanted = new Map();
        batch = mine;
        setImmediate(() => {
          // A batch that filled up was read already.
          if (batch !== mine) return;
          batch = undefined;
          void readBatch(mine);
        });
      }
      batch.set(roomNum, { now, done, fail });
      if (batch.size >= MAX_BATCH) {
        const full = batch;
        batch = undefined;
        void readBatch(full);
      }
    })
      .then((value) => (entry.value = value))
      .finally(() => (entry.loading = undefined)));
  /**
   * The room of a beat from the shared store, each room read at most once a second per process,
   * and concurrent beats of a room whose value is older share one read (no stampede on a miss).
   */
  async function roomOf(roomNum: number, now: number): Promise<RoomOfBeat> {
    let entry = cache.get(roomNum);
    if (!entry) {
      if (cache.size >= 100_000) cache.clear();
      entry = {};
      cache.set(roomNum, entry);
    }
    const { value } = entry;
    if (value && now - value.at <= 1000 && now >= value.at) return value;
    return load(roomNum, entry, now);
  }
  return async function heartbeat(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<boolean> {
    if (query.get("svc") !== "live" || query.get("cmd") !== "heartbeat") return false;
    try {
      const body = await readFields(req, { limit: 16 * 1024, notJson: () => sxbError(SXB.BAD_JSON, "请求json错误") });
      const b = parse(beatBody, body);
      const now = clock.now();
      const me = userActorOf(b.token, now);
      const r = await roomOf(b.roomnum, now.getTime());
      if (!r.ok || (me.appId !== null && r.appId !== me.appId)) throw sxbError(SXB.NO_ROOM, "直播房间不存在");
      // The same anti-tamper rule as every other command of the app, here on the front.
      if (r.secret !== undefined)
        assertSigned(r.secret, { url: req.url ?? "", svc: "live", cmd: "heartbeat", query, body }, now);
      // A member removed from the room stays out (the kick revoked them in memory on every instance).
      if (revocationSet.revokedBefore("member", memberSubject(b.roomnum, me.userId)) > 0)
        throw sxbError(SXB.BAD_REQUEST, "您已被移出该房间");
      buffer.record({
        roomNum: b.roomnum,
        appId: r.appId,
        memberId: me.userId,
        // The role is the server's: the host of record, everybody else joins as audience.
        role: me.userId === r.hostId ? MEMBER_ROLE.host : MEMBER_ROLE.viewer,
        seenAt: now.getTime(),
        likes: b.thumbup,
      });
      sendAnswer(res, { status: 200, body: envelope(SXB.OK, "") });
    } catch (e) {
      const c = codeOf(e);
      sendAnswer(res, { status: 200, body: envelope(c.code, c.info) });
    }
    return true;
  };
}
