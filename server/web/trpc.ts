// The tRPC endpoint of the web process (node adapter): the caller from the request's credentials
// and address, batches bounded (TRPC_MAX_BATCH), and Retry-After on rate-limited answers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { getTRPCErrorFromUnknown, TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { env } from "../env";
import { AppError, toAppError, trpcCodeOf } from "../errors";
import { actorFromHeaders, bearerOf, clientAddress } from "../http/actor";
import { headerOf, type FastRoute } from "../front/fast";
import { log } from "../log";
import { appRouter } from "../trpc/router";
import type { TrpcContext } from "../trpc/init";
import { isShared } from "../cache";

/** Seconds a rate-limited call asks the client to wait (the largest among a batch's errors). */
function retryAfterOf(errors: TRPCError[]): number | undefined {
  let wait: number | undefined;
  for (const e of errors) {
    const s = e.cause instanceof AppError ? e.cause.details?.retryAfterS : undefined;
    if (typeof s === "number") wait = Math.max(wait ?? 0, s);
  }
  return wait;
}

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;
/** A request's caller, from its credentials and address. */
type Context = (req: Pick<IncomingMessage, "headers" | "socket">) => Promise<TrpcContext>;
type CallOptions = {
  ctx: unknown;
  path: string;
  type: "query";
  getRawInput: () => Promise<unknown>;
  input?: unknown;
  signal: undefined;
  batchIndex: number;
};
type Result = { ok: true; data: unknown } | { ok: false; error: TRPCError };
type Middleware = (opts: Record<string, unknown>) => Promise<Result>;
type Procedure = ((opts: CallOptions) => Promise<unknown>) & {
  _def: { type: string; meta: unknown; middlewares: Middleware[] };
};
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, Procedure> } })._def.procedures;

/**
 * A procedure's middlewares (its resolver last), run as tRPC's own caller runs them (callRecursive
 * in @trpc/server: the same options, in the same order, a thrown error becoming a failed result),
 * with the language's object spread. tRPC's bundled spread helper copies every option with
 * defineProperty, twice per middleware: profiled, a sixth of the front's CPU for rooms.list over
 * 100,000 rooms. Whatever fails is answered by the official handler, as before.
 */
async function runProcedure(def: Procedure["_def"], opts: CallOptions & Record<string, unknown>, index = 0) {
  const middleware = def.middlewares[index];
  if (!middleware) return { ok: false, error: new TRPCError({ code: "INTERNAL_SERVER_ERROR" }) } as Result;
  try {
    return await middleware({
      ...opts,
      meta: def.meta,
      input: opts.input,
      next(next?: { ctx?: object; input?: unknown; getRawInput?: () => Promise<unknown> }): Promise<Result> {
        return runProcedure(
          def,
          {
            ...opts,
            ctx: next?.ctx ? { ...(opts.ctx as object), ...next.ctx } : opts.ctx,
            input: next && "input" in next ? next.input : opts.input,
            getRawInput: next?.getRawInput ?? opts.getRawInput,
          },
          index + 1,
        );
      },
    });
  } catch (cause) {
    return { ok: false, error: getTRPCErrorFromUnknown(cause) } as Result;
  }
}

/**
 * Queries that succeed, answered without the fetch adapter's Request, Response and AbortSignal per
 * call (measured: 930 req/s for rooms.list through it against about four times that here). The
 * answer is tRPC's own JSON (`{"result":{"data":…}}`, an array for a batch). Anything else, and any
 * query that fails, goes to the official handler, which formats errors: queries are reads, so
 * running a failed one again there changes nothing.
 */
// Answers shared across requests (server/cache.ts) are the same object each time: serialised once.
const serialised = new WeakMap<object, string>();
function answerJson(data: unknown): string {
  if (!isShared(data)) return JSON.stringify({ result: { data } });
  let json = serialised.get(data);
  if (json === undefined) serialised.set(data, (json = JSON.stringify({ result: { data } })));
  return json;
}

/** The queries' results (one per name, each with its input), or throws the first one's error. */
function runQueries(ctx: TrpcContext, names: string[], inputs: unknown[]) {
  return Promise.all(
    names.map(async (path, i) => {
      const r = await runProcedure(procedures[path]!._def, {
        ctx,
        path,
        type: "query",
        getRawInput: () => Promise.resolve(inputs[i]),
        signal: undefined,
        batchIndex: i,
      });
      if (!r.ok) throw r.error;
      return r.data;
    }),
  );
}

/** A query's (or a batch's) inputs from its query string, or undefined when it names no JSON. */
function inputsOf(query: URLSearchParams, names: string[], batch: boolean): unknown[] | undefined {
  try {
    const raw = query.get("input");
    const parsed: unknown = raw === null ? undefined : JSON.parse(raw);
    return batch ? names.map((_, i) => (parsed as Record<string, unknown> | undefined)?.[i]) : [parsed];
  } catch {
    return undefined;
  }
}

