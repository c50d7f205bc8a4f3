"use client";
// A room's chat: the live messages, a box to send (with the server's reason when it refuses), and
// for the host and admins the moderation of each message: remove for everyone, mute, ban.
import { useEffect, useRef, useState } from "react";
import { useMutation } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";
import { ChatError, type ChatMessage, type useRoomEvents } from "./useRoomEvents";

type Live = ReturnType<typeof useRoomEvents>;

const ROLE_LABEL: Record<number, "roleHost" | "roleCohost" | "roleAdmin" | undefined> = {
  1: "roleHost",
  2: "roleCohost",
  3: "roleAdmin",
};

/** One message: its time (or `stamp`, a replay's offset), who sent it, and the moderators' actions. */
export function Message({
  m,
  moderate,
  onDelete,
  onMute,
  onBan,
  stamp,
}: {
  m: ChatMessage;
  moderate: boolean;
  onDelete?: () => void;
  onMute?: (minutes: number) => void;
  onBan?: () => void;
  stamp?: string;
}) {
  const t = useTranslations("chat");
  const locale = useLocale();
  const role = ROLE_LABEL[m.role];
  const removed = m.deletedAt !== undefined;
  return (
    <li
      className="group py-1 text-sm"
      data-testid="chat-message"
      data-message-id={m.id}
      data-removed={removed || undefined}
    >
      <span className="mr-1 text-xs text-slate-400">
        {stamp ?? new Date(m.at).toLocaleTimeString(locale, { hour: "2-digit", minute: "2-digit" })}
      </span>
      <span className="mr-1 font-medium text-slate-700 dark:text-slate-200">
        {m.nick || (m.memberId.startsWith("guest:") ? t("guest") : m.memberId.slice(0, 8))}
      </span>
      {role && (
        <span className="mr-1 rounded bg-slate-100 px-1 text-xs text-slate-600 dark:bg-slate-800">{t(role)}</span>
      )}
      <span
        className={`whitespace-pre-wrap break-words [overflow-wrap:anywhere] ${removed ? "text-slate-400 line-through" : ""}`}
      >
        {m.text}
      </span>
      {removed && <span className="ml-1 text-xs text-red-600">{t("removed")}</span>}
      {moderate && !removed && (
        <span className="ml-2 inline-flex gap-1 opacity-60 group-hover:opacity-100">
          <button
            type="button"
            className="text-xs text-red-600 hover:underline"
            onClick={onDelete}
            data-testid="chat-delete"
          >
            {t("delete")}
          </button>
          {m.role !== 1 && m.role !== 3 && (
            <>
              <button
                type="button"
                className="text-xs text-slate-600 hover:underline"
                onClick={() => onMute?.(10)}
                data-testid="chat-mute"
              >
                {t("mute10")}
              </button>
              <button
                type="button"
                className="text-xs text-slate-600 hover:underline"
                onClick={onBan}
                data-testid="chat-ban"
              >
                {t("ban")}
              </button>
            </>
          )}
        </span>
      )}
    </li>
  );
}

