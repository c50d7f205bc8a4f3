// A room's live figures, read from the shared store: online, likes, pv (joins), uv (distinct
// audience); and the one definition of "online" that every count and list of members uses.
import { eq, inArray, sql, type SQL } from "drizzle-orm";
import type { DbOrTx } from "../db/client";
import { MEMBER_ROLE, roomMembers, type RoomStatus } from "../db/schema";
import { env } from "../env";

export interface RoomStats {
  online: number;
  likes: number;
  pv: number;
  uv: number;
}

/** The cut-offs behind "online": a viewer unseen for PRESENCE_VIEWER_TTL_S, a host for PRESENCE_HOST_TTL_S, is gone. */
export function presenceCutoffs(now: Date) {
  const e = env();
  return {
    viewer: new Date(now.getTime() - e.PRESENCE_VIEWER_TTL_S * 1000),
    host: new Date(now.getTime() - e.PRESENCE_HOST_TTL_S * 1000),
  };
}

/** "Online" as a condition on room_members: not left, and seen within the TTL of the member's role. */
export function onlineWhere(now: Date): SQL {
  const c = presenceCutoffs(now);
  return sql`(${roomMembers.leftAt} IS NULL AND ${roomMembers.lastSeenAt} >= IF(${roomMembers.role} = ${MEMBER_ROLE.host}, ${c.host}, ${c.viewer}))`;
}

/** The number of members online, as an aggregate over room_members rows. */
export const onlineCount = (now: Date) => sql<string>`COALESCE(SUM(${onlineWhere(now)}), 0)`;

/** Nobody is online in a room that has ended, whatever its member rows say. */
export const countsOnline = (status: RoomStatus) => status !== "ended";

const audience = sql`${roomMembers.role} <> ${MEMBER_ROLE.host}`;
const figures = (now: Date) => ({
  online: onlineCount(now),
  likes: sql<string>`COALESCE(SUM(${roomMembers.likes}), 0)`,
  pv: sql<string>`COALESCE(SUM(IF(${audience}, ${roomMembers.joinCount}, 0)), 0)`,
  uv: sql<string>`COALESCE(SUM(${audience} AND ${roomMembers.joinCount} > 0), 0)`,
});
type FigureRow = { online: string; likes: string; pv: string; uv: string };
const statsOf = (status: RoomStatus, row: FigureRow | undefined): RoomStats => ({
  online: countsOnline(status) ? Number(row?.online ?? 0) : 0,
  likes: Number(row?.likes ?? 0),
  pv: Number(row?.pv ?? 0),
  uv: Number(row?.uv ?? 0),
});

export async function roomStats(db: DbOrTx, room: { num: number; status: RoomStatus }, now: Date): Promise<RoomStats> {
  const [row] = await db.select(figures(now)).from(roomMembers).where(eq(roomMembers.roomNum, room.num));
  return statsOf(room.status, row);
}

/** The figures of a page of rooms in one grouped query (lists), by room number. */
export async function roomStatsMany(
  db: DbOrTx,
  list: ReadonlyArray<{ num: number; status: RoomStatus }>,
  now: Date,
): Promise<Map<number, RoomStats>> {
  const nums = [...new Set(list.map((r) => r.num))];
  const rows = nums.length
    ? await db
        .select({ num: roomMembers.roomNum, ...figures(now) })
        .from(roomMembers)
        .where(inArray(roomMembers.roomNum, nums))
        .groupBy(roomMembers.roomNum)
    : [];
  const byNum = new Map(rows.map((r) => [r.num, r]));
  return new Map(list.map((r) => [r.num, statsOf(r.status, byNum.get(r.num))]));
}
