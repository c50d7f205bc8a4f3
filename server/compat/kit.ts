// The adapter kit: what every vendor API does alike, so that each adapter under server/compat/<vendor>/
// holds only its vendor's translation (paths, field names, codes, envelopes). Here: mounting a route
// table on a raw node request, body reading that tolerates what real clients send, zod-parse-or-
// vendor-error, the one mapping of domain errors onto a vendor's codes, bearer → actor, and onair ↔
// vendor identities (clients know people by the id they signed up with, onair's username).
import { cacheable, sharedReads } from "../cache";
import type { IncomingMessage, ServerResponse } from "node:http";
import { asc, eq, inArray } from "drizzle-orm";
import type { z } from "zod";
import type { Ctx } from "../actor";
import { dbOf } from "../actor";
import { systemClock, type Clock } from "../clock";
import { getDb, type Db, type DbOrTx } from "../db/client";
import { apps, users } from "../db/schema";
import { AppError, type ErrorCode } from "../errors";
import { clientAddress } from "../http/actor";
import { readBody, sendJson } from "../http/io";
import { errorText, log } from "../log";
import { EXTERNAL_MEMBER as EXTERNAL } from "../mic";

/** A vendor's own error: its code, the HTTP status it travels with, and Retry-After for lockouts. */
export class VendorError extends Error {
  constructor(
    public code: number,
    message: string,
    public http = 200,
    public retryAfterS?: number,
  ) {
    super(message);
  }
}

/** One request as a route sees it. `fields()` reads the body once (see readFields). */
export interface Call {
  req: IncomingMessage;
  path: string;
  query: URLSearchParams;
  db: Db;
  clock: Clock;
  addr: string | undefined;
  fields(): Promise<Record<string, unknown>>;
}

export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export type Route = (call: Call) => Promise<unknown>;

export interface VendorApi {
  /** For log lines ("<name> adapter failed"). */
  name: string;
  /** The route for this request, or undefined when the path is not this vendor's. */
  route(method: string, path: string, query: URLSearchParams): Route | undefined;
  /** The body limit, and the error a body that is not JSON (nor a form) becomes. */
  body: { limit: number; notJson: () => Error; form?: boolean };
  /** The success envelope around a route's result. */
  ok(data: unknown): Answer;
  /** The failure envelope; `internal` answers are logged as errors (they should not happen). */
  fail(e: unknown): Answer & { internal: boolean };
}

/** Routes by "METHOD /path" (the usual case). */
export const routeTable =
  (routes: Record<string, Route>): VendorApi["route"] =>
  (method, path) =>
    routes[`${method} ${path}`];

/**
 * A body as fields. Real clients post JSON under a form content type (随心播's Web demo) and forms
 * under none (PHP's curl), so the content is looked at, not only the header: a body that opens with
 * `{` is JSON, a form otherwise (when the vendor takes forms; a repeated field counts by its last
 * value, as PHP reads it). An empty body is no fields.
 */
export async function readFields(req: IncomingMessage, spec: VendorApi["body"]): Promise<Record<string, unknown>> {
  const text = await readBody(req, spec.limit);
  const type = String(req.headers["content-type"] ?? "");
  const trimmed = text.trimStart();
  if (!trimmed) return {};
  if (!spec.form || type.includes("json") || trimmed.startsWith("{")) {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      throw spec.notJson();
    }
    if (!v || typeof v !== "object" || Array.isArray(v)) throw spec.notJson();
    return v as Record<string, unknown>;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of new URLSearchParams(text)) out[k] = v;
  return out;
}

/** zod-parse or the vendor's error, naming each field that failed. */
export function parseOr<T extends z.ZodType>(
  schema: T,
  body: unknown,
  toError: (message: string, issues: z.core.$ZodIssue[]) => Error,
): z.infer<T> {
  const p = schema.safeParse(body);
  if (!p.success)
    throw toError(p.error.issues.map((i) => `${i.path.join(".") || "_"}: ${i.message}`).join("; "), p.error.issues);
  return p.data;
}

/**
 * The one mapping of anything thrown onto a vendor's codes: its own errors keep theirs, domain
 * errors go through the vendor's table, everything else is the vendor's internal code and message
 * (`internal` is true for those, and for the vendor's own internal code: they are logged).
 */
export function vendorCode(
  e: unknown,
  table: Partial<Record<ErrorCode, number>>,
  internal: { code: number; message: string },
) {
  if (e instanceof VendorError) return { code: e.code, message: e.message, internal: e.code === internal.code };
  const mapped = e instanceof AppError ? table[e.code] : undefined;
  if (mapped !== undefined && e instanceof AppError) return { code: mapped, message: e.message, internal: false };
  return { code: internal.code, message: internal.message, internal: true };
}