export function ChatPanel({ room, live, className }: { room: string | number; live: Live; className?: string }) {
  const t = useTranslations("chat");
  const trpc = useTRPC();
  const toast = useToast();
  const err = useErrorText();
  const locale = useLocale();
  const [text, setText] = useState("");
  const [nick, setNick] = useState("");
  const [problem, setProblem] = useState<string>();
  const [sending, setSending] = useState(false);
  const list = useRef<HTMLUListElement>(null);
  const onError = (e: unknown) => toast("error", err(e));
  const del = useMutation(trpc.chat.delete.mutationOptions({ onError }));
  const mute = useMutation(trpc.chat.mute.mutationOptions({ onError, onSuccess: () => toast("success", t("muted")) }));
  const ban = useMutation(
    trpc.presence.kick.mutationOptions({ onError, onSuccess: () => toast("success", t("banned")) }),
  );
  const moderate = !!live.me?.manager;
  const roomRef = room;

  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [live.messages.length]);

  const explain = (e: ChatError) => {
    const d = e.details ?? {};
    if (e.code === "CHAT_MUTED") return t("errMuted", { until: new Date(Number(d.until)).toLocaleTimeString(locale) });
    if (e.code === "CHAT_SLOW_MODE") return t("errSlow", { s: Number(d.retryAfterS ?? 1) });
    if (e.code === "TOO_MANY_REQUESTS") return t("errRate", { s: Number(d.retryAfterS ?? 1) });
    if (e.code === "CHAT_FILTERED") return t("errFiltered");
    if (e.code === "UNAUTHENTICATED") return t("errSignIn");
    if (e.code === "BAD_REQUEST" && d.max) return t("errTooLong", { max: Number(d.max) });
    if (e.code === "BAD_REQUEST" && (d.fields as Record<string, string> | undefined)?.nick) return t("errNick");
    if (e.code === "FORBIDDEN") return t("errRemoved");
    return e.message;
  };

  const submit = async () => {
    if (!text.trim() || sending) return;
    setSending(true);
    setProblem(undefined);
    try {
      await live.send(text, live.me?.guest ? nick : undefined);
      setText("");
    } catch (e) {
      setProblem(e instanceof ChatError ? explain(e) : String(e));
    } finally {
      setSending(false);
    }
  };

  const mutedNow = live.mutedUntil !== null;
  // An ended room's chat is closed (the server refuses it): its log stays readable.
  const closed = live.status?.status === "ended";
  const canChat = !!live.me?.canChat && !live.kicked && !closed;
  return (
    <section
      className={`flex min-h-0 flex-col rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 ${className ?? ""}`}
      aria-label={t("title")}
      data-testid="chat"
      data-transport={live.transport}
    >
      <header className="flex items-center justify-between border-b border-slate-100 px-3 py-2 dark:border-slate-800">
        <h2 className="text-sm font-semibold">{t("title")}</h2>
        <span className="text-xs text-slate-500">
          {live.info?.chatSlowS ? t("slowMode", { s: live.info.chatSlowS }) : ""}
          {live.transport === "poll" ? ` ${t("offline")}` : ""}
        </span>
      </header>
      <ul ref={list} className="min-h-40 flex-1 overflow-y-auto px-3 py-2" data-testid="chat-list" aria-live="polite">
        {!live.messages.length && !live.notices.length && (
          <li className="py-4 text-center text-sm text-slate-400">{t(closed ? "emptyEnded" : "empty")}</li>
        )}
        {[...live.messages.map((m) => ({ at: m.at, m })), ...live.notices.map((n) => ({ at: n.at, n }))]
          .sort((a, b) => a.at - b.at)
          .map((x) =>
            "n" in x ? (
              <li key={x.n.key} className="py-1 text-center text-xs text-slate-500" data-testid="chat-notice">
                {t(x.n.kind === "muted" ? "noticeMuted" : "noticeUnmuted", {
                  nick: x.n.nick || x.n.memberId.slice(0, 8),
                })}
              </li>
            ) : (
              <Message
                key={x.m.id}
                m={x.m}
                moderate={moderate}
                onDelete={() => del.mutate({ room: roomRef, messageId: x.m.id })}
                onMute={(minutes) => mute.mutate({ room: roomRef, memberId: x.m.memberId, minutes })}
                onBan={() => confirm(t("banConfirm")) && ban.mutate({ room: roomRef, memberId: x.m.memberId })}
              />
            ),
          )}
      </ul>
      <form
        className="flex flex-col gap-2 border-t border-slate-100 p-2 dark:border-slate-800"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        {canChat && live.me?.guest && (
          <input
            value={nick}
            onChange={(e) => setNick(e.target.value)}
            maxLength={32}
            placeholder={t("nick")}
            aria-label={t("nick")}
            className="rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700"
          />
        )}
        <div className="flex gap-2">
          <input
            value={text}
            onChange={(e) => setText(e.target.value)}
            maxLength={1000}
            disabled={!canChat || mutedNow}
            placeholder={
              live.kicked
                ? t("errRemoved")
                : closed
                  ? t("closed")
                  : mutedNow
                    ? t("errMuted", { until: new Date(live.mutedUntil!).toLocaleTimeString(locale) })
                    : canChat
                      ? t("placeholder")
                      : t("readOnly")
            }
            aria-label={t("placeholder")}
            data-testid="chat-input"
            className="min-w-0 flex-1 rounded-md border border-slate-300 bg-transparent px-2 py-1 text-sm dark:border-slate-700"
          />
          <Button type="submit" disabled={!canChat || mutedNow || sending || !text.trim()} data-testid="chat-send">
            {t("send")}
          </Button>
        </div>
        {problem && (
          <p className="text-xs text-red-600" role="alert" data-testid="chat-problem">
            {problem}
          </p>
        )}
      </form>
    </section>
  );
}
