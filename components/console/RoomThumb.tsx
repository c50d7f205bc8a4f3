"use client";
// A room's picture in lists: its cover where set, else its live thumbnail (a frame every ~10 s,
// fetched with a play token the server signed for the viewer), else a plain placeholder.
import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";

export type RoomPicture = { kind: "cover" | "live"; url: string } | null | undefined;

/** The pictures of the listed rooms, refreshed as thumbnails are (every 10 s). */
export function useRoomPictures(ids: string[]) {
  const trpc = useTRPC();
  const q = useQuery(
    trpc.media.pictures.queryOptions(
      { rooms: ids.slice(0, 100) },
      { enabled: ids.length > 0, refetchInterval: 10_000, placeholderData: (prev) => prev },
    ),
  );
  return (id: string): RoomPicture => q.data?.[id];
}

export function RoomThumb({
  picture,
  title,
  className = "",
}: {
  picture: RoomPicture;
  title: string;
  className?: string;
}) {
  const t = useTranslations("thumb");
  const box = `aspect-video shrink-0 overflow-hidden rounded bg-slate-200 dark:bg-slate-800 ${className}`;
  if (!picture)
    return (
      <div className={`${box} flex items-center justify-center text-xs text-slate-500`} data-testid="room-thumb-none">
        {t("noPicture")}
      </div>
    );
  return (
    // Served by onair's media routes with a token (not through next/image's optimizer).
    <img
      src={picture.url}
      alt={t(picture.kind, { title })}
      loading="lazy"
      className={`${box} object-cover`}
      data-testid="room-thumb"
      data-kind={picture.kind}
    />
  );
}
