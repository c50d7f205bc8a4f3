"use client";
// Apps: create (key and secret shown once), rotate the secret, enable/disable, callback URL,
// push/pull domains and signing scheme with a "sign a sample URL" check; a link to its webhooks.
import Link from "next/link";
import { useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, Field, Input, ListOf, Loading, SecretsOnce, Select } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { SIGN_SCHEMES, type SignScheme, SIGNUP_ROLES, type SignupRole } from "@/lib/domain";
import { useErrorText, useFieldErrors } from "@/lib/errors";
import { formText } from "@/lib/forms";

export default function Apps() {
  const t = useTranslations("apps");
  const tc = useTranslations("common");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const fieldErrors = useFieldErrors();
  const apps = useQuery(trpc.apps.list.queryOptions());
  const [revealed, setRevealed] = useState<{ accessKey?: string; secret: string }>();
  const [fields, setFields] = useState<Record<string, string>>({});
  const [editing, setEditing] = useState<number>();
  const [sampleFor, setSampleFor] = useState<number>();
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.apps.list.queryKey() });
  const create = useMutation(
    trpc.apps.create.mutationOptions({
      onSuccess: (r) => {
        setRevealed({ accessKey: r.accessKey, secret: r.secret });
        setFields({});
        void refresh();
      },
      onError: (e) => {
        setFields(fieldErrors(e));
        toast("error", err(e));
      },
    }),
  );
  const update = useMutation(
    trpc.apps.update.mutationOptions({
      onSuccess: () => {
        toast("success", tc("saved"));
        setEditing(undefined);
        void refresh();
      },
      onError: (e) => toast("error", err(e)),
    }),
  );
  const rotate = useMutation(
    trpc.apps.rotateSecret.mutationOptions({
      onSuccess: (r) => setRevealed({ secret: r.secret }),
      onError: (e) => toast("error", err(e)),
    }),
  );
  const sample = useQuery(trpc.media.sampleUrls.queryOptions({ id: sampleFor ?? 0 }, { enabled: !!sampleFor }));

  /** An optional text field: null when left empty. */
  const opt = (f: FormData, name: string) => formText(f, name) || null;
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    create.mutate({
      name: formText(f, "name"),
      callbackUrl: opt(f, "callbackUrl"),
      pushDomain: opt(f, "pushDomain"),
      pullDomain: opt(f, "pullDomain"),
      signScheme: formText(f, "signScheme") as SignScheme,
    });
    e.currentTarget.reset();
  }

  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("title")}</h1>
      {revealed && (
        <SecretsOnce
          title={t("secretOnce")}
          secrets={[
            ...(revealed.accessKey ? [{ label: t("accessKey"), value: revealed.accessKey, testId: "access-key" }] : []),
            { label: t("secret"), value: revealed.secret, testId: "app-secret" },
          ]}
          onClose={() => setRevealed(undefined)}
          testId="secret-reveal"
        />
      )}
      <Card title={t("create")}>
        <form onSubmit={submit} className="grid gap-3 md:grid-cols-3" aria-label={t("create")}>
          <Field label={t("name")} error={fields.name}>
            <Input name="name" required maxLength={128} />
          </Field>
          <Field label={t("callbackUrl")} error={fields.callbackUrl}>
            <Input name="callbackUrl" type="url" placeholder="https://" />
          </Field>
          <Field label={t("signScheme")}>
            <Select name="signScheme" defaultValue="onair">
              {SIGN_SCHEMES.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </Select>
          </Field>
          <Field label={t("pushDomain")} error={fields.pushDomain}>
            <Input name="pushDomain" placeholder="push.example.com:1935" />
          </Field>
          <Field label={t("pullDomain")} error={fields.pullDomain}>
            <Input name="pullDomain" placeholder="play.example.com" />
          </Field>
          <div className="flex items-end">
            <Button type="submit" disabled={create.isPending}>
              {tc("create")}
            </Button>
          </div>
        </form>
      </Card>
      <ListOf query={apps} items={apps.data} empty={t("empty")}>
        {(items) => (
          <div className="grid gap-4">
            {items.map((a) => (
              <Card
                key={a.id}
                title={
                  <span>
                    {a.name}{" "}
                    <span className="text-sm font-normal text-slate-500">
                      · {t("id")} {a.id}
                    </span>
                  </span>
                }
                actions={
                  <div className="flex flex-wrap gap-2">
                    <Button variant="secondary" onClick={() => update.mutate({ id: a.id, enabled: !a.enabled })}>
                      {a.enabled ? t("disable") : t("enable")}
                    </Button>
                    <Button variant="secondary" onClick={() => setEditing(editing === a.id ? undefined : a.id)}>
                      {t("edit")}
                    </Button>
                    <Button variant="secondary" onClick={() => setSampleFor(sampleFor === a.id ? undefined : a.id)}>
                      {t("sample")}
                    </Button>
                    <Link
                      href={`/admin/apps/${a.id}/webhooks`}
                      className="inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-2 text-sm font-medium text-slate-800 hover:bg-slate-50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800"
                    >
                      {t("webhooks")}
                    </Link>
                    <Button variant="danger" onClick={() => confirm(t("rotateConfirm")) && rotate.mutate({ id: a.id })}>
                      {t("rotate")}
                    </Button>
                  </div>
                }
              >
                <dl className="grid gap-x-6 gap-y-1 text-sm sm:grid-cols-2">
                  <div className="flex gap-2">
                    <dt className="text-slate-500">{t("accessKey")}</dt>
                    <dd className="font-mono">{a.accessKey}</dd>
                  </div>
                  <div className="flex gap-2">
                    <dt className={a.enabled ? "text-emerald-600" : "text-red-600"}>
                      {a.enabled ? t("enabled") : t("disabled")}
                    </dt>
                    <dd>
                      · {t("signScheme")}: {a.signScheme}
                    </dd>
                  </div>
                  <div className="flex gap-2">
                    <dt className="text-slate-500">{t("callbackUrl")}</dt>
                    <dd className="break-all">{a.callbackUrl ?? "—"}</dd>
                  </div>
                  <div className="flex gap-2">
                    <dt className="text-slate-500">{t("pushDomain")}</dt>
                    <dd>{a.pushDomain ?? "—"}</dd>
                  </div>
                  <div className="flex gap-2">
                    <dt className="text-slate-500">{t("pullDomain")}</dt>
                    <dd>{a.pullDomain ?? "—"}</dd>
                  </div>
                  <div className="flex gap-2">
                    <dt className="text-slate-500">{t("signupRole")}</dt>
                    <dd data-testid="signup-role">{t(`signupRole_${a.signupRole}`)}</dd>
                  </div>
                </dl>
                {a.auiDemoLogin && (
                  <p
                    role="alert"
                    data-testid="aui-demo-warning"
                    className="mt-2 rounded-md bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:bg-amber-950 dark:text-amber-200"
                  >
                    {t("auiDemoLoginWarning")}
                  </p>
                )}
                {editing === a.id && (
                  <form
                    className="mt-3 grid gap-3 md:grid-cols-2"
                    onSubmit={(e) => {
                      e.preventDefault();
                      const f = new FormData(e.currentTarget);
                      update.mutate({
                        id: a.id,
                        callbackUrl: opt(f, "callbackUrl"),
                        pushDomain: opt(f, "pushDomain"),
                        pullDomain: opt(f, "pullDomain"),
                        signScheme: formText(f, "signScheme") as SignScheme,
                        sxbSign: f.get("sxbSign") === "on",
                        auiDemoLogin: f.get("auiDemoLogin") === "on",
                        signupRole: formText(f, "signupRole") as SignupRole,
                        chatWords: formText(f, "chatWords"),
                      });
                    }}
                  >
                    <Field label={t("callbackUrl")}>
                      <Input name="callbackUrl" defaultValue={a.callbackUrl ?? ""} />
                    </Field>
                    <Field label={t("signScheme")}>
                      <Select name="signScheme" defaultValue={a.signScheme}>
                        {SIGN_SCHEMES.map((s) => (
                          <option key={s}>{s}</option>
                        ))}
                      </Select>
                    </Field>
                    <Field label={t("pushDomain")}>
                      <Input name="pushDomain" defaultValue={a.pushDomain ?? ""} />
                    </Field>
                    <Field label={t("pullDomain")}>
                      <Input name="pullDomain" defaultValue={a.pullDomain ?? ""} />
                    </Field>
                    <label className="flex items-center gap-2 text-sm">
                      <input type="checkbox" name="sxbSign" defaultChecked={a.sxbSign} className="h-4 w-4" />
                      {t("sxbSign")}
                    </label>
                    <label className="flex items-center gap-2 text-sm">
                      <input type="checkbox" name="auiDemoLogin" defaultChecked={a.auiDemoLogin} className="h-4 w-4" />
                      {t("auiDemoLogin")}
                    </label>
                    <Field label={t("signupRole")}>
                      <Select name="signupRole" defaultValue={a.signupRole}>
                        {SIGNUP_ROLES.map((r) => (
                          <option key={r} value={r}>
                            {t(`signupRole_${r}`)}
                          </option>
                        ))}
                      </Select>
                    </Field>
                    <Field label={t("chatWords")} hint={t("chatWordsHint")}>
                      <textarea
                        name="chatWords"
                        defaultValue={a.chatWords}
                        rows={3}
                        maxLength={16_000}
                        className="rounded-md border border-slate-300 bg-transparent px-3 py-2 text-sm dark:border-slate-700"
                      />
                    </Field>
                    <div>
                      <Button type="submit">{tc("save")}</Button>
                    </div>
                  </form>
                )}
                {sampleFor === a.id && (
                  <div className="mt-3 rounded-md bg-slate-50 p-3 text-xs dark:bg-slate-800">
                    <p className="mb-2 text-slate-500">{t("sampleHint")}</p>
                    {sample.data ? (
                      <ul className="space-y-1 break-all font-mono">
                        <li>push: {sample.data.push.rtmp_url}</li>
                        <li>flv: {sample.data.pull.flv_url}</li>
                        <li>hls: {sample.data.pull.hls_url}</li>
                      </ul>
                    ) : (
                      <Loading />
                    )}
                  </div>
                )}
              </Card>
            ))}
          </div>
        )}
      </ListOf>
    </div>
  );
}
