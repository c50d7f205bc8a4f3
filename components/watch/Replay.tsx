"use client";
// An ended room's recordings on its watch page: the first plays (muted autoplay, with controls),
// the others are a click away.
import { useEffect, useState, type ReactNode, type RefObject } from "react";
import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { fmtDuration, fmtTime } from "@/lib/format";
import type { ReplayPart } from "./ReplayChat";

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
  // Looked at again while the last recording is still being processed after the room ended.
  const replay = useQuery(
    // Not again on focus: each answer signs new URLs, and a new URL reloads the video from 0.
    trpc.media.replay.queryOptions(
      { room },
      { refetchInterval: (q) => (q.state.data?.items.length ? false : 5000), staleTime: Infinity },
    ),
  );
  const items = replay.data?.items ?? [];
  const [chosen, setChosen] = useState<string>();
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
