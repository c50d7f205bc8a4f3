// The room lifecycle as data: prepare → live ⇄ paused → ended.
import type { RoomStatus } from "../db/schema";

export const ROOM_ACTIONS = ["start", "pause", "resume", "stop"] as const;
export type RoomAction = (typeof ROOM_ACTIONS)[number];

/** Which statuses each action may leave from, and where it goes. */
export const TRANSITIONS: Record<RoomAction, { from: readonly RoomStatus[]; to: RoomStatus }> = {
  start: { from: ["prepare", "paused"], to: "live" },
  resume: { from: ["paused"], to: "live" },
  pause: { from: ["live"], to: "paused" },
  stop: { from: ["prepare", "live", "paused"], to: "ended" },
};

/**
 * The seeds' integer codes: 0 prepare, 1 live, 2 ended. Paused answers 0, as the AUI reference
 * AppServer's pause does (clients show "not started"); the string status tells paused apart.
 */
export const STATUS_CODE: Record<RoomStatus, 0 | 1 | 2> = { prepare: 0, live: 1, paused: 0, ended: 2 };
