"use client";
// A recording's chat in step with it: each message shows when the video reaches the moment it was
// sent (its time less the recording's start), as on a live night; seeking back hides the later ones.
// Pages are fetched as the video gets near their end, not all at once; a seek outside what is
// fetched starts again a minute before the new position, and at most MAX_PAGES pages are kept.
import { useEffect, useRef, useState, type RefObject } from "react";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { useErrorText } from "@/lib/errors";
import { fmtDuration } from "@/lib/format";
import { Message } from "@/components/live/ChatPanel";

export type ReplayPart = { id: string; startedAt: number; durationMs: number };

/** Messages this far ahead of the video are fetched before it gets there. */
const AHEAD_MS = 30_000;
/** A seek outside what is fetched starts this far before the new position. */
const BEFORE_MS = 60_000;
/** Pages kept (200 messages each, server/chat REPLAY_CHAT_PAGE); older ones are dropped. */
const MAX_PAGES = 10;
/** At most this many messages are drawn (the latest at the video's time). */
const SHOWN = 200;

/**
 * The video's position (ms), followed through its time updates and seeks; `onMove` hears each new
 * position too (from the video's events, where it may set state).
 */
function usePosition(video: RefObject<HTMLVideoElement | null>, onMove: RefObject<(ms: number) => void>) {
  const [ms, setMs] = useState(0);
  useEffect(() => {
    const el = video.current;
    if (!el) return;
    const update = () => {
      const at = Math.floor(el.currentTime * 1000);
      setMs(at);
      onMove.current(at);
    };
    update();
    const events = ["timeupdate", "seeking", "seeked", "loadedmetadata"] as const;
    for (const e of events) el.addEventListener(e, update);
    return () => {
      for (const e of events) el.removeEventListener(e, update);
    };
  }, [video, onMove]);
  return ms;
}

/** How many of `offsets` (ascending) are ≤ `ms`. */
function countUpTo(offsets: number[], ms: number) {
  let lo = 0;
  let hi = offsets.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (offsets[mid]! <= ms) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Keyed by the part by its callers: a new part starts afresh, with its own <video>. */
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
  const err = useErrorText();
  const queryClient = useQueryClient();
  const [fromMs, setFromMs] = useState(0);
  const options = trpc.media.replayChat.infiniteQueryOptions(
    { room, recording: part.id, fromMs },
    { getNextPageParam: (p) => p.next ?? undefined, maxPages: MAX_PAGES, staleTime: Infinity },
  );
  const pages = useInfiniteQuery(options);
  const { data, hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage } = pages;
  const all = data?.pages.flatMap((p) => p.items) ?? [];
  const offsets = all.map((m) => m.at - part.startedAt);
  // What the kept pages cover: from `fromMs` (or, once older pages were dropped, the first kept
  // page's cursor) to the last message fetched (or the end, when there is no next page).
  const firstCursor = data?.pageParams[0] as { at: number } | null | undefined;
  const coveredFrom = firstCursor ? firstCursor.at - part.startedAt : fromMs;
  const lastOffset = offsets.at(-1);
  const queryKey = options.queryKey;
  // A seek back before what is kept, or far past what is fetched (over BEFORE_MS + AHEAD_MS),
  // starts again a minute before the new position (afresh, if that is where these pages began).
  const coverage = useRef({ loaded: false, coveredFrom, lastOffset, hasNextPage, fromMs, queryKey });
  useEffect(() => {
    coverage.current = { loaded: !!data, coveredFrom, lastOffset, hasNextPage, fromMs, queryKey };
  });
  const onMove = useRef((ms: number) => {
    const c = coverage.current;
    if (!c.loaded) return;
    const behind = c.hasNextPage && c.lastOffset !== undefined && c.lastOffset < ms - BEFORE_MS - AHEAD_MS;
    if (ms >= c.coveredFrom && !behind) return;
    const from = Math.max(0, ms - BEFORE_MS);
    c.loaded = false;
    if (from !== c.fromMs) setFromMs(from);
    else void queryClient.resetQueries({ queryKey: c.queryKey, exact: true });
  });
  const position = usePosition(video, onMove);
  // The next page once the video is within AHEAD_MS of the last message fetched (not again and
  // again after a failure: the panel says so, and a seek or a new part tries afresh).
  useEffect(() => {
    if (!data || !hasNextPage || isFetchingNextPage || isFetchNextPageError) return;
    if (position < coveredFrom) return;
    if (lastOffset === undefined || lastOffset < position + AHEAD_MS) void fetchNextPage();
  }, [data, position, coveredFrom, lastOffset, hasNextPage, isFetchingNextPage, isFetchNextPageError, fetchNextPage]);
  const end = countUpTo(offsets, position);
  const shown = all.slice(Math.max(0, end - SHOWN), end);
  const list = useRef<HTMLUListElement>(null);
  // Follows the newest message, unless the viewer scrolled up to read.
  const following = useRef(true);
  useEffect(() => {
    const el = list.current;
    if (el && following.current) el.scrollTop = el.scrollHeight;
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
      <ul
        ref={list}
        className="min-h-40 flex-1 overflow-y-auto px-3 py-2"
        data-testid="replay-chat-list"
        onScroll={(e) => {
          const el = e.currentTarget;
          following.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        }}
      >
        {!shown.length ? (
          <li className="py-4 text-center text-sm text-slate-400" data-testid="replay-chat-empty">
            {t(pages.isPending ? "loading" : all.length || hasNextPage ? "replayNotYet" : "replayNone")}
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
      {pages.error && (
        <p className="border-t border-slate-100 px-3 py-2 text-xs text-red-600 dark:border-slate-800" role="alert">
          {err(pages.error)}
        </p>
      )}
    </section>
  );
}
