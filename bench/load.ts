// One measurement's load generator (autocannon) in a process of its own, started afresh for every
// row of the bench. In the bench's own process its speed depended on what ran there before: the
// same AUI page measured 6,200–8,100 req/s in runs of its rows alone and 4,300–4,800 at the end of
// a full run, with the front's CPU per answer unchanged (the generator, parsing 34 KiB answers, was
// the limit). Driven over IPC: the options in, the figures out.
import autocannon from "autocannon";

export interface LoadOptions {
  url: string;
  connections: number;
  duration: number;
  method: "GET" | "POST";
  path: string;
  headers?: Record<string, string>;
  /** Request bodies, sent in turn. */
  bodies?: string[];
}
export interface LoadResult {
  /** Requests a second (the average of autocannon's per-second samples). */
  rps: number;
  total: number;
  p50: number;
  p99: number;
  /** Non-2xx answers, errors and timeouts. */
  bad: number;
  /** 2xx answers, and the others. */
  ok: number;
  non2xx: number;
  /** Bytes received, headers included. */
  bytes: number;
}

process.once("message", (o: LoadOptions) => {
  let i = 0;
  void autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.duration,
    requests: [
      {
        method: o.method,
        path: o.path,
        headers: o.headers,
        setupRequest: (req) => (o.bodies ? { ...req, body: o.bodies[i++ % o.bodies.length] } : req),
      },
    ],
  }).then((r) => {
    const out: LoadResult = {
      rps: r.requests.average,
      total: r.requests.total,
      p50: r.latency.p50,
      p99: r.latency.p99,
      bad: r.non2xx + r.errors + r.timeouts,
      ok: r["2xx"],
      non2xx: r.non2xx,
      bytes: r.throughput.total,
    };
    process.send!(out, () => process.exit(0));
  });
});
