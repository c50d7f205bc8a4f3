// The one place a room's grace is computed: how long a room paused by a lost stream waits for the
// stream to come back before it ends. Each room may set its own; null follows MEDIA_END_GRACE_S.
import { z } from "zod";
import { env } from "../env";

export const GRACE_MIN_S = 1;
export const GRACE_MAX_S = 3600;

/** A room's own grace: whole seconds within the bounds, or null for the instance default. */
export const graceInput = z.number().int().min(GRACE_MIN_S).max(GRACE_MAX_S).nullable();

/** The grace that applies to a room, in seconds. */
export const graceOf = (r: { graceS: number | null }) => r.graceS ?? env().MEDIA_END_GRACE_S;
