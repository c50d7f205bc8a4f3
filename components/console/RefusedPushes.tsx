"use client";
// Every push the media server refused for this room, newest first, with why (wrong key, room ended,
// already publishing…), where from and how often: what a host needs when "my encoder won't connect".
// Arrives on the room's socket as it happens (the list is fetched again), polled otherwise.
import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Card, Empty } from "@/components/ui";
import { fmtTime } from "@/lib/format";

export function RefusedPushes({ room, pollMs }: { room: string; pollMs: number }) {
  const t = useTranslations("golive");
  const locale = useLocale();
  const trpc = useTRPC();
  const list = useQuery(trpc.media.refusals.queryOptions({ room }, { refetchInterval: pollMs }));
  const items = list.data ?? [];
  return (
    <Card title={t("refusedTitle")}>
      {!items.length ? (
        <Empty>{t("refusedNone")}</Empty>
      ) : (
        <ul className="max-h-64 divide-y divide-slate-100 overflow-y-auto dark:divide-slate-800" data-testid="refusals">
          {items.map((r) => (
            <li key={r.id} className="flex flex-wrap items-baseline gap-x-2 py-1.5 text-sm" data-reason={r.reason}>
              <span className="font-medium text-red-700 dark:text-red-400">{t(`refused_${r.reason}`)}</span>
              {r.count > 1 && <span className="text-xs text-slate-500">×{r.count}</span>}
              <span className="ml-auto text-xs text-slate-500">
                {r.addr ? `${r.addr} · ` : ""}
                {r.via} · {fmtTime(r.lastAt, locale)}
              </span>
            </li>
          ))}
        </ul>
      )}
    </Card>
  );
}
