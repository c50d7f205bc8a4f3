// A room-events client for tests: a WebSocket that keeps every frame it received, waits for one
// matching a predicate, and reports how it closed.
import WebSocket from "ws";

export type Frame = { type: string; id?: number; [k: string]: unknown };

export interface EventClient {
  ws: WebSocket;
  frames: Frame[];
  next(pred: (f: Frame) => boolean, ms?: number): Promise<Frame>;
  send(body: unknown): void;
  closed: Promise<{ code: number; reason: string }>;
  close(): void;
}

export function openEvents(
  url: string,
  headers: Record<string, string> = {},
  opts: { localAddress?: string } = {},
): Promise<EventClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...opts });
    const frames: Frame[] = [];
    const waiters = new Set<{ pred: (f: Frame) => boolean; done: (f: Frame) => void }>();
    const closed = new Promise<{ code: number; reason: string }>((r) =>
      ws.on("close", (code, reason) => r({ code, reason: reason.toString() })),
    );
    ws.on("message", (data) => {
      const f = JSON.parse(Buffer.from(data as Buffer).toString("utf8")) as Frame;
      frames.push(f);
      for (const w of [...waiters])
        if (w.pred(f)) {
          waiters.delete(w);
          w.done(f);
        }
    });
    ws.once("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () =>
        reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })),
      );
    });
    ws.once("error", reject);
    ws.once("open", () =>
      resolve({
        ws,
        frames,
        next(pred, ms = 3000) {
          const seen = frames.find(pred);
          if (seen) return Promise.resolve(seen);
          return new Promise((res, rej) => {
            const w = { pred, done: (f: Frame) => (clearTimeout(timer), res(f)) };
            const timer = setTimeout(() => {
              waiters.delete(w);
              rej(new Error(`no matching frame within ${ms} ms; got ${JSON.stringify(frames.slice(-5))}`));
            }, ms);
            waiters.add(w);
          });
        },
        send: (body) => ws.send(typeof body === "string" ? body : JSON.stringify(body)),
        closed,
        close: () => ws.close(),
      }),
    );
  });
}
