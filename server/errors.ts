// The one error type of the domain. Every transport maps it through `httpStatusOf`/`trpcCodeOf`
// (below) and never invents its own; vendor adapters map `code` onto their seed's codes.

export const ERROR_CODES = {
  /** Input failed validation (zod) or is malformed JSON. */
  BAD_REQUEST: { http: 400, trpc: "BAD_REQUEST" },
  /** No credentials were presented, or they do not identify anybody. */
  UNAUTHENTICATED: { http: 401, trpc: "UNAUTHORIZED" },
  /** A token whose signature, format or audience is wrong, or that was revoked. */
  TOKEN_INVALID: { http: 401, trpc: "UNAUTHORIZED" },
  /** A well-formed, correctly signed token past its expiry: the client should refresh. */
  TOKEN_EXPIRED: { http: 401, trpc: "UNAUTHORIZED" },
  /** Username or password wrong (one code for both, so usernames are not disclosed). */
  BAD_CREDENTIALS: { http: 401, trpc: "UNAUTHORIZED" },
  /** The account or app is disabled. */
  DISABLED: { http: 403, trpc: "FORBIDDEN" },
  /** Signed in, but the role or ownership does not allow this. */
  FORBIDDEN: { http: 403, trpc: "FORBIDDEN" },
  /** Does not exist, or belongs to another tenant (never disclosed as FORBIDDEN). */
  NOT_FOUND: { http: 404, trpc: "NOT_FOUND" },
  /** Unique value already taken (username, access key). */
  CONFLICT: { http: 409, trpc: "CONFLICT" },
  /** A state machine refused the move (room lifecycle, co-host request). */
  ILLEGAL_TRANSITION: { http: 412, trpc: "PRECONDITION_FAILED" },
  /** A co-host request already pending, seats full, request expired. */
  MIC_REFUSED: { http: 412, trpc: "PRECONDITION_FAILED" },
  PAYLOAD_TOO_LARGE: { http: 413, trpc: "PAYLOAD_TOO_LARGE" },
  /** The member is muted in this room's chat (details.until says until when). */
  CHAT_MUTED: { http: 403, trpc: "FORBIDDEN" },
  /** The room's slow mode: details.retryAfterS says when the member may send again. */
  CHAT_SLOW_MODE: { http: 429, trpc: "TOO_MANY_REQUESTS" },
  /** The message holds a word the app's chat filter refuses. */
  CHAT_FILTERED: { http: 422, trpc: "UNPROCESSABLE_CONTENT" },
  TOO_MANY_REQUESTS: { http: 429, trpc: "TOO_MANY_REQUESTS" },
  /**
   * A stream source could not be read (probe now): details.reason is unreachable, auth failed,
   * codec, address refused or pull failed; never the URL (it may hold credentials).
   */
  SOURCE_FAILED: { http: 502, trpc: "BAD_GATEWAY" },
  /** A dependency (database) is unreachable. */
  UNAVAILABLE: { http: 503, trpc: "INTERNAL_SERVER_ERROR" },
  INTERNAL: { http: 500, trpc: "INTERNAL_SERVER_ERROR" },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details?: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    // A refusal (4xx) is an outcome the client is told of by its code, made by the thousand on hot
    // paths when a flood of bad requests comes (wrong publish keys, stale tokens): its stack is never
    // shown or logged (server/log.ts), and capturing one cost ~15 µs, a sixth of a refused publish's
    // answer (measured). A server-side failure (5xx) keeps its stack.
    const limit = Error.stackTraceLimit;
    if (ERROR_CODES[code].http < 500) Error.stackTraceLimit = 0;
    try {
      super(message);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = "AppError";
    this.code = code;
    this.details = details;
  }
  get httpStatus(): number {
    return ERROR_CODES[this.code].http;
  }
}

export const httpStatusOf = (code: ErrorCode) => ERROR_CODES[code].http;
export const trpcCodeOf = (code: ErrorCode) => ERROR_CODES[code].trpc;

export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);
export const forbidden = (why = "You are not allowed to do this") => new AppError("FORBIDDEN", why);

/** The driver error under Drizzle's wrapper (DrizzleQueryError keeps it as `cause`). */
export function driverError(err: unknown): { code?: string; errno?: number; message?: string } | undefined {
  let e = err as { code?: string; cause?: unknown } | undefined;
  for (let i = 0; i < 5 && e && !e.code && e.cause; i++) e = e.cause;
  return e;
}
export const isDuplicateKey = (err: unknown) => driverError(err)?.code === "ER_DUP_ENTRY";

/** Turns anything thrown into an AppError; unknown errors become INTERNAL without leaking details. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const e = driverError(err);
  if (e?.code === "ER_DUP_ENTRY") return new AppError("CONFLICT", "Already exists");
  if (e?.code === "ECONNREFUSED" || e?.code === "PROTOCOL_CONNECTION_LOST" || e?.code === "ETIMEDOUT")
    return new AppError("UNAVAILABLE", "Database unavailable");
  return new AppError("INTERNAL", "Internal server error");
}

/** The JSON body every plain-HTTP endpoint of onair answers errors with. */
export function errorBody(err: AppError) {
  return { error: { code: err.code, message: err.message, ...(err.details ? { details: err.details } : {}) } };
}

/** A broken rule as clients can put it in words of their language (zod's `message` is English only). */
export interface FieldRule {
  /** zod's issue code: too_small, too_big, invalid_format, invalid_type, invalid_value, custom, … */
  code: string;
  /** What was measured for too_small/too_big: string (characters), number, array, … */
  origin?: string;
  min?: number;
  max?: number;
  /** invalid_format's format: url, email, uuid, regex, … */
  format?: string;
  /** A refinement's own name (`params: { rule }`), e.g. "url". */
  rule?: string;
}

type Issue = {
  path?: ReadonlyArray<PropertyKey | { key: PropertyKey }>;
  message: string;
  code?: string;
  origin?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  format?: unknown;
  params?: unknown;
};

const num = (v: unknown) => (typeof v === "number" ? v : typeof v === "bigint" ? Number(v) : undefined);
const str = (v: unknown) => (typeof v === "string" ? v : undefined);

function ruleOf(i: Issue): FieldRule {
  const rule: FieldRule = { code: i.code ?? "custom" };
  const origin = str(i.origin);
  if (origin) rule.origin = origin;
  const min = num(i.minimum);
  if (min !== undefined) rule.min = min;
  const max = num(i.maximum);
  if (max !== undefined) rule.max = max;
  const format = str(i.format);
  if (format) rule.format = format;
  const named = str((i.params as { rule?: unknown } | undefined)?.rule);
  if (named) rule.rule = named;
  return rule;
}

/**
 * Schema validation failures (zod / standard-schema issues) become BAD_REQUEST naming each field:
 * `details.fields` holds zod's (English) text, `details.rules` the rule and its limits for clients to
 * say in their own words.
 */
export function badInput(issues: ReadonlyArray<Issue>) {
  const fields: Record<string, string> = {};
  const rules: Record<string, FieldRule> = {};
  for (const i of issues) {
    const k = (i.path ?? []).map((p) => (typeof p === "object" ? String(p.key) : String(p))).join(".") || "_";
    if (k in fields) continue;
    fields[k] = i.message;
    rules[k] = ruleOf(i);
  }
  return new AppError("BAD_REQUEST", "Invalid input", { fields, rules });
}
