// The one place a room change becomes what its sockets hear: changeRoom (server/rooms/change.ts)
// passes every committed-to-be change here, whatever transport or media server made it.
import type { RoomRow } from "../rooms/find";
import { graceOf } from "../rooms/grace";
import { MANAGERS, type Audience, type RoomEventType } from "./types";
import type { WebhookEventType } from "../db/schema";

export interface EventDraft {
  type: RoomEventType;
  payload: Record<string, unknown>;
  audience: Audience;
}

/** When a paused room ends by itself: its stream went away and the grace runs out then. */
export function graceEndsAt(r: Pick<RoomRow, "status" | "autoPaused" | "pausedAt" | "graceS">): number | null {
  if (r.status !== "paused" || !r.autoPaused || !r.pausedAt) return null;
  return r.pausedAt.getTime() + graceOf(r) * 1000;
}

export const statusPayload = (r: RoomRow) => ({
  status: r.status,
  streamOnline: r.streamOnline,
  graceEndsAt: graceEndsAt(r),
});

export const roomPayload = (r: RoomRow) => ({
  title: r.title,
  notice: r.notice,
  chatSlowS: r.chatSlowS,
  guestChat: r.guestChat,
});

/** Co-host moves everybody may see (the co-host list changes); the rest go to the member and the managers. */
const PUBLIC_MIC_MOVES = new Set(["approve", "on", "off", "end", "update_meeting"]);

export function eventsOfChange(
  action: string,
  before: RoomRow,
  after: RoomRow | undefined,
  detail: Record<string, unknown> | undefined,
  result: unknown,
): EventDraft[] {
  const out: EventDraft[] = [];
  if (after) {
    const s0 = statusPayload(before);
    const s1 = statusPayload(after);
    if (s0.status !== s1.status || s0.streamOnline !== s1.streamOnline || s0.graceEndsAt !== s1.graceEndsAt)
      out.push({ type: "status", payload: s1, audience: "" });
    const r0 = roomPayload(before);
    const r1 = roomPayload(after);
    if ((Object.keys(r1) as (keyof typeof r1)[]).some((k) => r0[k] !== r1[k]))
      out.push({ type: "room", payload: r1, audience: "" });
  }
  if (action.startsWith("mic.")) {
    const move = action.slice(4);
    const view = (result ?? {}) as { userId?: string; state?: string; userNick?: string };
    const userId = typeof detail?.userId === "string" ? detail.userId : view.userId;
    if (move === "update_meeting")
      out.push({ type: "mic", payload: { move, members: detail?.members ?? [] }, audience: "" });
    else if (userId)
      out.push({
        type: "mic",
        payload: { move, userId, state: view.state ?? null, nick: view.userNick ?? "" },
        audience: PUBLIC_MIC_MOVES.has(move) ? "" : userId,
      });
  }
  if (action === "room.delete") out.push({ type: "deleted", payload: {}, audience: "" });
  if (action === "member.kick" && typeof detail?.memberId === "string")
    out.push({ type: "kicked", payload: { memberId: detail.memberId }, audience: "" });
  if (action === "chat.delete" && detail?.messageId !== undefined)
    out.push({ type: "chat.deleted", payload: { messageId: detail.messageId, by: detail.by ?? null }, audience: "" });
  if (action === "chat.mute" && typeof detail?.memberId === "string")
    out.push({
      type: "chat.muted",
      payload: { memberId: detail.memberId, nick: detail.nick ?? "", until: detail.until ?? null },
      // Everybody sees that a member was muted (chat shows it); only the member and managers learn until when.
      audience: "",
    });
  return out;
}

export { MANAGERS };

// ── What an app's webhooks hear of the same change (written with it: server/events/outbox.ts) ──

export interface AppEventDraft {
  type: WebhookEventType;
  data: Record<string, unknown>;
}

/** A room as webhook bodies carry it: what the app already knows of it, never keys. */
export const webhookRoom = (r: RoomRow) => ({
  id: r.id,
  num: r.num,
  title: r.title,
  status: r.status,
  hostId: r.hostId,
  hostNick: r.hostNick,
  streamOnline: r.streamOnline,
  createdAt: r.createdAt,
  startedAt: r.startedAt,
  pausedAt: r.pausedAt,
  stoppedAt: r.stoppedAt,
});

const STATUS_EVENTS: Partial<Record<RoomRow["status"], WebhookEventType>> = {
  live: "room.live",
  paused: "room.paused",
  ended: "room.ended",
};
const MIC_EVENTS: Record<string, WebhookEventType> = {
  request: "mic.requested",
  approve: "mic.approved",
  reject: "mic.rejected",
  end: "mic.ended",
};

/**
 * The webhook events of a room change. `cause` is the audited action that moved the room (a host's
 * `room.stop`, the media server's `room.stream_stop`, the grace timer's `room.stream_abandoned`, …).
 */
export function appEventsOfChange(
  action: string,
  before: RoomRow,
  after: RoomRow | undefined,
  detail: Record<string, unknown> | undefined,
  result: unknown,
): AppEventDraft[] {
  const out: AppEventDraft[] = [];
  const room = webhookRoom(after ?? before);
  const statusEvent = after && after.status !== before.status ? STATUS_EVENTS[after.status] : undefined;
  if (statusEvent) out.push({ type: statusEvent, data: { room, previousStatus: before.status, cause: action } });
  if (action === "room.delete") out.push({ type: "room.deleted", data: { room } });
  if (action === "member.kick" && typeof detail?.memberId === "string")
    out.push({ type: "member.kicked", data: { room, member: { id: detail.memberId } } });
  const micEvent = action.startsWith("mic.") ? MIC_EVENTS[action.slice(4)] : undefined;
  if (micEvent) {
    const view = (result ?? {}) as { userId?: string; state?: string; userNick?: string };
    const userId = typeof detail?.userId === "string" ? detail.userId : view.userId;
    if (userId)
      out.push({
        type: micEvent,
        data: { room, mic: { userId, state: view.state ?? null, nick: view.userNick ?? "" } },
      });
  }
  return out;
}
