// Co-host changes in different rooms at the same moment: each room's row is its lock, and InnoDB's
// gap locks on mic_sessions (empty ranges locked, then inserted into) made two rooms' first changes
// deadlock; the victim is retried (server/actor.ts) instead of answering 500.
import { expect, it } from "vitest";
import { callerOf, ctxOf, makeTenant, uniq } from "../../test/helpers";
import { updateMeetingInfo } from ".";

it("first meeting updates of many rooms at once all succeed", async () => {
  const t = await makeTenant();
  const host = callerOf(t.host);
  const rooms = await Promise.all(
    Array.from({ length: 12 }, async () => {
      const r = await host.rooms.create({ title: uniq("meeting") });
      await host.rooms.start({ room: r.id });
      return r;
    }),
  );
  const member = (user_id: string) => ({
    user_id,
    user_nick: "n",
    user_avatar: "",
    camera_opened: true,
    mic_opened: true,
    rtc_pull_url: "artc://x",
  });
  for (let round = 0; round < 3; round++) {
    const out = await Promise.allSettled(
      rooms.map((r) =>
        updateMeetingInfo(ctxOf(t.host), {
          room: r.id,
          members: round === 1 ? [member(t.host.userId)] : [member(t.host.userId), member(t.viewer.userId)],
        }),
      ),
    );
    // With the driver's own error (its errno, e.g. 1213 for a deadlock), which the ORM's message leaves out.
    const failed = out
      .filter((o) => o.status === "rejected")
      .map((o) => `${String(o.reason)} (cause: ${String((o.reason as { cause?: unknown }).cause)})`);
    expect(failed).toEqual([]);
  }
});
