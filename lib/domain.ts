// The domain's enumerations, in one dependency-free module: the database schema, the domain verbs
// and the console's pages all import them from here, so a list is written (and ordered) once.

/** Console and API roles. */
export const ROLES = ["admin", "host", "viewer"] as const;
export type Role = (typeof ROLES)[number];

/** What a revocation row names: one session, every token of a user, a member of one room, or a whole app. */
export const REVOCATION_KINDS = ["session", "user", "member", "app"] as const;
export type RevocationKind = (typeof REVOCATION_KINDS)[number];

/** How an app's push and pull URLs are signed (onair's own keys, or a vendor's scheme). */
export const SIGN_SCHEMES = ["onair", "aliyun_a", "tencent", "nms"] as const;
export type SignScheme = (typeof SIGN_SCHEMES)[number];

/** Roles a self-registration through a vendor API may get (a per-app choice; never admin). */
export const SIGNUP_ROLES = ["viewer", "host"] as const;
export type SignupRole = (typeof SIGNUP_ROLES)[number];

export const RECORDING_STATUSES = ["processing", "ready", "failed"] as const;
export type RecordingStatus = (typeof RECORDING_STATUSES)[number];

/** The room lifecycle: prepare → live ⇄ paused → ended. */
export const ROOM_STATUSES = ["prepare", "live", "paused", "ended"] as const;
export type RoomStatus = (typeof ROOM_STATUSES)[number];

/** A member's role inside a room, as the seeds number it. */
export const MEMBER_ROLE = { viewer: 0, host: 1, cohost: 2 } as const;

/** The co-host ("mic") request lifecycle. */
export const MIC_STATES = ["pending", "approved", "rejected", "on", "off", "ended", "expired", "cancelled"] as const;
export type MicState = (typeof MIC_STATES)[number];

export const MIX_STATES = ["running", "stopped", "failed"] as const;

/**
 * What an app's webhook endpoints may subscribe to (README "Webhooks"). Room events follow the room's
 * status; mic events the co-host machine; recording events the media side's record-done.
 */
export const WEBHOOK_EVENT_TYPES = [
  "room.created",
  "room.live",
  "room.paused",
  "room.ended",
  "room.deleted",
  "member.kicked",
  "mic.requested",
  "mic.approved",
  "mic.rejected",
  "mic.ended",
  "recording.ready",
  "recording.failed",
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** A delivery waits (and is retried) while pending; it ends delivered, or failed after the retry window. */
export const WEBHOOK_DELIVERY_STATUSES = ["pending", "delivered", "failed"] as const;
export type WebhookDeliveryStatus = (typeof WEBHOOK_DELIVERY_STATUSES)[number];
