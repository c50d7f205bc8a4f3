// Small helpers for the plain node:http endpoints: bounded body reading and JSON answers.
import type { IncomingMessage, ServerResponse } from "node:http";
import { AppError, errorBody, toAppError } from "../errors";
import { answerWritten, takeAnswerBuffer } from "./answer-buffers";

export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers["content-length"] ?? 0);
    if (declared > limit) {
      req.resume();
      return reject(new AppError("PAYLOAD_TOO_LARGE", `Body larger than ${limit} bytes`));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners("data");
        req.resume();
        reject(new AppError("PAYLOAD_TOO_LARGE", `Body larger than ${limit} bytes`));
        return;
      }
      chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

export async function readJson(req: IncomingMessage, limit: number): Promise<unknown> {
  const text = await readBody(req, limit);
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError("BAD_REQUEST", "Body is not valid JSON");
  }
}

/**
 * An answer already serialised (put together from shared bytes, e.g. AUI's RoomInfo pages): sent
 * as these bytes, not stringified again. Its bytes may be a pooled answer buffer
 * (server/http/answer-buffers.ts), given back once written: send a JsonText once, and keep nothing of it.
 */
export class JsonText {
  constructor(readonly bytes: Buffer) {}
  get text() {
    return this.bytes.toString("utf8");
  }
}

function encoded(text: string): Buffer {
  const out = takeAnswerBuffer(Buffer.byteLength(text));
  out.write(text);
  return out;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: Record<string, string>) {
  const text = body instanceof JsonText ? undefined : JSON.stringify(body);
  // A long answer is encoded once (measuring its length and writing it would each encode it), into
  // a buffer used again once written (server/http/answer-buffers.ts).
  const s = text === undefined ? (body as JsonText).bytes : text.length > 4096 ? encoded(text) : text;
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(s),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(s, () => answerWritten(s));
}

export function sendError(res: ServerResponse, err: unknown) {
  const e = toAppError(err);
  if (!res.headersSent) sendJson(res, e.httpStatus, errorBody(e));
  else res.destroy();
}

/**
 * Answers `err` (with `connection: close`) to a request whose body will not be used, once the client
 * has sent the rest of it (read and dropped, for at most `lingerMs`). Closing while a client is still
 * sending resets the connection, and clients then report the reset instead of the answer.
 */
export function refuseBody(req: IncomingMessage, res: ServerResponse, err: unknown, lingerMs = 5000) {
  const answer = () => {
    clearTimeout(timer);
    if (res.headersSent || res.destroyed) return;
    res.setHeader("connection", "close");
    sendError(res, err);
  };
  const timer = setTimeout(answer, lingerMs);
  if (req.complete) return answer();
  req.on("end", answer);
  req.on("close", () => clearTimeout(timer));
  req.resume();
}

export { badInput } from "../errors";
