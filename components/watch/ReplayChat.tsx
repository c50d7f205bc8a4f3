"use client";
// A recording's chat in step with it: each message shows when the video reaches the moment it was
// sent (its time less the recording's start), as on a live night; seeking back hides the later ones.
// Pages are fetched as the video gets near their end, not all at once.
import { useEffect, useMemo, useRef, useState, type RefObject } from "react";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { fmtDuration } from "@/lib/format";
import { Message } from "@/components/live/ChatPanel";

export type ReplayPart = { id: string; startedAt: number; durationMs: number };

/** Messages this far ahead of the video are fetched before it gets there. */
const AHEAD_MS = 30_000;
/** At most this many messages are drawn (the latest at the video's time). */
const SHOWN = 200;

/** The video's position (ms), followed through its time updates and seeks. */
function usePosition(video: RefObject<HTMLVideoElement | null>, part: string) {
  const [ms, setMs] = useState(0);
  useEffect(() => {
    const el = video.current;
    if (!el) return;
    const update = () => setMs(Math.floor(el.currentTime * 1000));
    update();
    const events = ["timeupdate", "seeking", "seeked", "loadedmetadata"] as const;
    for (const e of events) el.addEventListener(e, update);
    return () => {
      for (const e of events) el.removeEventListener(e, update);
    };
    // A new part is a new <video> element (keyed by the recording in Replay).
  }, [video, part]);
  return ms;
}

export function ReplayChat({
  room,
  part,
  video,
  className,
}: {
  room: string | number;
  part: ReplayPart;
  video: RefObject<HTMLVideoElement | null>;
  className?: string;
}) {
  const t = useTranslations("chat");
  const trpc = useTRPC();
  const position = usePosition(video, part.id);
  const pages = useInfiniteQuery(
    trpc.media.replayChat.infiniteQueryOptions(
      { room, recording: part.id },
      { getNextPageParam: (p) => p.next ?? undefined, staleTime: Infinity },
    ),
  );
  const all = useMemo(() => pages.data?.pages.flatMap((p) => p.items) ?? [], [pages.data]);
  const lastAt = all.at(-1)?.at;
  // The next page once the video is within AHEAD_MS of the last message fetched.
  useEffect(() => {
    if (!pages.hasNextPage || pages.isFetchingNextPage) return;
    if (lastAt === undefined || lastAt - part.startedAt < position + AHEAD_MS) void pages.fetchNextPage();
  }, [pages, lastAt, part.startedAt, position]);
  let end = 0;
  while (end < all.length && all[end]!.at - part.startedAt <= position) end++;
  const shown = all.slice(Math.max(0, end - SHOWN), end);
  const list = useRef<HTMLUListElement>(null);
  useEffect(() => {
    const el = list.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [end]);
  return (
    <section
      className={`flex min-h-0 flex-col rounded-lg border border-slate-200 bg-white dark:border-slate-800 dark:bg-slate-900 ${className ?? ""}`}
      aria-label={t("replayTitle")}
      data-testid="replay-chat"
    >
      <header className="border-b border-slate-100 px-3 py-2 dark:border-slate-800">
        <h2 className="text-sm font-semibold">{t("replayTitle")}</h2>
        <p className="text-xs text-slate-500">{t("replayHint")}</p>
      </header>
      <ul ref={list} className="min-h-40 flex-1 overflow-y-auto px-3 py-2" data-testid="replay-chat-list">
        {pages.isError ? (
          <li className="py-4 text-center text-sm text-red-600" role="alert">
            {pages.error.message}
          </li>
        ) : !shown.length ? (
          <li className="py-4 text-center text-sm text-slate-400" data-testid="replay-chat-empty">
            {t(pages.isPending ? "loading" : all.length || pages.hasNextPage ? "replayNotYet" : "replayNone")}
          </li>
        ) : (
          shown.map((m) => (
            <Message
              key={m.id}
              m={m}
              moderate={false}
              stamp={fmtDuration(Math.max(0, Math.floor((m.at - part.startedAt) / 1000) * 1000))}
            />
          ))
        )}
      </ul>
    </section>
  );
}
