// What a room's event stream carries. Events with an id are stored (room_events) and resumable;
// figures are derived from room_figures once a second and carry none.
export type Audience = "" | "@managers" | (string & {});
export const MANAGERS: Audience = "@managers";

export interface RoomEvent {
  /** room_events.id: the resume point (SSE Last-Event-ID, the socket's `since`). */
  id: number;
  roomNum: number;
  type: RoomEventType;
  /** "" everybody in the room; "@managers" the host and admins; else one member id (and the managers). */
  audience: Audience;
  payload: Record<string, unknown>;
  at: number;
}

export const ROOM_EVENT_TYPES = [
  "status", // {status, streamOnline, graceEndsAt}
  "room", // {title, notice, chatSlowS, guestChat}
  "mic", // {move, userId, state, nick}
  "kicked", // {memberId}
  "chat", // {message}
  "chat.deleted", // {messageId, by}
  "chat.muted", // {memberId, nick, until}
  "deleted", // {} the room is gone: sockets close with 4404
  "publish.refused", // {id, reason, via, addr, count, firstAt, lastAt} managers only (server/media/refusals.ts)
] as const;
export type RoomEventType = (typeof ROOM_EVENT_TYPES)[number];

/** Whether a socket of this member (a manager of the room or not) receives the event. */
export function reaches(audience: Audience, memberId: string | undefined, manager: boolean): boolean {
  if (audience === "") return true;
  if (manager) return true;
  return audience !== MANAGERS && audience === memberId;
}
