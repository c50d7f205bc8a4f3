"use client";
// An endpoint's deliveries, newest first: event, status, attempts, the receiver's answer and the
// next retry; any one can be sent again ("Redeliver"), and each shows its attempts one by one (when,
// how long, what the receiver answered). Refreshes by itself while some are pending.
import { Fragment, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, ListOf, Select } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { WEBHOOK_DELIVERY_STATUSES, type WebhookDeliveryStatus } from "@/lib/domain";
import { useErrorText } from "@/lib/errors";
import { fmtTime, fmtTimeSeconds } from "@/lib/format";

const STATUS_STYLE: Record<WebhookDeliveryStatus, string> = {
  pending: "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100",
  delivered: "bg-emerald-100 text-emerald-900 dark:bg-emerald-900 dark:text-emerald-100",
  failed: "bg-red-100 text-red-900 dark:bg-red-900 dark:text-red-100",
};

export function WebhookDeliveries({ endpointId }: { endpointId: number }) {
  const t = useTranslations("webhooks");
  const locale = useLocale();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const [status, setStatus] = useState<WebhookDeliveryStatus | "">("");
  const [cursors, setCursors] = useState<number[]>([]);
  /** The delivery whose attempts are shown. */
  const [open, setOpen] = useState<number>();
  const input = { endpointId, status: status || undefined, limit: 20, cursor: cursors.at(-1) };
  const list = useQuery(
    trpc.webhooks.deliveries.queryOptions(input, {
      refetchInterval: (q) => (q.state.data?.items.some((d) => d.status === "pending") ? 2000 : 10_000),
    }),
  );
  const redeliver = useMutation(
    trpc.webhooks.redeliver.mutationOptions({
      onSuccess: () => {
        toast("success", t("redelivered"));
        setCursors([]);
        void qc.invalidateQueries({ queryKey: trpc.webhooks.deliveries.queryKey() });
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  return (
    <div className="mt-3 flex flex-col gap-2" data-testid={`deliveries-${endpointId}`}>
      <div className="flex flex-wrap items-center justify-between gap-2">
        <h3 className="text-sm font-semibold">{t("deliveries")}</h3>
        <Select
          aria-label={t("status")}
          value={status}
          onChange={(e) => {
            setStatus(e.target.value as WebhookDeliveryStatus | "");
            setCursors([]);
          }}
        >
          <option value="">{t("allStatuses")}</option>
          {WEBHOOK_DELIVERY_STATUSES.map((s) => (
            <option key={s} value={s}>
              {t(`st_${s}`)}
            </option>
          ))}
        </Select>
      </div>
      <ListOf query={list} items={list.data?.items} empty={t("noDeliveries")}>
        {(items) => (
          <div className="overflow-x-auto">
            <table className="w-full min-w-[44rem] text-left text-sm">
              <thead className="text-xs uppercase text-slate-500">
                <tr>
                  <th className="py-1 pr-3 font-medium">{t("event")}</th>
                  <th className="py-1 pr-3 font-medium">{t("status")}</th>
                  <th className="py-1 pr-3 font-medium">{t("attempts")}</th>
                  <th className="py-1 pr-3 font-medium">{t("response")}</th>
                  <th className="py-1 pr-3 font-medium">{t("nextRetry")}</th>
                  <th className="py-1 pr-3 font-medium">{t("created")}</th>
                  <th className="py-1" />
                </tr>
              </thead>
              <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                {items.map((d) => (
                  <Fragment key={d.id}>
                    <tr data-testid="delivery" data-status={d.status} data-type={d.type} className="align-top">
                      <td className="py-1.5 pr-3">
                        <div className="font-mono text-xs">{d.type}</div>
                        <div className="text-xs text-slate-500" title={d.eventId}>
                          #{d.id}
                          {d.redeliveryOf ? ` · ${t("redeliveryOf", { id: d.redeliveryOf })}` : ""}
                        </div>
                      </td>
                      <td className="py-1.5 pr-3">
                        <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${STATUS_STYLE[d.status]}`}>
                          {d.status === "pending" && d.attempts > 0 ? t("retrying") : t(`st_${d.status}`)}
                        </span>
                      </td>
                      <td className="py-1.5 pr-3 tabular-nums" data-testid="attempts">
                        {d.attempts > 0 ? (
                          <button
                            type="button"
                            className="underline decoration-dotted underline-offset-2 hover:text-slate-900 dark:hover:text-white"
                            title={t("history")}
                            aria-expanded={open === d.id}
                            data-testid="show-attempts"
                            onClick={() => setOpen(open === d.id ? undefined : d.id)}
                          >
                            {d.attempts}
                          </button>
                        ) : (
                          d.attempts
                        )}
                      </td>
                      <td className="max-w-[16rem] py-1.5 pr-3">
                        <span className="font-mono text-xs" data-testid="response-status">
                          {d.responseStatus ?? "—"}
                        </span>{" "}
                        <span className="block truncate text-xs text-slate-500" title={d.responseBody}>
                          {d.responseBody}
                        </span>
                      </td>
                      <td className="py-1.5 pr-3 text-xs">
                        {d.status === "pending" ? fmtTime(d.nextAttemptAt, locale) : "—"}
                      </td>
                      <td className="py-1.5 pr-3 text-xs">{fmtTime(d.createdAt, locale)}</td>
                      <td className="py-1.5 text-right">
                        <Button
                          variant="secondary"
                          disabled={redeliver.isPending}
                          onClick={() => redeliver.mutate({ id: d.id })}
                        >
                          {t("redeliver")}
                        </Button>
                      </td>
                    </tr>
                    {open === d.id && (
                      <tr data-testid="attempt-history">
                        <td colSpan={7} className="pb-2 pl-3">
                          <Attempts delivery={d.id} pending={d.status === "pending"} />
                        </td>
                      </tr>
                    )}
                  </Fragment>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </ListOf>
      {(cursors.length > 0 || list.data?.nextCursor) && (
        <div className="flex justify-end gap-2">
          <Button variant="secondary" disabled={!cursors.length} onClick={() => setCursors(cursors.slice(0, -1))}>
            ←
          </Button>
          <Button
            variant="secondary"
            disabled={!list.data?.nextCursor}
            onClick={() => list.data?.nextCursor && setCursors([...cursors, list.data.nextCursor])}
          >
            {t("more")} →
          </Button>
        </div>
      )}
    </div>
  );
}

/** A delivery's attempts, first to last. */
function Attempts({ delivery, pending }: { delivery: number; pending: boolean }) {
  const t = useTranslations("webhooks");
  const locale = useLocale();
  const trpc = useTRPC();
  const q = useQuery(trpc.webhooks.attempts.queryOptions({ delivery }, { refetchInterval: pending ? 2000 : false }));
  if (!q.data) return <p className="text-xs text-slate-500">{q.error ? q.error.message : t("loadingAttempts")}</p>;
  return (
    <ol className="flex flex-col gap-1 border-l-2 border-slate-200 pl-3 text-xs dark:border-slate-700">
      {q.data.items.map((a) => (
        <li key={a.attempt} data-testid="attempt" className="flex flex-wrap items-baseline gap-x-3">
          <span className="font-medium">{t("attemptNo", { n: a.attempt })}</span>
          <span className="text-slate-500">{fmtTimeSeconds(a.sentAt, locale)}</span>
          <span className="font-mono" data-testid="attempt-status">
            {a.responseStatus ?? "—"}
          </span>
          <span className="tabular-nums text-slate-500">{t("took", { ms: a.durationMs })}</span>
          <span className="min-w-0 max-w-full truncate text-slate-500" title={a.responseBody}>
            {a.responseBody || t("noAnswer")}
          </span>
        </li>
      ))}
    </ol>
  );
}
