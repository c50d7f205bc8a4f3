"use client";
// Watching a room: the player (FLV first, HLS selectable), title, host, notice, online count, likes,
// chat, "request to co-host" for signed-in viewers, heartbeats every 10 s and leave on page close.
// The room's live events (status, figures, the host's decisions, a kick, chat) arrive on its socket;
// polling goes on underneath at a slower pace for when the socket cannot connect. An ended room
// plays its recording, and leads on to the room it went live again in.
import Link from "next/link";
import { useRef, useState } from "react";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Player, type PlayerFormat } from "@/components/player/Player";
import { usePullUrls } from "@/components/player/usePullUrls";
import { usePresence } from "./usePresence";
import {
  isLive,
  POLL_FALLBACK_MS,
  POLL_WITH_EVENTS_MS,
  useRoomEvents,
  type MicEvent,
} from "@/components/live/useRoomEvents";
import { ChatPanel } from "@/components/live/ChatPanel";
import { Replay } from "./Replay";
import { ReplayChat, type ReplayPart } from "./ReplayChat";
import { onAir, useContinuation } from "./useContinuation";
import { useCountdown } from "@/components/live/useCountdown";
import { Button, StatusBadge } from "@/components/ui";
import { LanguageSwitch } from "@/components/console/LanguageSwitch";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";
import type { RoomStatus } from "@/lib/domain";

