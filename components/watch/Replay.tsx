"use client";
// An ended room's recordings on its watch page: the first plays (muted autoplay, with controls),
// the others are a click away.
import { useEffect, useRef, useState, type ReactNode, type RefObject } from "react";
import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { fmtDuration, fmtTime } from "@/lib/format";
import { keepUrls, nextLook, type ReplayAnswer } from "@/lib/replay";
import type { ReplayPart } from "./ReplayChat";

type Answer = ReplayAnswer;

/**
 * `otherwise` shows while the room has no ready recording (the player, saying the room ended).
 * `onPart` hears which recording plays, when its start is known (its chat can follow it), else null;
 * `video` is its <video>.
 */
export function Replay({
  room,
  otherwise,
  video,
  onPart,
}: {
  room: string | number;
  otherwise: ReactNode;
  video?: RefObject<HTMLVideoElement | null>;
  onPart?: (part: ReplayPart | null) => void;
}) {
  const t = useTranslations("watch");
  const locale = useLocale();
  const trpc = useTRPC();
  // Looked at again every 5 s while a recording is still being processed, and every few minutes
  // for URLs about to expire. Each answer signs new URLs: a recording keeps the URL it has until
  // that one is near its expiry (a new URL reloads the video; it then goes on where it was).
  const replay = useQuery(
    trpc.media.replay.queryOptions(
      { room },
      {
        refetchInterval: (q) => nextLook(q.state.data as Answer | undefined),
        structuralSharing: (old, next) => keepUrls(old as Answer | undefined, next as Answer),
      },
    ),
  );
  const items = replay.data?.items ?? [];
  const [chosen, setChosen] = useState<string>();
  // The part first shown stays chosen: an earlier part that becomes ready later does not take its place.
  if (chosen === undefined && items[0]) setChosen(items[0].id);
  const current = items.find((i) => i.id === chosen) ?? items[0];
  const part = current?.startedAt != null ? current.id : null;
  useEffect(() => {
    onPart?.(
      current && current.startedAt != null
        ? { id: current.id, startedAt: current.startedAt, durationMs: current.durationMs }
        : null,
    );
    // Told again only when the part (or whether its start is known) changes.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [part]);
  // Where the video was, for when its URL is renewed (the same element loads the new one from 0).
  const resume = useRef<{ id: string; url: string; time: number; playing: boolean } | null>(null);
  if (!current) return <>{otherwise}</>;
  return (
    <section className="flex w-full flex-col gap-2" aria-label={t("replay")} data-testid="replay">
      <video
        key={current.id}
        ref={video}
        className="aspect-video w-full rounded-lg bg-black"
        src={current.url}
        controls
        autoPlay
        muted
        playsInline
        data-testid="replay-video"
        onTimeUpdate={(e) => {
          const v = e.currentTarget;
          // (A renewed URL's load resets the time to 0 before its metadata is there: not kept.)
          if (v.readyState >= 1 && v.src === new URL(current.url, document.baseURI).href)
            resume.current = { id: current.id, url: current.url, time: v.currentTime, playing: !v.paused };
        }}
        onLoadedMetadata={(e) => {
          const r = resume.current;
          const v = e.currentTarget;
          if (!r || r.id !== current.id || r.url === current.url || r.time <= 0) return;
          v.currentTime = r.time;
          if (!r.playing) v.pause();
        }}
      />
      <p className="text-sm text-slate-500">
        {t("replayOf", { name: current.name })} · {fmtDuration(current.durationMs)}
      </p>
      {items.length > 1 && (
        <ul className="flex flex-wrap gap-2 text-sm">
          {items.map((i, n) => (
            <li key={i.id}>
              <button
                type="button"
                className={`rounded-md border px-2 py-1 ${i.id === current.id ? "border-red-500" : "border-slate-300 dark:border-slate-700"}`}
                aria-pressed={i.id === current.id}
                onClick={() => setChosen(i.id)}
              >
                {t("part", { n: n + 1 })} · {fmtTime(i.createdAt, locale)}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
