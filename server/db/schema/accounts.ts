// Users, their per-device sessions (refresh tokens) and token revocations.
import { boolean, index, mysqlTable, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { autoId, idRef, time, uuid } from "./columns";
import { ROLES, REVOCATION_KINDS } from "../../../lib/domain";
export { ROLES, REVOCATION_KINDS, type Role, type RevocationKind } from "../../../lib/domain";

export const users = mysqlTable(
  "users",
  {
    id: uuid("id")
      .primaryKey()
      .$defaultFn(() => crypto.randomUUID()),
    /** Null only for platform admins, who manage every app. */
    appId: idRef("app_id"),
    username: varchar("username", { length: 64 }).notNull(),
    nick: varchar("nick", { length: 64 }).notNull().default(""),
    avatarUrl: varchar("avatar_url", { length: 1024 }).notNull().default(""),
    passwordHash: varchar("password_hash", { length: 255 }).notNull(),
    role: varchar("role", { length: 8, enum: ROLES }).notNull(),
    disabled: boolean("disabled").notNull().default(false),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [uniqueIndex("users_username").on(t.username), index("users_app_role").on(t.appId, t.role)],
);

export const sessions = mysqlTable(
  "sessions",
  {
    id: uuid("id").primaryKey(),
    userId: uuid("user_id").notNull(),
    deviceId: varchar("device_id", { length: 128 }).notNull(),
    deviceType: varchar("device_type", { length: 16 }).notNull(),
    /** sha256 of the current refresh token's secret part (256 random bits, so a fast hash is enough). */
    refreshHash: varchar("refresh_hash", { length: 64 }).notNull(),
    createdAt: time("created_at").notNull(),
    lastUsedAt: time("last_used_at").notNull(),
    expiresAt: time("expires_at").notNull(),
    revokedAt: time("revoked_at"),
  },
  (t) => [index("sessions_user_device").on(t.userId, t.deviceId)],
);

/**
 * Append-only list every process polls: a token whose subject matches and that was issued
 * before `before_at` no longer verifies (logout, user disabled, viewer kicked).
 */
export const revocations = mysqlTable(
  "revocations",
  {
    id: autoId("id"),
    kind: varchar("kind", { length: 8, enum: REVOCATION_KINDS }).notNull(),
    subject: varchar("subject", { length: 128 }).notNull(),
    beforeAt: time("before_at").notNull(),
    /** After this no token it could match is still valid, so the row can be pruned. */
    expiresAt: time("expires_at").notNull(),
  },
  (t) => [index("revocations_expires").on(t.expiresAt)],
);
