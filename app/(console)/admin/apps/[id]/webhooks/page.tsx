"use client";
// An app's webhooks: endpoints (add, edit, enable/disable, rotate the secret, delete), the signing
// secret shown once, and each endpoint's deliveries with "Redeliver".
import Link from "next/link";
import { use, useState } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, ErrorBox, ListOf, SecretsOnce } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { WebhookDeliveries } from "@/components/console/WebhookDeliveries";
import { WebhookEndpointForm } from "@/components/console/WebhookEndpointForm";
import { useErrorText, useFieldErrors } from "@/lib/errors";

export default function Webhooks({ params }: { params: Promise<{ id: string }> }) {
  const appId = Number(use(params).id);
  const t = useTranslations("webhooks");
  const tc = useTranslations("common");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const fieldErrors = useFieldErrors();
  const app = useQuery(trpc.apps.get.queryOptions({ id: appId }, { enabled: appId > 0 }));
  const endpoints = useQuery(trpc.webhooks.list.queryOptions({ appId }, { enabled: appId > 0 }));
  const [secret, setSecret] = useState<string>();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [adding, setAdding] = useState(false);
  const [editing, setEditing] = useState<number>();
  const [open, setOpen] = useState<number>();
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.webhooks.list.queryKey() });
  const onError = (e: unknown) => {
    setFields(fieldErrors(e));
    toast("error", err(e));
  };
  const create = useMutation(
    trpc.webhooks.create.mutationOptions({
      onSuccess: (r) => {
        setSecret(r.secret);
        setFields({});
        setAdding(false);
        setOpen(r.endpoint.id);
        void refresh();
      },
      onError,
    }),
  );
  const update = useMutation(
    trpc.webhooks.update.mutationOptions({
      onSuccess: () => {
        toast("success", tc("saved"));
        setFields({});
        setEditing(undefined);
        void refresh();
      },
      onError,
    }),
  );
  const remove = useMutation(
    trpc.webhooks.delete.mutationOptions({ onSuccess: () => void refresh(), onError: (e) => toast("error", err(e)) }),
  );
  const rotate = useMutation(
    trpc.webhooks.rotateSecret.mutationOptions({
      onSuccess: (r) => setSecret(r.secret),
      onError: (e) => toast("error", err(e)),
    }),
  );

  return (
    <div className="flex flex-col gap-6">
      <div>
        <Link href="/admin/apps" className="text-sm text-blue-700 hover:underline dark:text-blue-300">
          ← {t("back")}
        </Link>
        <h1 className="min-w-0 truncate text-2xl font-semibold" title={app.data?.name}>
          {t("title")} · {app.data?.name ?? "…"}
        </h1>
        <p className="text-sm text-slate-500">{t("intro")}</p>
      </div>
      {app.error && <ErrorBox message={err(app.error)} />}
      {secret && (
        <SecretsOnce
          title={t("secretOnce")}
          secrets={[{ label: t("secret"), value: secret, testId: "webhook-secret-value" }]}
          onClose={() => setSecret(undefined)}
          testId="webhook-secret"
        />
      )}
      {adding ? (
        <Card title={t("add")}>
          <WebhookEndpointForm
            submitLabel={t("add")}
            busy={create.isPending}
            errors={fields}
            onSubmit={(f) => create.mutate({ appId, ...f })}
            onCancel={() => setAdding(false)}
          />
        </Card>
      ) : (
        <div>
          <Button onClick={() => setAdding(true)} disabled={!app.data}>
            {t("add")}
          </Button>
        </div>
      )}
      <ListOf query={endpoints} items={endpoints.data} empty={t("empty")}>
        {(items) =>
          items.map((ep) => (
            <Card
              key={ep.id}
              title={
                <span className="flex min-w-0 items-center gap-2">
                  <span
                    className={`h-2 w-2 shrink-0 rounded-full ${ep.enabled ? "bg-emerald-500" : "bg-slate-400"}`}
                    aria-label={ep.enabled ? t("enabled") : t("disabled")}
                  />
                  <span className="min-w-0 truncate font-mono text-sm" title={ep.url} data-testid="endpoint-url">
                    {ep.url}
                  </span>
                </span>
              }
              actions={
                <div className="flex flex-wrap gap-2">
                  <Button variant="secondary" onClick={() => setOpen(open === ep.id ? undefined : ep.id)}>
                    {t("showDeliveries")}
                  </Button>
                  <Button variant="secondary" onClick={() => setEditing(editing === ep.id ? undefined : ep.id)}>
                    {t("edit")}
                  </Button>
                  <Button variant="secondary" onClick={() => update.mutate({ id: ep.id, enabled: !ep.enabled })}>
                    {ep.enabled ? t("disable") : t("enable")}
                  </Button>
                  <Button
                    variant="secondary"
                    onClick={() => confirm(t("rotateConfirm")) && rotate.mutate({ id: ep.id })}
                  >
                    {t("rotate")}
                  </Button>
                  <Button variant="danger" onClick={() => confirm(t("deleteConfirm")) && remove.mutate({ id: ep.id })}>
                    {t("delete")}
                  </Button>
                </div>
              }
            >
              {ep.description && <p className="mb-2 break-words text-sm">{ep.description}</p>}
              <div className="flex flex-wrap gap-1">
                {ep.events.map((e) => (
                  <code key={e} className="rounded bg-slate-100 px-1.5 py-0.5 text-xs dark:bg-slate-800">
                    {e}
                  </code>
                ))}
              </div>
              {editing === ep.id && (
                <div className="mt-3 border-t border-slate-100 pt-3 dark:border-slate-800">
                  <WebhookEndpointForm
                    initial={ep}
                    submitLabel={tc("save")}
                    busy={update.isPending}
                    errors={fields}
                    onSubmit={(f) => update.mutate({ id: ep.id, ...f })}
                    onCancel={() => setEditing(undefined)}
                  />
                </div>
              )}
              {open === ep.id && <WebhookDeliveries endpointId={ep.id} />}
            </Card>
          ))
        }
      </ListOf>
    </div>
  );
}
