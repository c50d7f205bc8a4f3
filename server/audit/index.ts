// Audit rows: who changed what, when; always written with the change in one transaction.
import { and, desc, eq, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import { actorId, dbOf, requireRole, tenantFilter, type Actor, type Ctx } from "../actor";
import type { DbOrTx } from "../db/client";
import { auditLog, users } from "../db/schema";

export async function audit(
  tx: DbOrTx,
  actor: Actor,
  now: Date,
  e: { appId: number | null; action: string; targetType: string; targetId: string | number; detail?: object },
) {
  await tx.insert(auditLog).values({
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

export const listAuditInput = z.object({
  appId: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(100).default(20),
  cursor: z.number().int().positive().optional(),
});

/** Recent activity, newest first (admins only; app admins see their app). */
export async function listAudit(ctx: Ctx, input: z.infer<typeof listAuditInput>) {
  requireRole(ctx.actor, "admin");
  const where: (SQL | undefined)[] = [tenantFilter(ctx.actor, auditLog.appId, input.appId)];
  if (input.cursor) where.push(lt(auditLog.id, input.cursor));
  const rows = await dbOf(ctx)
    .select({ a: auditLog, actorName: users.username })
    .from(auditLog)
    .leftJoin(users, eq(users.id, auditLog.actorId))
    .where(and(...where))
    .orderBy(desc(auditLog.id))
    .limit(input.limit + 1);
  const items = rows.slice(0, input.limit).map(({ a, actorName }) => ({
    ...a,
    actorName: actorName ?? a.actorId,
    detail: a.detail ? (JSON.parse(a.detail) as Record<string, unknown>) : null,
  }));
  return { items, nextCursor: rows.length > input.limit ? items[items.length - 1]!.id : null };
}