export const sendAnswer = (res: ServerResponse, a: Answer) => sendJson(res, a.status, a.body, a.headers);

/** Mounted by the web process: answers the vendor's paths, returns false for anything else. */
export function createVendorHandler(api: VendorApi, opts: { db?: () => Db; clock?: Clock } = {}) {
  const db = opts.db ?? getDb;
  const clock = opts.clock ?? systemClock;
  /** `admit`: see server/web/api.ts (asked once the path is this adapter's). */
  return function handle(req: IncomingMessage, res: ServerResponse, admit?: () => boolean): boolean {
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
    const route = api.route(req.method ?? "GET", path, query);
    if (!route) return false;
    if (admit && !admit()) return true;
    let body: Promise<Record<string, unknown>> | undefined;
    const call: Call = {
      req,
      path,
      query,
      db: db(),
      clock,
      addr: clientAddress(req),
      fields: () => (body ??= readFields(req, api.body)),
    };
    // An answer that cannot be written (a result that is no JSON) is answered as a failure too,
    // never left as an unhandled rejection, which would end the process.
    route(call)
      .then((data) => sendAnswer(res, api.ok(data)))
      .catch((e: unknown) => {
        const a = api.fail(e);
        if (a.internal) log.error(`${api.name} adapter failed`, { path, error: errorText(e) });
        if (!res.headersSent) sendAnswer(res, a);
        else res.destroy();
      });
    return true;
  };
}

// ---- Identities -------------------------------------------------------------------------------

/**
 * onair user ids → the ids vendor clients know (usernames). Ids that name no user (guests, members
 * a host's client named) pass through as they are, `rtc:` members without their prefix.
 */
const sharedNames = sharedReads<Array<{ id: string; username: string }>>();

export async function vendorIds(db: DbOrTx, userIds: string[]): Promise<(id: string) => string> {
  const { key, read } = namesOf(db, userIds);
  // A page's hosts are the same for everybody listing it: read once a second (server/cache.ts).
  return idsFrom(cacheable(db) ? await sharedNames(key, read) : await read());
}

/**
 * vendorIds' answer if its names have been read for everybody and may still be served (undefined:
 * ask vendorIds), for answers made synchronously (server/front/fast.ts).
 */
export function settledVendorIds(db: DbOrTx, userIds: string[]): ((id: string) => string) | undefined {
  if (!cacheable(db)) return undefined;
  const { key, read } = namesOf(db, userIds);
  const rows = sharedNames.settled(key, read)?.value;
  return rows && idsFrom(rows);
}

function namesOf(db: DbOrTx, userIds: string[]) {
  const wanted = [...new Set(userIds)].filter((id) => /^[0-9a-f-]{36}$/i.test(id)).sort();
  const read = async () =>
    wanted.length
      ? await db.select({ id: users.id, username: users.username }).from(users).where(inArray(users.id, wanted))
      : [];
  return { key: wanted.join(","), read };
}

function idsFrom(rows: Array<{ id: string; username: string }>) {
  const names = new Map(rows.map((r) => [r.id, r.username]));
  return (id: string) => names.get(id) ?? (id.startsWith(EXTERNAL) ? id.slice(EXTERNAL.length) : id);
}

/**
 * Vendor ids (usernames) → onair user ids, within one app; an id that names no user of the app is
 * kept as an external member (`rtc:<id>`), so that a list round-trips exactly as it was sent.
 */
export async function memberIdsOf(db: DbOrTx, appId: number, names: string[]): Promise<(name: string) => string> {
  const wanted = [...new Set(names)];
  const rows = wanted.length
    ? await db
        .select({ id: users.id, username: users.username, appId: users.appId })
        .from(users)
        .where(inArray(users.username, wanted))
    : [];
  const ids = new Map(rows.filter((r) => r.appId === appId).map((r) => [r.username.toLowerCase(), r.id]));
  return (name) => ids.get(name.toLowerCase()) ?? `${EXTERNAL}${name}`;
}

/** The onair user id of a vendor id within an app, if it names one. */
export async function userIdOf(ctx: Ctx, appId: number | null, name: string): Promise<string | undefined> {
  const row = (
    await dbOf(ctx).select({ id: users.id, appId: users.appId }).from(users).where(eq(users.username, name))
  )[0];
  return row && (appId === null || row.appId === appId) ? row.id : undefined;
}

/**
 * The app a vendor's self-service clients (sign-up, demo login) belong to: the configured one, or
 * the first enabled app. Undefined when there is none.
 */
export async function vendorApp(db: DbOrTx, configured: number | undefined) {
  return (
    await db
      .select()
      .from(apps)
      .where(configured ? eq(apps.id, configured) : eq(apps.enabled, true))
      .orderBy(asc(apps.id))
      .limit(1)
  )[0];
}