export function WatchRoom({ room }: { room: string | number }) {
  const t = useTranslations("watch");
  const trpc = useTRPC();
  const toast = useToast();
  const err = useErrorText();
  const [format, setFormat] = useState<PlayerFormat>("flv");
  // Polled slowly while the room's socket delivers its events, at the fallback's pace when it cannot.
  const [connected, setConnected] = useState(false);
  const pollMs = connected ? POLL_WITH_EVENTS_MS : POLL_FALLBACK_MS;
  const { info, refresh, follow } = usePullUrls(room, pollMs);
  const me = useQuery(trpc.auth.me.queryOptions(undefined, { retry: false }));
  const active = !!info && info.room.status !== "ended";
  const presence = usePresence(room, active, () => void refresh());
  const [myLikes, setMyLikes] = useState(0);
  /** My co-host request as the host's decisions reach me: none, sent, approved, on the mic. */
  const [mic, setMic] = useState<"none" | "requested" | "approved" | "on">("none");
  const myId = presence.joined?.memberId;
  const ended = info?.room.status === "ended";
  const live = useRoomEvents(room, {
    token: presence.joined?.token,
    // An ended room is not joined; its socket still brings the chat log (read-only) and the status.
    enabled: !!presence.joined || ended,
    // The status badge looks again until its read agrees ("Starting soon" → "Live" as the stream comes
    // up); the player does the same with live.status.
    onStatus: follow,
    onRoom: () => void refresh(),
    onTransport: (tr) => setConnected(isLive(tr)),
    onMic: (e: MicEvent) => {
      if (!myId || e.userId !== myId) return;
      if (e.move === "approve") {
        setMic("approved");
        toast("success", t("approved"));
      } else if (e.move === "on") setMic("on");
      else if (e.move === "reject") {
        setMic("none");
        toast("error", t("rejected"));
      } else if (e.move === "end" || e.move === "off" || e.move === "cancel") {
        setMic("none");
        if (e.move === "end") toast("success", t("micEnded"));
      }
    },
  });
  const request = useMutation(
    trpc.mic.request.mutationOptions({
      onSuccess: () => {
        setMic((m) => (m === "none" ? "requested" : m));
        toast("success", t("requested"));
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  const graceLeft = useCountdown(live.status?.graceEndsAt);
  // The broadcast went on in a new room ("Go live again"): said here, and followed once it is on air.
  const next = useContinuation(room, ended, (id) => `/watch/${id}`);
  const player = <Player room={room} format={format} status={live.status} removed={live.kicked} pollMs={pollMs} />;
  const r = info?.room;
  const figures = live.figures ?? r?.metrics;
  const totalLikes = Math.max(figures?.likes ?? 0, myLikes);
  const title = live.info?.title ?? r?.title;
  const notice = live.info?.notice ?? r?.notice;
  // The recording the replay plays, and its <video>: its chat is shown in step with it.
  const replayVideo = useRef<HTMLVideoElement>(null);
  const [replaying, setReplaying] = useState<ReplayPart | null>(null);
  const [chatTab, setChatTab] = useState<"replay" | "log">("replay");
  const chatLog = <ChatPanel room={room} live={live} className="h-[28rem]" />;

  return (
    <div className="min-h-screen">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2 dark:border-slate-800">
        <Link href="/" className="flex items-center gap-2 font-semibold">
          <span className="h-2.5 w-2.5 rounded-full bg-red-500" aria-hidden />
          onair
        </Link>
        <LanguageSwitch />
      </header>
      <main className="mx-auto grid max-w-6xl gap-6 p-4 lg:grid-cols-[2fr_1fr]">
        <div className="flex min-w-0 flex-col gap-3">
          {next && (
            <p
              className="rounded-md bg-blue-50 px-3 py-2 text-sm text-blue-800 dark:bg-blue-950 dark:text-blue-200"
              role="status"
              data-testid="continued"
            >
              {onAir(next) ? t("continuesLive") : t("continuesSoon")}{" "}
              <Link href={`/watch/${next.id}`} className="font-medium underline" data-testid="continued-link">
                {t("continuesHere")}
              </Link>
            </p>
          )}
          {ended ? <Replay room={room} otherwise={player} video={replayVideo} onPart={setReplaying} /> : player}
          {live.kicked && (
            <p
              className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-700 dark:bg-red-950 dark:text-red-300"
              role="alert"
              data-testid="removed"
            >
              {t("removed")}
            </p>
          )}
          {graceLeft !== null && (
            <p
              className="rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-800 dark:bg-amber-950 dark:text-amber-200"
              role="status"
              data-testid="grace"
            >
              {t("graceCountdown", { s: graceLeft })}
            </p>
          )}
          <div className="flex flex-wrap items-center gap-3">
            <h1
              className="mr-auto line-clamp-3 min-w-0 text-xl font-semibold [overflow-wrap:anywhere]"
              data-testid="watch-title"
              title={title}
            >
              {title ?? "…"}
            </h1>
            {r && (
              <span data-testid="watch-status">
                {/* The socket's status is the freshest (a re-read right after it may still be a
                    second old); without a socket, the polled one. */}
                <StatusBadge
                  status={connected && live.status ? (live.status.status as RoomStatus) : r.status}
                  streamOnline={connected && live.status ? live.status.streamOnline : r.streamOnline}
                />
              </span>
            )}
            {/* Nobody watches an ended broadcast: its replay's page shows no audience count. */}
            {!ended && (
              <span className="text-sm text-slate-500" data-testid="online-count">
                {t("online", { count: figures?.online ?? 0 })}
              </span>
            )}
          </div>
          <div className="flex flex-wrap items-center gap-2">
            <Button
              data-testid="like"
              onClick={() => setMyLikes(presence.like(live.like))}
              disabled={!active || live.kicked}
            >
              ♥ {t("like")}
            </Button>
            <span className="text-sm text-slate-500" data-testid="likes">
              {t("liked", { count: totalLikes })}
            </span>
            {(me.data || !ended) && <span className="mx-2 h-5 w-px bg-slate-200 dark:bg-slate-700" aria-hidden />}
            {me.data ? (
              <Button
                variant="secondary"
                data-testid="request-mic"
                data-mic={mic}
                disabled={!active || live.kicked || mic !== "none" || request.isPending || me.data.id === undefined}
                onClick={() => request.mutate({ room })}
              >
                {mic === "requested"
                  ? t("requested")
                  : mic === "approved" || mic === "on"
                    ? t("approved")
                    : t("requestMic")}
              </Button>
            ) : ended ? null : (
              <Link
                href={`/signin?callbackUrl=${encodeURIComponent(`/watch/${room}`)}`}
                className="text-sm text-blue-600 underline"
              >
                {t("signInToCohost")}
              </Link>
            )}
            {/* The live player's format: an ended room plays its recording (MP4) instead. */}
            <label className={`ml-auto flex items-center gap-2 text-sm ${ended ? "hidden" : ""}`}>
              {t("format")}
              <select
                aria-label={t("format")}
                value={format}
                onChange={(e) => setFormat(e.target.value as PlayerFormat)}
                className="rounded-md border border-slate-300 bg-transparent px-2 py-1 dark:border-slate-700"
              >
                <option value="flv">{t("flv")}</option>
                <option value="hls">{t("hls")}</option>
              </select>
            </label>
          </div>
        </div>
        <aside className="flex min-w-0 flex-col gap-3">
          <section className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900">
            <h2 className="text-sm font-semibold text-slate-500">{t("host")}</h2>
            <p className="text-lg">{r?.hostNick ?? "…"}</p>
            {notice && (
              <>
                <h2 className="mt-3 text-sm font-semibold text-slate-500">{t("notice")}</h2>
                <p className="whitespace-pre-wrap [overflow-wrap:anywhere]" data-testid="notice">
                  {notice}
                </p>
              </>
            )}
          </section>
          {ended && replaying ? (
            <div className="flex flex-col gap-2">
              <div role="tablist" aria-label={t("chatViews")} className="flex gap-1 text-sm">
                {(["replay", "log"] as const).map((v) => (
                  <button
                    key={v}
                    type="button"
                    role="tab"
                    aria-selected={chatTab === v}
                    onClick={() => setChatTab(v)}
                    data-testid={`chat-tab-${v}`}
                    className={`rounded-md px-2 py-1 ${chatTab === v ? "bg-slate-200 font-medium dark:bg-slate-800" : "text-slate-500"}`}
                  >
                    {t(v === "replay" ? "chatReplay" : "chatLog")}
                  </button>
                ))}
              </div>
              {chatTab === "replay" ? (
                <ReplayChat key={replaying.id} room={room} part={replaying} video={replayVideo} className="h-[28rem]" />
              ) : (
                chatLog
              )}
            </div>
          ) : (
            chatLog
          )}
        </aside>
      </main>
    </div>
  );
}
