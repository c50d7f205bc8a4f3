"use client";
// One audit row as people read it: what happened (in words), to which room, by whom, when; the
// room and the actor link to the audit page filtered by them.
import Link from "next/link";
import { useLocale, useTranslations } from "next-intl";
import { fmtTime } from "@/lib/format";
import { ROOM_STATUSES, type RoomStatus } from "@/lib/domain";
import { useAuditWords, type AuditEntryLike } from "./useAuditWords";

export interface AuditItem extends AuditEntryLike {
  id: number;
  targetType: string;
  targetId: string;
  createdAt: Date | string;
  roomTitle: string | null;
  roomNum: number | null;
  detail: Record<string, unknown> | null;
}

const isStatus = (s: unknown): s is RoomStatus =>
  typeof s === "string" && (ROOM_STATUSES as readonly string[]).includes(s);

/** The room a row is about: its own target, or the room a recording row names. */
export function roomOf(a: AuditItem): string | undefined {
  if (a.targetType === "room") return a.targetId;
  if (typeof a.detail?.room === "string") return a.detail.room;
  return undefined;
}

export function AuditEntry({ a, compact = false }: { a: AuditItem; compact?: boolean }) {
  const t = useTranslations("audit");
  const ts = useTranslations("status");
  const locale = useLocale();
  const words = useAuditWords();
  const room = roomOf(a);
  const title = a.roomTitle ?? (typeof a.detail?.title === "string" ? a.detail.title : undefined);
  const from = a.detail?.from;
  const to = a.detail?.to;
  const actorFilter = a.actorKind === "system" ? a.actorId : a.actorName;
  return (
    <div className="flex min-w-0 flex-col gap-0.5" data-testid="audit-entry" data-action={a.action}>
      <div className="flex min-w-0 flex-wrap items-baseline gap-x-2">
        <span className="font-medium">{words.action(a.action)}</span>
        {isStatus(from) && isStatus(to) && from !== to && (
          <span className="text-xs text-slate-500">{t("toStatus", { from: ts(from), to: ts(to) })}</span>
        )}
        {room && (
          <Link
            href={`/admin/audit?room=${encodeURIComponent(room)}`}
            className="min-w-0 max-w-full truncate text-sm text-blue-700 hover:underline dark:text-blue-300"
            title={title ?? room}
          >
            {title ?? (a.roomNum ? `#${a.roomNum}` : t("roomGone"))}
          </Link>
        )}
      </div>
      <div className="flex flex-wrap gap-x-2 text-xs text-slate-500">
        {actorFilter && !compact ? (
          <Link href={`/admin/audit?actor=${encodeURIComponent(actorFilter)}`} className="hover:underline">
            {words.actor(a)}
          </Link>
        ) : (
          <span>{words.actor(a)}</span>
        )}
        <span>·</span>
        <time dateTime={new Date(a.createdAt).toISOString()}>{fmtTime(a.createdAt, locale)}</time>
      </div>
    </div>
  );
}
