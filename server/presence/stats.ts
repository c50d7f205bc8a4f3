// A room's live figures, read from the shared store: online, likes, pv (joins), uv (distinct
// audience); and the one definition of "online" that every count and list of members uses.
import { inArray, sql, type SQL } from "drizzle-orm";
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
/**
 * The figures of rooms computed from their member rows (one grouped query), by room number, as
 * they stand at `now` (no status applied). The refresh (figures.ts) and readers without a fresh
 * table use it; lists read room_figures instead.
 */
export async function roomFiguresFromMembers(
  db: DbOrTx,
  nums: readonly number[],
  now: Date,
): Promise<Map<number, RoomStats>> {
  const rows = nums.length
    ? await db
        .select({ num: roomMembers.roomNum, ...figures(now) })
        .from(roomMembers)
        .where(inArray(roomMembers.roomNum, [...nums]))
        .groupBy(roomMembers.roomNum)
    : [];
  return new Map(
    rows.map((r) => [
      Number(r.num),
      { online: Number(r.online), likes: Number(r.likes), pv: Number(r.pv), uv: Number(r.uv) },
    ]),
  );
}
