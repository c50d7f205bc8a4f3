// Chat in a room: send (length, rate, slow mode, mutes, the app's word filter, guests only where the
// room allows them), history on join, and the host's and admins' moderation (delete for everyone,
// mute for N minutes; a ban is a kick: server/presence). Messages are stored with who removed what.
import { and, asc, desc, eq, gt, gte, isNull, lt, lte, or } from "drizzle-orm";
import { z } from "zod";
import { dbOf, type Ctx } from "../actor";
import { appRow } from "../apps";
import type { DbOrTx } from "../db/client";
import { CHAT_ADMIN_ROLE, chatMessages, MEMBER_ROLE, roomMembers, type ChatMessageRow } from "../db/schema";
import { env } from "../env";
import { AppError, forbidden, notFound } from "../errors";
import { emitRoomEvent, withEvents } from "../events/outbox";
import { assertNotEnded, canManageRoom, findRoom, roomRef, type RoomRow } from "../rooms";
import { changeRoom, managed } from "../rooms/change";

export const HISTORY_ON_JOIN = 50;

/** Who is sending: resolved by the transport from a presence token or a console session, never from the body. */
export interface Chatter {
  memberId: string;
  nick: string;
  /** 1 host, 2 co-host, 0 viewer, 3 an admin of the app (server/db/schema/chat.ts). */
  role: number;
  /** The room's host or an admin of its app: moderates, and is not held to slow mode. */
  manager: boolean;
  guest: boolean;
}

export const chatNick = z.string().trim().min(1).max(32);
export const chatSendInput = z.object({
  text: z.string().max(4000),
  /** A guest's display name (rooms that let guests chat). */
  nick: chatNick.optional(),
});
export const chatHistoryInput = z.object({
  room: roomRef,
  /** Messages older than this id (paging back). */
  before: z.number().int().positive().optional(),
  limit: z.number().int().min(1).max(200).default(HISTORY_ON_JOIN),
});
export const chatDeleteInput = z.object({ room: roomRef, messageId: z.number().int().positive() });
export const chatMuteInput = z.object({
  room: roomRef,
  memberId: z.string().min(1).max(72),
  /** 0 lifts a mute. */
  minutes: z
    .number()
    .int()
    .min(0)
    .max(7 * 24 * 60),
});

export type ChatMessageView = {
  id: number;
  memberId: string;
  nick: string;
  role: number;
  text: string;
  at: number;
  /** Moderators' view only: removed messages, with when and by whom. */
  deletedAt?: number;
  deletedBy?: string | null;
};

export function chatView(m: ChatMessageRow, moderator: boolean): ChatMessageView {
  const v: ChatMessageView = {
    id: Number(m.id),
    memberId: m.memberId,
    nick: m.nick,
    role: m.role,
    text: m.text,
    at: m.createdAt.getTime(),
  };
  if (moderator && m.deletedAt) {
    v.deletedAt = m.deletedAt.getTime();
    v.deletedBy = m.deletedBy;
  }
  return v;
}

// C0/C1 controls and bidi overrides (a message must not reorder or hide the ones around it);
// newlines and tabs are kept.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** The text as stored: normalised, without control characters, at most CHAT_MAX_CHARS characters. */
export function cleanChatText(raw: string): string {
  const text = raw
    .normalize("NFC")
    .replace(UNSAFE, "")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  if (!text) throw new AppError("BAD_REQUEST", "A message needs some text", { fields: { text: "empty" } });
  const max = env().CHAT_MAX_CHARS;
  // Characters as people count them: an emoji or a CJK character is one (code points, not UTF-16 units).
  if ([...text].length > max)
    throw new AppError("BAD_REQUEST", `A message has at most ${max} characters`, { fields: { text: "too_long" }, max });
  return text;
}

/** The first word of the app's filter the text holds (case-insensitive), if any. */
export function filteredWord(text: string, words: string): string | undefined {
  const lower = text.toLocaleLowerCase();
  for (const w of words.split("\n")) {
    const word = w.trim().toLocaleLowerCase();
    if (word && lower.includes(word)) return word;
  }
  return undefined;
}

async function memberRow(db: DbOrTx, roomNum: number, memberId: string) {
  return (
    await db
      .select({ kickedAt: roomMembers.kickedAt, mutedUntil: roomMembers.mutedUntil, nick: roomMembers.nick })
      .from(roomMembers)
      .where(and(eq(roomMembers.roomNum, roomNum), eq(roomMembers.memberId, memberId)))
  )[0];
}

