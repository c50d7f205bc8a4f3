// The co-host ("mic") state machine as data.
import type { MicState } from "../db/schema";

export const ACTIVE_MIC_STATES = ["pending", "approved", "on", "off"] as const satisfies readonly MicState[];
/** States that hold a seat. */
export const SEATED_MIC_STATES = ["approved", "on", "off"] as const satisfies readonly MicState[];
/** States listed in the room's meeting (AUI MeetingInfo): approved for the mic, or on it. */
export const MEETING_MIC_STATES = ["approved", "on"] as const satisfies readonly MicState[];

export const MIC_MOVES = {
  approve: { from: ["pending"], to: "approved" },
  reject: { from: ["pending"], to: "rejected" },
  cancel: { from: ["pending"], to: "cancelled" },
  on: { from: ["approved", "off"], to: "on" },
  off: { from: ["on"], to: "off" },
  end: { from: ["approved", "on", "off"], to: "ended" },
} as const satisfies Record<string, { from: readonly MicState[]; to: MicState }>;
export type MicMove = keyof typeof MIC_MOVES;
