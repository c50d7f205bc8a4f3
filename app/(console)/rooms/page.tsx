"use client";
// What is live now in the viewer's app.
import Link from "next/link";
import { useQuery } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Card, Empty, Loading, StatusBadge } from "@/components/ui";
import { RoomThumb, useRoomPictures } from "@/components/console/RoomThumb";

export default function LiveNow() {
  const t = useTranslations("watch");
  const trpc = useTRPC();
  const list = useQuery(
    trpc.rooms.list.queryOptions({ status: "live", limit: 50, withMetrics: true }, { refetchInterval: 5000 }),
  );
  const pictureOf = useRoomPictures(list.data?.items.map((r) => r.id) ?? []);
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("browse")}</h1>
      {list.isLoading ? (
        <Loading />
      ) : !list.data?.items.length ? (
        <Empty>{t("noLive")}</Empty>
      ) : (
        <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
          {list.data.items.map((r) => (
            <Link key={r.id} href={`/watch/${r.id}`} className="min-w-0" data-room={r.id}>
              <Card className="h-full hover:border-slate-400">
                <RoomThumb picture={pictureOf(r.id)} title={r.title} className="mb-3 w-full" />
                <div className="mb-2 flex items-center gap-2">
                  <StatusBadge status={r.status} streamOnline={r.streamOnline} />
                  <span className="text-sm text-slate-500">{t("online", { count: r.metrics?.online ?? 0 })}</span>
                </div>
                <p className="truncate font-medium" title={r.title}>
                  {r.title}
                </p>
                <p className="truncate text-sm text-slate-500">{r.hostNick}</p>
              </Card>
            </Link>
          ))}
        </div>
      )}
    </div>
  );
}
