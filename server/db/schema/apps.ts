// Tenants. Every room, member and recording belongs to one app.
import { boolean, index, mysqlTable, text, uniqueIndex, varchar } from "drizzle-orm/mysql-core";
import { autoId, time } from "./columns";
import { SIGN_SCHEMES, SIGNUP_ROLES } from "../../../lib/domain";
export { SIGN_SCHEMES, SIGNUP_ROLES } from "../../../lib/domain";

export const apps = mysqlTable(
  "apps",
  {
    id: autoId("id"),
    name: varchar("name", { length: 128 }).notNull(),
    accessKey: varchar("access_key", { length: 64 }).notNull(),
    /** AES-256-GCM ciphertext of the app secret (the server must still compute HMACs with it). */
    secretEnc: varchar("secret_enc", { length: 255 }).notNull(),
    callbackUrl: varchar("callback_url", { length: 1024 }),
    enabled: boolean("enabled").notNull().default(true),
    pushDomain: varchar("push_domain", { length: 255 }),
    pullDomain: varchar("pull_domain", { length: 255 }),
    signScheme: varchar("sign_scheme", { length: 16, enum: SIGN_SCHEMES }).notNull().default("onair"),
    /** 随心播 clients must sign requests (timeStamp + md5 sign): see README. Off for the reference clients. */
    sxbSign: boolean("sxb_sign").notNull().default(false),
    /** The role a person signing up through a vendor API (随心播 regist, AUI demo login) gets. */
    signupRole: varchar("signup_role", { length: 8, enum: SIGNUP_ROLES }).notNull().default("viewer"),
    /**
     * AUI's demo login (off by default): password = user id, the account made on first login, as the
     * reference AppServer does so that its unchanged Web client works. Anyone may sign in as any demo user.
     */
    auiDemoLogin: boolean("aui_demo_login").notNull().default(false),
    /** Words refused in the app's chats, one per line (matched case-insensitively). */
    chatWords: text("chat_words").notNull().default(""),
    createdAt: time("created_at").notNull(),
    updatedAt: time("updated_at").notNull(),
  },
  (t) => [uniqueIndex("apps_access_key").on(t.accessKey), index("apps_name").on(t.name)],
);
