// The 5,000 listening sockets of the room-events bench, in a process of their own (so their work
// does not slow the load generator measuring the hot paths beside them). Driven over IPC:
// {open: {url, count, addresses}} → {opened, refused}; {report: true} → {received, sentAt, latencies}
// (each delivery's send time and latency, in ms), and the sockets closed.
import WebSocket from "ws";

const sockets: WebSocket[] = [];
const latencies: number[] = [];
const sentAts: number[] = [];
let received = 0;

const CHAT = Buffer.from('"type":"chat"');
const MARK = Buffer.from("bench ");

// As cheap as a listener can be (these clients share the two cores with the server they measure):
// no UTF-8 validation, no decoding, the send time read from the bytes.
function onMessage(data: WebSocket.RawData) {
  const b = data as Buffer;
  if (b.indexOf(CHAT) < 0) return;
  let i = b.indexOf(MARK);
  if (i < 0) return;
  let sentAt = 0;
  for (i += MARK.length; i < b.length && b[i]! >= 48 && b[i]! <= 57; i++) sentAt = sentAt * 10 + b[i]! - 48;
  sentAts.push(sentAt);
  latencies.push(Date.now() - sentAt);
  received++;
}

async function open(url: string, count: number, addresses: number) {
  let refused = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const ws = new WebSocket(url, {
        localAddress: `127.0.0.${2 + (i % addresses)}`,
        perMessageDeflate: false,
        skipUTF8Validation: true,
      });
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
  // A round's report: what arrived, and every socket closed (the next round opens them anew).
  if (m.report) {
    process.send!({ received, sentAt: sentAts.splice(0), latencies: latencies.splice(0) });
    received = 0;
    for (const s of sockets.splice(0)) s.terminate();
  }
});
// In a session of its own (bench/sockets.ts): gone with the bench.
process.on("disconnect", () => process.exit(0));
