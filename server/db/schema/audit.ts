// Who changed what and when: written in the same transaction as the change.
import { index, mysqlTable, text, varchar } from "drizzle-orm/mysql-core";
import { autoId, idRef, time } from "./columns";

export const auditLog = mysqlTable(
  "audit_log",
  {
    id: autoId("id"),
    appId: idRef("app_id"),
    actorId: varchar("actor_id", { length: 64 }),
    actorKind: varchar("actor_kind", { length: 16 }).notNull(),
    action: varchar("action", { length: 64 }).notNull(),
    targetType: varchar("target_type", { length: 32 }).notNull(),
    targetId: varchar("target_id", { length: 64 }).notNull(),
    /** JSON text; never contains secrets. */
    detail: text("detail"),
    createdAt: time("created_at").notNull(),
  },
  (t) => [
    index("audit_app_created").on(t.appId, t.createdAt),
    // The audit page's filters: by what was changed (a room) and by who.
    index("audit_target").on(t.targetId, t.id),
    index("audit_actor").on(t.actorId, t.id),
  ],
);
