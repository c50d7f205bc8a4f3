// The 5,000 listening sockets of the room-events bench, in a process of their own (so their work
// does not slow the load generator measuring the hot paths beside them). Driven over IPC:
// {open: {url, count, addresses}} → {opened, refused}; {report: true} → {received, latencies}.
import WebSocket from "ws";

const sockets: WebSocket[] = [];
const latencies: number[] = [];
let received = 0;

function onMessage(data: WebSocket.RawData) {
  const text = Buffer.from(data as Buffer).toString("utf8");
  if (!text.includes('"type":"chat"')) return;
  const m = /bench (\d+)/.exec(text);
  if (!m) return;
  latencies.push(Date.now() - Number(m[1]));
  received++;
}

async function open(url: string, count: number, addresses: number) {
  let refused = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url, { localAddress: `127.0.0.${2 + (i % addresses)}`, perMessageDeflate: false });
      ws.on("message", onMessage);
      ws.once("open", () => (sockets.push(ws), resolve()));
      ws.once("error", () => (refused++, resolve()));
    });
  for (let i = 0; i < count; i += 100)
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, j) => one(i + j)));
  return { opened: sockets.length, refused };
}

process.on("message", (m: { open?: { url: string; count: number; addresses: number }; report?: boolean }) => {
  if (m.open) void open(m.open.url, m.open.count, m.open.addresses).then((r) => process.send!(r));
  if (m.report) {
    process.send!({ received, latencies });
    for (const s of sockets) s.terminate();
    setTimeout(() => process.exit(0), 200);
  }
});
