// A member removed from a room stays out: joining, co-host requests and play tokens are refused.
import { and, eq } from "drizzle-orm";
import type { DbOrTx } from "../db/client";
import { roomMembers } from "../db/schema";
import { forbidden } from "../errors";

export async function assertNotKicked(db: DbOrTx, roomNum: number, memberId: string) {
  const row = await db
    .select({ kickedAt: roomMembers.kickedAt })
    .from(roomMembers)
    .where(and(eq(roomMembers.roomNum, roomNum), eq(roomMembers.memberId, memberId)));
  if (row[0]?.kickedAt) throw forbidden("You were removed from this room");
}
