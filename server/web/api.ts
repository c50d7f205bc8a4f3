// onair's APIs on a raw request: tRPC, the five vendor adapters and their OpenAPI documents. The
// front process answers them itself (no hop through the web process, whose event loop renders the
// console); the web process mounts the same handler for requests that reach it directly.
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendError, sendJson } from "../http/io";
import { createTrpcHandler } from "./trpc";
import { createAuiHandler } from "../compat/aui";
import { createSxbHandler } from "../compat/sxb";
import { createLtHandler } from "../compat/ltstream";
import { createPolyvHandler } from "../compat/polyv";
import { createHaoshitongHandler } from "../compat/haoshitong";
import { OPENAPI } from "../compat/openapi";
import type { FastRoute } from "../front/fast";

/**
 * Answers the request and returns true if it is one of the APIs' paths; false leaves it alone.
 * `admit` is asked once the request is known to be the APIs' (the front's in-flight bound): when
 * it says no, it has answered, and the request is not handled.
 */
export type ApiHandler = ((
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  admit?: () => boolean,
) => boolean) & {
  /**
   * Requests the front may answer from the connection's bytes (server/front/fast.ts), by "METHOD
   * /path": the same answer as the handler's, or undefined for the handler to answer.
   */
  fast?: Record<string, FastRoute>;
};

export function createApiHandler(): ApiHandler {
  const trpc = createTrpcHandler();
  const aui = createAuiHandler();
  const sxb = createSxbHandler();
  const vendors = [aui, sxb, createLtHandler(), createPolyvHandler(), createHaoshitongHandler()];
  const handle: ApiHandler = (req, res, path, admit = () => true) => {
    if (path.startsWith("/api/trpc/")) {
      // A handler that throws must answer, not reject unhandled (which would end the process).
      if (admit())
        Promise.resolve(trpc(req, res)).catch((e: unknown) => (res.headersSent ? res.destroy() : sendError(res, e)));
      return true;
    }
    for (const v of vendors) if (v(req, res, admit)) return true;
    const spec = /^\/api\/openapi\/([a-z]+)\.json$/.exec(path);
    if (spec) {
      const d = OPENAPI[spec[1]!];
      if (admit())
        sendJson(res, d ? 200 : 404, d ?? { error: { code: "NOT_FOUND", message: "No such API description" } });
      return true;
    }
    return false;
  };
  return Object.assign(handle, { fast: { ...trpc.fast, ...aui.fast, ...sxb.fast } });
}
