// Audit rows: who changed what, when; always written with the change in one transaction.
import { and, desc, eq, gte, inArray, like, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { actorId, dbOf, requireRole, tenantFilter, type Actor, type Ctx } from "../actor";
import { preparedInsert, type DbOrTx } from "../db/client";
import { auditLog, rooms, users } from "../db/schema";

export async function audit(
  tx: DbOrTx,
  actor: Actor,
  now: Date,
  e: { appId: number | null; action: string; targetType: string; targetId: string | number; detail?: object },
) {
  await insertAudit(tx, {
    appId: e.appId,
    actorId: actorId(actor),
    actorKind: actor.kind,
    action: e.action,
    targetType: e.targetType,
    targetId: String(e.targetId),
    detail: e.detail ? JSON.stringify(e.detail) : null,
    createdAt: now,
  });
}
// Every change writes one (built once: server/db/client.ts `prepared`).
const insertAudit = preparedInsert(auditLog, [
  "appId",
  "actorId",
  "actorKind",
  "action",
  "targetType",
  "targetId",
  "detail",
  "createdAt",
]);

export const listAuditInput = z.object({
  appId: z.number().int().positive().optional(),
  /** A username, or a system actor's id (`system:grace`, `system:srs`, …). */
  actor: z.string().trim().min(1).max(64).optional(),
  /** An action (`room.stop`), or a family of them (`room`). */
  action: z
    .string()
    .trim()
    .regex(/^[a-z_]+(\.[a-z_]+)?$/, "An action such as room.stop, or a family such as room")
    .max(64)
    .optional(),
  /** A room's id or number: its own rows and its recordings'. */
  room: z
    .string()
    .trim()
    .regex(/^([0-9a-f-]{36}|\d{1,15})$/i, "A room id or number")
    .optional(),
  /** Times in ms since the epoch: from ≤ createdAt < to. */
  from: z.number().int().min(0).optional(),
  to: z.number().int().min(0).optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.number().int().positive().optional(),
});

/** The ids a room is named by in audit rows (its uuid; a few writers name its number). */
async function roomTargets(ctx: Ctx, ref: string): Promise<{ id: string; num: string }> {
  const db = dbOf(ctx);
  const byNum = /^\d+$/.test(ref);
  const row = (
    await db
      .select({ id: rooms.id, num: rooms.num })
      .from(rooms)
      .where(and(byNum ? eq(rooms.num, Number(ref)) : eq(rooms.id, ref), tenantFilter(ctx.actor, rooms.appId)))
  )[0];
  // A room deleted since still has its rows: matched by what was asked.
  return row ? { id: row.id, num: String(row.num) } : { id: ref, num: ref };
}

/**
 * Activity, newest first, filtered by app, actor, action, room and time (admins only; an app admin
 * sees their app's rows only, whatever they ask). Pages by id: `nextCursor` continues the list.
 */
export async function listAudit(ctx: Ctx, input: z.infer<typeof listAuditInput>) {
  requireRole(ctx.actor, "admin");
  const where: (SQL | undefined)[] = [tenantFilter(ctx.actor, auditLog.appId, input.appId)];
  if (input.cursor) where.push(lt(auditLog.id, input.cursor));
  if (input.actor) where.push(or(eq(auditLog.actorId, input.actor), eq(users.username, input.actor)));
  if (input.action)
    where.push(
      input.action.includes(".") ? eq(auditLog.action, input.action) : like(auditLog.action, `${input.action}.%`),
    );
  if (input.room) {
    const r = await roomTargets(ctx, input.room);
    where.push(
      or(
        and(eq(auditLog.targetType, "room"), inArray(auditLog.targetId, [r.id, r.num])),
        // Recording rows name their room in the detail.
        and(eq(auditLog.targetType, "recording"), like(auditLog.detail, `%"room":"${r.id}"%`)),
      ),
    );
  }
  if (input.from !== undefined) where.push(gte(auditLog.createdAt, new Date(input.from)));
  if (input.to !== undefined) where.push(lt(auditLog.createdAt, new Date(input.to)));
  const rows = await dbOf(ctx)
    .select({ a: auditLog, actorName: users.username, roomTitle: rooms.title, roomNum: rooms.num })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .leftJoin(rooms, and(eq(auditLog.targetType, "room"), eq(rooms.id, auditLog.targetId)))
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(({ a, actorName, roomTitle, roomNum }) => ({
    ...a,
    actorName: actorName ?? a.actorId,
    roomTitle,
    roomNum,
    detail: a.detail ? (JSON.parse(a.detail) as Record<string, unknown>) : null,
  }));
  return { items, nextCursor: rows.length > input.limit ? items[items.length - 1]!.id : null };
}
