// tRPC setup: context, the procedure ladder and the one mapping from AppError to tRPC errors.
// 1. context  2. error mapping  3. procedures (public → authed → role-gated inside the domain verbs)
import { initTRPC, TRPCError } from "@trpc/server";
import type { Ctx } from "../actor";
import { AppError, badInput, toAppError, trpcCodeOf } from "../errors";
import { log } from "../log";

// 1. The context is the domain's own (db, clock, actor): routers pass it straight to the verbs.
export type TrpcContext = Ctx;

const t = initTRPC.context<TrpcContext>().create({
  errorFormatter({ shape, error }) {
    const cause = error.cause;
    return {
      ...shape,
      data: {
        ...shape.data,
        stack: undefined,
        appCode: cause instanceof AppError ? cause.code : error.code,
        details: cause instanceof AppError ? cause.details : undefined,
      },
    };
  },
});

// 2. Domain errors become the matching tRPC code (and so HTTP status); anything unknown is logged
//    and answered as INTERNAL without its message.
const mapErrors = t.middleware(async ({ next, path }) => {
  const res = await next();
  if (res.ok) return res;
  const cause = res.error.cause;
  const issues = (cause as { issues?: unknown } | undefined)?.issues;
  if (res.error.code === "BAD_REQUEST" && Array.isArray(issues)) {
    const app = badInput(issues);
    throw new TRPCError({ code: "BAD_REQUEST", message: app.message, cause: app });
  }
  if (res.error.code !== "INTERNAL_SERVER_ERROR" && !(cause instanceof AppError)) return res;
  const app = toAppError(cause ?? res.error);
  if (app.code === "INTERNAL" || app.code === "UNAVAILABLE")
    log.error("procedure failed", { path, error: (cause as Error)?.message });
  throw new TRPCError({ code: trpcCodeOf(app.code), message: app.message, cause: app });
});

// 3. Procedures. Role and tenant rules live in the domain verbs (they serve every transport);
//    `authedProcedure` only turns away the anonymous early with one clear error.
export const router = t.router;
export const createCallerFactory = t.createCallerFactory;
export const publicProcedure = t.procedure.use(mapErrors);
export const authedProcedure = publicProcedure.use(({ ctx, next }) => {
  if (ctx.actor.kind === "anonymous")
    throw new TRPCError({
      code: "UNAUTHORIZED",
      message: "Sign in first",
      cause: new AppError("UNAUTHENTICATED", "Sign in first"),
    });
  return next();
});