/** Sends a message; its event reaches the room's sockets once stored. */
export async function sendChat(
  db: DbOrTx,
  room: RoomRow,
  who: Chatter,
  input: z.infer<typeof chatSendInput>,
  now: Date,
): Promise<ChatMessageView> {
  assertNotEnded(room, "This room has ended: its chat is closed");
  const text = cleanChatText(input.text);
  let nick = who.nick;
  if (who.guest) {
    if (!room.guestChat) throw new AppError("UNAUTHENTICATED", "Sign in to chat in this room");
    const given = chatNick.safeParse(input.nick ?? who.nick);
    if (!given.success) throw new AppError("BAD_REQUEST", "Choose a nick to chat", { fields: { nick: "required" } });
    nick = given.data;
  }
  const e = env();
  const [member, recent, app] = await Promise.all([
    memberRow(db, room.num, who.memberId),
    db
      .select({ createdAt: chatMessages.createdAt })
      .from(chatMessages)
      .where(and(eq(chatMessages.roomNum, room.num), eq(chatMessages.memberId, who.memberId)))
      .orderBy(desc(chatMessages.id))
      .limit(e.CHAT_RATE_COUNT),
    appRow(db, room.appId),
  ]);
  if (member?.kickedAt) throw forbidden("You were removed from this room");
  if (!who.manager && member?.mutedUntil && member.mutedUntil > now)
    throw new AppError("CHAT_MUTED", "You are muted in this chat", { until: member.mutedUntil.getTime() });
  const word = app ? filteredWord(text, app.chatWords) : undefined;
  if (word) throw new AppError("CHAT_FILTERED", "This message holds a word this chat does not allow");
  const windowStart = now.getTime() - e.CHAT_RATE_WINDOW_S * 1000;
  const oldest = recent[e.CHAT_RATE_COUNT - 1];
  if (oldest && oldest.createdAt.getTime() > windowStart) {
    const retryAfterS = Math.max(1, Math.ceil((oldest.createdAt.getTime() - windowStart) / 1000));
    throw new AppError("TOO_MANY_REQUESTS", `At most ${e.CHAT_RATE_COUNT} messages in ${e.CHAT_RATE_WINDOW_S} s`, {
      retryAfterS,
    });
  }
  const last = recent[0];
  if (!who.manager && room.chatSlowS > 0 && last && now.getTime() - last.createdAt.getTime() < room.chatSlowS * 1000) {
    const retryAfterS = Math.ceil((last.createdAt.getTime() + room.chatSlowS * 1000 - now.getTime()) / 1000);
    throw new AppError("CHAT_SLOW_MODE", `Slow mode: one message every ${room.chatSlowS} s`, { retryAfterS });
  }
  return withEvents(db, async (tx) => {
    const row = {
      roomNum: room.num,
      appId: room.appId,
      memberId: who.memberId,
      nick: nick.slice(0, 64),
      role: who.role,
      text,
      createdAt: now,
    };
    const [res] = await tx.insert(chatMessages).values(row);
    const view = chatView({ ...row, id: Number(res.insertId), deletedAt: null, deletedBy: null }, false);
    await emitRoomEvent(tx, room.num, "chat", { message: view }, now);
    return view;
  });
}

/** A room's latest messages, oldest first; moderators also see removed ones (marked). */
export async function chatHistory(
  db: DbOrTx,
  room: Pick<RoomRow, "num">,
  opts: { moderator: boolean; before?: number; limit?: number },
): Promise<ChatMessageView[]> {
  const rows = await db
    .select()
    .from(chatMessages)
    .where(
      and(
        eq(chatMessages.roomNum, room.num),
        opts.before ? lt(chatMessages.id, opts.before) : undefined,
        // Viewers' history leaves removed messages out; the index (room_num, id) still orders it.
        opts.moderator ? undefined : isNull(chatMessages.deletedAt),
      ),
    )
    .orderBy(desc(chatMessages.id))
    .limit(opts.limit ?? HISTORY_ON_JOIN);
  return rows.reverse().map((m) => chatView(m, opts.moderator));
}

/** Messages of a replay's chat page (server/media/access.ts). */
export const REPLAY_CHAT_PAGE = 200;

