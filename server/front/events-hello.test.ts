// What hello says is at least as new as the event id it starts from. A socket's room is looked up
// when it connects; if hello then carried that look-up's state with a newer lastId, a change
// committed in between (the stream coming up while the hub started) was in neither hello nor the
// events after it, and the viewer saw "starting soon" until the page's next poll. The hub here is
// held at its start, the change is made meanwhile, and hello (or the socket's close) must say so.
import http from "node:http";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { getDb } from "../db/client";
import { systemClock } from "../clock";
import { EventHub } from "../events/hub";
import { PresenceBuffer } from "../presence/buffer";
import { streamStarted } from "../media/streams";
import { callerOf, makeTenant, uniq, type Tenant } from "../../test/helpers";
import { freePort } from "../../test/process";
import { openEvents, type EventClient } from "../../test/ws";
import { createRoomEvents } from "./events";

class HeldHub extends EventHub {
  release!: () => void;
  private held = new Promise<void>((r) => (this.release = r));
  override async start() {
    await this.held;
    return super.start();
  }
}

let t: Tenant;
const cleanups: Array<() => Promise<void> | void> = [];
beforeAll(async () => {
  t = await makeTenant();
});
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Room events on a server of this process whose hub waits until `hub.release()`. */
async function heldFront() {
  const hub = new HeldHub(getDb(), { pollMs: 100 });
  const events = createRoomEvents({ clock: systemClock, buffer: new PresenceBuffer(), hub });
  const server = http.createServer((_req, res) => res.end());
  server.on("upgrade", (req, socket, head) =>
    events.upgrade(req, socket, head, new URL(req.url ?? "/", "http://x").searchParams),
  );
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
  const opened: EventClient[] = [];
  cleanups.push(async () => {
    for (const c of opened) c.ws.terminate();
    events.close();
    await new Promise((r) => server.close(r));
  });
  return {
    hub,
    /** A socket that is up with its room looked up, waiting for the hub. */
    async connect(room: string, token: string) {
      const c = await openEvents(`ws://127.0.0.1:${port}/api/rooms/events?room=${room}&token=${token}`);
      opened.push(c);
      await new Promise((res) => setTimeout(res, 200));
      expect(c.frames).toHaveLength(0);
      return c;
    },
  };
}

async function liveRoom() {
  const host = callerOf(t.host);
  const r = await host.rooms.create({ title: uniq("hello") });
  await host.rooms.start({ room: r.id });
  const room = await host.rooms.get({ room: r.id });
  const { presenceToken, memberId } = await callerOf(t.viewer).presence.join({ room: r.id });
  return { room, token: presenceToken, memberId };
}

describe("hello", () => {
  it("reflects a change committed while the socket was being set up", async () => {
    const f = await heldFront();
    const { room, token } = await liveRoom();
    expect(room.streamOnline).toBe(false);
    const c = await f.connect(room.id, token);
    // The encoder connects now.
    await streamStarted(getDb(), systemClock, room.streamName, "test-client", { trusted: true });
    f.hub.release();
    const hello = await c.next((x) => x.type === "hello");
    const said = hello.streamOnline
      ? true
      : (await c.next((x) => x.type === "status", 2000).catch(() => undefined))?.streamOnline;
    expect(said).toBe(true);
  });

  it("a kick or a deletion meanwhile closes the socket as one", async () => {
    const f = await heldFront();
    const kicked = await liveRoom();
    const deleted = await liveRoom();
    const a = await f.connect(kicked.room.id, kicked.token);
    const b = await f.connect(deleted.room.id, deleted.token);
    await callerOf(t.host).presence.kick({ room: kicked.room.id, memberId: kicked.memberId });
    await callerOf(t.host).rooms.delete({ room: deleted.room.id });
    f.hub.release();
    expect((await a.closed).code).toBe(4403);
    expect((await b.closed).code).toBe(4404);
  });
});
