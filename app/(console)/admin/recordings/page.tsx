"use client";
// Recordings: list, play in the browser, download, delete.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, ListOf } from "@/components/ui";
import { DownloadRecording } from "@/components/console/DownloadRecording";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";
import { fmtBytes, fmtDuration, fmtTime } from "@/lib/format";

export default function Recordings() {
  const t = useTranslations("recordings");
  const tc = useTranslations("common");
  const locale = useLocale();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const [offset, setOffset] = useState(0);
  const [playing, setPlaying] = useState<string>();
  const list = useQuery(trpc.recordings.list.queryOptions({ limit: 20, offset }, { refetchInterval: 10000 }));
  const vod = useQuery(
    trpc.media.vodUrl.queryOptions({ id: playing ?? "00000000-0000-0000-0000-000000000000" }, { enabled: !!playing }),
  );
  const del = useMutation(
    trpc.recordings.delete.mutationOptions({
      onSuccess: () => qc.invalidateQueries({ queryKey: trpc.recordings.list.queryKey() }),
      onError: (e) => toast("error", err(e)),
    }),
  );
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("title")}</h1>
      <Card>
        <ListOf query={list} items={list.data?.items} empty={t("empty")}>
          {(items) => (
            <ul className="divide-y divide-slate-100 dark:divide-slate-800">
              {items.map((r) => (
                <li key={r.id} className="py-2">
                  <div className="flex flex-wrap items-center justify-between gap-2 text-sm">
                    <span>
                      <span className="font-medium">{r.name}</span>{" "}
                      <span className="text-xs text-slate-500">
                        · #{r.roomNum} · {fmtDuration(r.durationMs)} · {fmtBytes(r.sizeBytes)} · {t(r.status)} ·{" "}
                        {fmtTime(r.createdAt, locale)}
                      </span>
                    </span>
                    <span className="flex gap-2">
                      {r.status === "ready" && (
                        <Button variant="secondary" onClick={() => setPlaying(playing === r.id ? undefined : r.id)}>
                          {t("play")}
                        </Button>
                      )}
                      {r.status === "ready" && <DownloadRecording id={r.id} />}
                      <Button variant="ghost" onClick={() => confirm(tc("confirmDelete")) && del.mutate({ id: r.id })}>
                        {tc("delete")}
                      </Button>
                    </span>
                  </div>
                  {playing === r.id && vod.data && (
                    <video
                      className="mt-2 aspect-video w-full max-w-2xl rounded bg-black"
                      src={vod.data.url}
                      controls
                      autoPlay
                      muted
                    />
                  )}
                </li>
              ))}
            </ul>
          )}
        </ListOf>
        {list.data && list.data.total > 20 && (
          <div className="mt-3 flex justify-end gap-2">
            <Button variant="secondary" disabled={offset === 0} onClick={() => setOffset(offset - 20)}>
              {tc("prev")}
            </Button>
            <Button
              variant="secondary"
              disabled={offset + 20 >= list.data.total}
              onClick={() => setOffset(offset + 20)}
            >
              {tc("next")}
            </Button>
          </div>
        )}
      </Card>
    </div>
  );
}
