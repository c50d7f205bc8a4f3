// The tRPC endpoint of the web process (node adapter): the caller from the request's credentials
// and address, batches bounded (TRPC_MAX_BATCH), and Retry-After on rate-limited answers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { TRPCError } from "@trpc/server";
import { createHTTPHandler } from "@trpc/server/adapters/standalone";
import { systemClock } from "../clock";
import { getDb } from "../db/client";
import { env } from "../env";
import { AppError, toAppError, trpcCodeOf } from "../errors";
import { actorFromHeaders, clientAddress } from "../http/actor";
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
type Procedure = ((opts: {
  ctx: unknown;
  path: string;
  type: "query";
  getRawInput: () => Promise<unknown>;
  signal: undefined;
  batchIndex: number;
}) => Promise<unknown>) & { _def: { type: string } };
const procedures = (appRouter as unknown as { _def: { procedures: Record<string, Procedure> } })._def.procedures;

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

function fastQueries(
  full: Handler,
  context: (req: IncomingMessage) => Promise<TrpcContext>,
  maxBatch: number,
): Handler {
  return async (req, res) => {
    if (req.method !== "GET") return full(req, res);
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
    let inputs: unknown[];
    try {
      const raw = query.get("input");
      const parsed: unknown = raw === null ? undefined : JSON.parse(raw);
      inputs = batch ? names.map((_, i) => (parsed as Record<string, unknown> | undefined)?.[i]) : [parsed];
    } catch {
      return full(req, res);
    }
    let results: unknown[];
    try {
      const ctx = await context(req);
      results = await Promise.all(
        names.map((path, i) =>
          procedures[path]!({
            ctx,
            path,
            type: "query",
            getRawInput: () => Promise.resolve(inputs[i]),
            signal: undefined,
            batchIndex: i,
          }),
        ),
      );
    } catch {
      return full(req, res);
    }
    const answers = results.map(answerJson);
    fastAnswers.count++;
    res.writeHead(200, { "content-type": "application/json", vary: "trpc-accept, accept" });
    res.end(batch ? `[${answers.join(",")}]` : answers[0]);
  };
}

/** Queries answered on the fast path (tests tell it from the official handler by this). */
export const fastAnswers = { count: 0 };

export function createTrpcHandler(opts: { fastQueries?: boolean } = {}): Handler {
  const e = env();
  const context = async (req: IncomingMessage): Promise<TrpcContext> => {
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
  return opts.fastQueries === false ? full : fastQueries(full, context, e.TRPC_MAX_BATCH);
}
