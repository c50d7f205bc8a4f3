"use client";
// A room's stream sources (admins): what is pulled (the URL as scheme and host), how (on demand or
// always on), how it goes (state, last error, retries, last change), and Add / Edit / Probe / Remove.
import { useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, Empty, ErrorBox } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { useErrorText } from "@/lib/errors";
import { fmtTime } from "@/lib/format";
import { SourceForm, type SourceKind } from "./SourceForm";

const STATE_STYLE: Record<string, string> = {
  idle: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
  starting: "bg-sky-100 text-sky-900 dark:bg-sky-900 dark:text-sky-100",
  live: "bg-emerald-600 text-white",
  retrying: "bg-amber-500 text-white",
  failed: "bg-red-600 text-white",
};
const KNOWN_ERRORS = ["unreachable", "auth failed", "codec", "source ended", "pull failed", "address refused"];

type Probe = { video?: string; audio?: string; width?: number; height?: number; fps?: number; ms: number };

export function SourcePanel({ room }: { room: string }) {
  const t = useTranslations("sources");
  const tc = useTranslations("common");
  const locale = useLocale();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const list = useQuery(trpc.sources.list.queryOptions({ room }, { refetchInterval: 2000 }));
  const [form, setForm] = useState<{ kind?: SourceKind }>();
  const [probes, setProbes] = useState<Record<string, Probe | { error: string }>>({});
  const remove = useMutation(
    trpc.sources.remove.mutationOptions({
      onSuccess: () => {
        void qc.invalidateQueries({ queryKey: trpc.sources.list.queryKey() });
        void qc.invalidateQueries({ queryKey: trpc.media.pullUrls.queryKey() });
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  const probe = useMutation(trpc.sources.probe.mutationOptions());
  /** A pull's last error in words: the server's kinds are translated, anything else shown as is. */
  const errorText = (e: string) => (KNOWN_ERRORS.includes(e) ? t(`error.${e.replace(" ", "_")}` as "error.codec") : e);
  const probeNow = (kind: SourceKind) => {
    setProbes((p) => ({ ...p, [kind]: { error: "" } }));
    probe.mutate(
      { room, kind },
      {
        onSuccess: (r) => setProbes((p) => ({ ...p, [kind]: r })),
        onError: (e) => {
          const reason = (e as { data?: { details?: { reason?: string } } }).data?.details?.reason;
          // A refused address: which one and why too (the server's words, e.g. "… is a private address").
          const why = reason === "address refused" ? ` (${e.message.replace(/^The source cannot be read: /, "")})` : "";
          const text = reason ? t("probeFailed", { reason: errorText(reason) }) + why : err(e);
          setProbes((p) => ({ ...p, [kind]: { error: text } }));
        },
      },
    );
  };

  if (list.error) return <ErrorBox message={err(list.error)} />;
  const sources = list.data ?? [];
  const missing = (["main", "sub"] as const).filter((k) => !sources.some((s) => s.kind === k));
  return (
    <Card
      title={t("title")}
      actions={
        missing.length > 0 &&
        !form && (
          <Button variant="secondary" onClick={() => setForm({})} data-testid="source-add">
            {t("add")}
          </Button>
        )
      }
    >
      <div className="flex flex-col gap-3" data-testid="sources">
        {form && !form.kind && <SourceForm room={room} kinds={missing} onDone={() => setForm(undefined)} />}
        {!sources.length && !form && <Empty>{t("none")}</Empty>}
        {sources.map((s) => {
          const result = probes[s.kind];
          return (
            <div
              key={s.kind}
              className="flex flex-col gap-2 rounded-md border border-slate-200 p-3 dark:border-slate-700"
              data-testid={`source-${s.kind}`}
              data-state={s.state}
            >
              <div className="flex flex-wrap items-center gap-2">
                <span className="text-sm font-semibold">{t(s.kind)}</span>
                <code className="rounded bg-slate-100 px-2 py-0.5 text-sm dark:bg-slate-800" data-testid="source-url">
                  {s.url}
                </code>
                <span className="text-xs text-slate-500">{t(s.mode)}</span>
                <span
                  className={`rounded-full px-2 py-0.5 text-xs font-semibold ${STATE_STYLE[s.state] ?? ""}`}
                  data-testid="source-state"
                >
                  {t(`state.${s.state}` as "state.idle")}
                </span>
                <span className="ml-auto flex flex-wrap gap-2">
                  <Button variant="secondary" onClick={() => probeNow(s.kind)} disabled={probe.isPending}>
                    {t("probe")}
                  </Button>
                  <Button variant="secondary" onClick={() => setForm({ kind: s.kind })}>
                    {t("edit")}
                  </Button>
                  <Button
                    variant="ghost"
                    onClick={() => confirm(t("removeConfirm")) && remove.mutate({ room, kind: s.kind })}
                  >
                    {t("remove")}
                  </Button>
                </span>
              </div>
              <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm md:grid-cols-3">
                <div>
                  <dt className="text-xs text-slate-500">{t("lastError")}</dt>
                  <dd data-testid="source-error" className={s.lastError ? "text-red-700 dark:text-red-400" : ""}>
                    {s.lastError ? errorText(s.lastError) : tc("none")}
                  </dd>
                </div>
                <div>
                  <dt className="text-xs text-slate-500">{t("retries")}</dt>
                  <dd className="tabular-nums" data-testid="source-retries">
                    {s.retries}
                  </dd>
                </div>
                <div>
                  <dt className="text-xs text-slate-500">{t("changed")}</dt>
                  <dd>{fmtTime(s.updatedAt, locale)}</dd>
                </div>
              </dl>
              {result && (
                <p className="text-sm" role="status" data-testid="source-probe">
                  {"error" in result ? (
                    result.error ? (
                      <span className="text-red-700 dark:text-red-400">{result.error}</span>
                    ) : (
                      <span className="animate-pulse text-slate-500">{t("probing")}</span>
                    )
                  ) : (
                    t("probeResult", {
                      video: result.video ?? "—",
                      audio: result.audio ?? t("noAudio"),
                      size: result.width && result.height ? `${result.width}×${result.height}` : "—",
                      fps: result.fps ?? "—",
                      ms: result.ms,
                    })
                  )}
                </p>
              )}
              {form?.kind === s.kind && (
                <SourceForm room={room} kinds={[s.kind]} editing={s} onDone={() => setForm(undefined)} />
              )}
            </div>
          );
        })}
      </div>
    </Card>
  );
}
