// A room's live figures, read from the shared store: online, likes, pv (joins), uv (distinct audience).
import { sql } from "drizzle-orm";
import type { DbOrTx } from "../db/client";
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

export async function roomStats(db: DbOrTx, room: { num: number; status: string }, now: Date): Promise<RoomStats> {
  const c = presenceCutoffs(now);
  const [rows] = (await db.execute(sql`
    SELECT
      COALESCE(SUM(left_at IS NULL AND last_seen_at >= IF(role = 1, ${c.host}, ${c.viewer})), 0) AS online,
      COALESCE(SUM(likes), 0) AS likes,
      COALESCE(SUM(IF(role <> 1, join_count, 0)), 0) AS pv,
      COALESCE(SUM(role <> 1 AND join_count > 0), 0) AS uv
    FROM room_members WHERE room_num = ${room.num}`)) as unknown as [Array<Record<string, string | number>>];
  const r = rows[0] ?? {};
  return {
    online: room.status === "ended" ? 0 : Number(r.online ?? 0),
    likes: Number(r.likes ?? 0),
    pv: Number(r.pv ?? 0),
    uv: Number(r.uv ?? 0),
  };
}
