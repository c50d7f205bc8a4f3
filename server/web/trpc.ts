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

/** Seconds a rate-limited call asks the client to wait (the largest among a batch's errors). */
function retryAfterOf(errors: TRPCError[]): number | undefined {
  let wait: number | undefined;
  for (const e of errors) {
    const s = e.cause instanceof AppError ? e.cause.details?.retryAfterS : undefined;
    if (typeof s === "number") wait = Math.max(wait ?? 0, s);
  }
  return wait;
}

export function createTrpcHandler(): (req: IncomingMessage, res: ServerResponse) => void | Promise<void> {
  const e = env();
  return createHTTPHandler({
    router: appRouter,
    basePath: "/api/trpc/",
    maxBodySize: e.MAX_BODY_BYTES,
    maxBatchSize: e.TRPC_MAX_BATCH,
    async createContext({ req }) {
      try {
        const actor = await actorFromHeaders(req.headers, systemClock.now());
        return { db: getDb(), clock: systemClock, actor, addr: clientAddress(req) };
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
}