/**
 * A room's messages sent from `from` to `to` (inclusive), oldest first, after the message `after`
 * (its time and id), removed ones left out: a recording's chat. Read along (room_num, created_at, id).
 */
export async function chatDuring(
  db: DbOrTx,
  room: Pick<RoomRow, "num">,
  opts: { from: Date; to: Date; after?: { at: number; id: number }; limit: number },
): Promise<ChatMessageView[]> {
  const after = opts.after;
  const rows = await db
    .select()
    .from(chatMessages)
    .where(
      and(
        eq(chatMessages.roomNum, room.num),
        gte(chatMessages.createdAt, opts.from),
        lte(chatMessages.createdAt, opts.to),
        after
          ? or(
              gt(chatMessages.createdAt, new Date(after.at)),
              and(eq(chatMessages.createdAt, new Date(after.at)), gt(chatMessages.id, after.id)),
            )
          : undefined,
        isNull(chatMessages.deletedAt),
      ),
    )
    .orderBy(asc(chatMessages.createdAt), asc(chatMessages.id))
    .limit(opts.limit);
  return rows.map((m) => chatView(m, false));
}

/** The chat log for the console (members of the room's app; moderators see removed messages). */
export async function listChat(ctx: Ctx, input: z.infer<typeof chatHistoryInput>) {
  const db = dbOf(ctx);
  if (ctx.actor.kind !== "user") throw new AppError("UNAUTHENTICATED", "Sign in first");
  const room = await findRoom(db, ctx.actor, input.room);
  const moderator = canManageRoom(ctx.actor, room);
  return { items: await chatHistory(db, room, { moderator, before: input.before, limit: input.limit }), moderator };
}

/** The host or an admin removes a message for everyone (it stays stored, marked, for moderators). */
export async function deleteChat(ctx: Ctx, input: z.infer<typeof chatDeleteInput>) {
  return changeRoom(ctx, managed(input.room), "chat.delete", async (tx, room, now) => {
    const by = ctx.actor.kind === "user" ? ctx.actor.userId : null;
    const msg = (
      await tx
        .select()
        .from(chatMessages)
        .where(and(eq(chatMessages.id, input.messageId), eq(chatMessages.roomNum, room.num)))
        .for("update")
    )[0];
    if (!msg) throw notFound("Message");
    if (msg.deletedAt) return { result: { ok: true as const }, audit: false };
    await tx.update(chatMessages).set({ deletedAt: now, deletedBy: by }).where(eq(chatMessages.id, msg.id));
    return {
      result: { ok: true as const },
      detail: { messageId: Number(msg.id), by, memberId: msg.memberId, text: msg.text },
    };
  });
}

/** The host or an admin mutes a member of the room for N minutes (0 lifts it). */
export async function muteChat(ctx: Ctx, input: z.infer<typeof chatMuteInput>) {
  return changeRoom(ctx, managed(input.room), "chat.mute", async (tx, room, now) => {
    if (input.memberId === room.hostId) throw new AppError("BAD_REQUEST", "The host cannot be muted in their own room");
    const where = and(eq(roomMembers.roomNum, room.num), eq(roomMembers.memberId, input.memberId));
    const found = await tx
      .select({ role: roomMembers.role, nick: roomMembers.nick })
      .from(roomMembers)
      .where(where)
      .for("update");
    if (!found[0]) throw notFound("Member");
    const until = input.minutes ? new Date(now.getTime() + input.minutes * 60_000) : null;
    await tx.update(roomMembers).set({ mutedUntil: until }).where(where);
    return {
      result: { ok: true as const, until: until?.getTime() ?? null },
      detail: {
        memberId: input.memberId,
        nick: found[0].nick,
        until: until?.getTime() ?? null,
        minutes: input.minutes,
      },
    };
  });
}

/** The role a chatter shows with: the room's host 1, a co-host 2, an admin 3, else 0. */
export function chatRole(room: Pick<RoomRow, "hostId">, memberId: string, memberRole: number, admin: boolean) {
  if (memberId === room.hostId) return MEMBER_ROLE.host;
  if (admin) return CHAT_ADMIN_ROLE;
  return memberRole === MEMBER_ROLE.cohost ? MEMBER_ROLE.cohost : MEMBER_ROLE.viewer;
}