const TYPE = "application/json";
const VARY = "trpc-accept, accept";
const answerText = (results: unknown[], batch: boolean) =>
  batch ? `[${results.map(answerJson).join(",")}]` : answerJson(results[0]);

function fastQueries(full: Handler, context: Context, maxBatch: number): Handler {
  return async (req, res) => {
    // A streaming client (httpBatchStreamLink asks for JSON lines) gets tRPC's own answer.
    if (req.method !== "GET" || req.headers["trpc-accept"] !== undefined) return full(req, res);
    const url = req.url ?? "";
    const q = url.indexOf("?");
    let names: string[];
    try {
      names = decodeURIComponent(url.slice("/api/trpc/".length, q < 0 ? undefined : q)).split(",");
    } catch {
      return full(req, res); // not percent-encoding: tRPC's own answer
    }
    const query = new URLSearchParams(q < 0 ? "" : url.slice(q + 1));
    const batch = query.get("batch") === "1";
    if (
      names.length > maxBatch ||
      (!batch && names.length > 1) ||
      // Own keys only: "constructor" or "__proto__" name no procedure.
      !names.every((n) => Object.hasOwn(procedures, n) && procedures[n]!._def.type === "query")
    )
      return full(req, res);
    const inputs = inputsOf(query, names, batch);
    if (!inputs) return full(req, res);
    let results: unknown[];
    try {
      results = await runQueries(await context(req), names, inputs);
    } catch {
      return full(req, res);
    }
    const text = answerText(results, batch);
    fastAnswers.count++;
    // The header the front's fast path writes for the same answer (server/front/fast.ts).
    res.writeHead(200, { "content-type": TYPE, "content-length": Buffer.byteLength(text), vary: VARY });
    res.end(text);
  };
}

/**
 * One query (alone or as a batch of one) with a Bearer token or the console's session cookie,
 * answered from the connection's bytes by the front (server/front/fast.ts) once it has run, with
 * the bytes fastQueries answers; undefined (node:http answers) for no credentials, a batch of
 * several queries (another path), an input that is no JSON, or a query that fails.
 */
function bytesQuery(name: string, context: Context): FastRoute {
  return (_body, queryText, authorization, request) => {
    const { head } = request;
    const cookie = headerOf(head, "cookie");
    if (!bearerOf({ authorization }) && !cookie) return undefined;
    // A second Cookie line (node:http joins them) or a streaming client: node:http's.
    if (
      (cookie !== undefined && headerOf(head, "cookie", 1) !== undefined) ||
      headerOf(head, "trpc-accept") !== undefined
    )
      return undefined;
    const query = new URLSearchParams(queryText);
    // As fastQueries reads it: a batch of this one query, or the query alone.
    const batch = query.get("batch") === "1";
    const inputs = inputsOf(query, [name], batch);
    if (!inputs) return undefined;
    // The context node:http's request gets: the token's or the session's user, the client's address.
    const headers = { authorization, cookie, "x-forwarded-for": headerOf(head, "x-forwarded-for") };
    return context({ headers, socket: request.socket })
      .then((ctx) => runQueries(ctx, [name], inputs))
      .then(
        (results) => {
          fastAnswers.count++;
          return { status: 200, json: answerText(results, batch), type: TYPE, headers: `vary: ${VARY}\r\n` };
        },
        () => undefined,
      );
  };
}

/** Queries answered on the fast path (tests tell it from the official handler by this). */
export const fastAnswers = { count: 0 };

export function createTrpcHandler(opts: { fastQueries?: boolean } = {}): Handler & { fast: Record<string, FastRoute> } {
  const e = env();
  const context: Context = async (req) => {
    const actor = await actorFromHeaders(req.headers, systemClock.now());
    return { db: getDb(), clock: systemClock, actor, addr: clientAddress(req) };
  };
  const full = createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    maxBodySize: e.MAX_BODY_BYTES,
    maxBatchSize: e.TRPC_MAX_BATCH,
    async createContext({ req }) {
      try {
        return await context(req);
      } catch (err) {
        const a = toAppError(err);
        throw new TRPCError({ code: trpcCodeOf(a.code), message: a.message, cause: a });
      }
    },
    responseMeta({ errors }) {
      const wait = retryAfterOf(errors);
      return wait ? { headers: { "retry-after": String(wait) } } : {};
    },
    onError({ error, path }) {
      if (
        error.code === "INTERNAL_SERVER_ERROR" &&
        !(error.cause instanceof AppError && error.cause.code !== "INTERNAL")
      )
        log.error("trpc error", { path, error: error.message });
    },
  });
  if (opts.fastQueries === false) return Object.assign(full, { fast: {} });
  return Object.assign(fastQueries(full, context, e.TRPC_MAX_BATCH), {
    /** Queries the front answers from the connection's bytes (server/front/fast.ts), by "GET /path". */
    fast: Object.fromEntries(
      Object.entries(procedures)
        .filter(([, p]) => p._def.type === "query")
        .map(([name]) => [`GET /api/trpc/${name}`, bytesQuery(name, context)]),
    ),
  });
}
