"use client";
// Users: create, set role, disable (revokes their tokens; asked first, never one's own account),
// reset password (a form in the row, checked before it is sent).
import { Fragment, useState, type FormEvent } from "react";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Button, Card, Field, Input, ListOf, Select } from "@/components/ui";
import { useToast } from "@/components/ui/toast";
import { ROLES, type Role } from "@/lib/domain";
import { ruleText, useErrorText, useFieldErrors } from "@/lib/errors";
import { formText } from "@/lib/forms";

const PAGE = 20;
const MIN_PASSWORD = 8;

/** A new password for one user, in the page (not a browser prompt): checked here, then by the server. */
function ResetPassword({ id, username, onDone }: { id: string; username: string; onDone: () => void }) {
  const t = useTranslations("users");
  const tc = useTranslations("common");
  const tv = useTranslations("validation");
  const trpc = useTRPC();
  const toast = useToast();
  const err = useErrorText();
  const fieldErrors = useFieldErrors();
  const [error, setError] = useState<string>();
  const reset = useMutation(
    trpc.users.resetPassword.mutationOptions({
      onSuccess: () => {
        toast("success", t("passwordChanged"));
        onDone();
      },
      onError: (e) => {
        setError(fieldErrors(e).password);
        toast("error", err(e));
      },
    }),
  );
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const password = formText(new FormData(e.currentTarget), "password");
    if (password.length < MIN_PASSWORD) {
      setError(ruleText(tv, { code: "too_small", origin: "string", min: MIN_PASSWORD }));
      return;
    }
    setError(undefined);
    reset.mutate({ id, password });
  }
  return (
    <form
      onSubmit={submit}
      noValidate
      aria-label={t("resetFor", { username })}
      className="flex flex-wrap items-end gap-3 rounded-md bg-slate-50 p-3 dark:bg-slate-800/50"
    >
      <Field label={t("newPassword")} error={error}>
        <Input name="password" type="password" autoComplete="new-password" autoFocus minLength={MIN_PASSWORD} />
      </Field>
      <Button type="submit" disabled={reset.isPending}>
        {tc("save")}
      </Button>
      <Button type="button" variant="ghost" onClick={onDone}>
        {tc("cancel")}
      </Button>
    </form>
  );
}

export default function Users() {
  const t = useTranslations("users");
  const tn = useTranslations("nav");
  const tc = useTranslations("common");
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const err = useErrorText();
  const fieldErrors = useFieldErrors();
  const [role, setRole] = useState<Role | "">("");
  const [q, setQ] = useState("");
  const [offset, setOffset] = useState(0);
  const [fields, setFields] = useState<Record<string, string>>({});
  const [resetting, setResetting] = useState<string>();
  const me = useQuery(trpc.auth.me.queryOptions());
  const apps = useQuery(trpc.apps.list.queryOptions());
  const list = useQuery(
    trpc.users.list.queryOptions({ role: role || undefined, q: q || undefined, limit: PAGE, offset }),
  );
  const refresh = () => qc.invalidateQueries({ queryKey: trpc.users.list.queryKey() });
  const onError = (e: unknown) => toast("error", err(e));
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: () => {
        toast("success", t("created"));
        setFields({});
        void refresh();
      },
      onError: (e) => {
        setFields(fieldErrors(e));
        onError(e);
      },
    }),
  );
  const setRoleM = useMutation(trpc.users.setRole.mutationOptions({ onSuccess: () => refresh(), onError }));
  const setDisabled = useMutation(trpc.users.setDisabled.mutationOptions({ onSuccess: () => refresh(), onError }));

  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const appId = Number(f.get("appId"));
    create.mutate({
      username: formText(f, "username"),
      password: formText(f, "password"),
      role: formText(f, "role") as Role,
      nick: formText(f, "nick") || undefined,
      appId: appId || undefined,
    });
  }

  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("title")}</h1>
      <Card title={t("create")}>
        <form onSubmit={submit} className="grid gap-3 md:grid-cols-3" aria-label={t("create")}>
          <Field label={t("username")} error={fields.username}>
            <Input name="username" required autoComplete="off" />
          </Field>
          <Field label={t("password")} error={fields.password}>
            <Input name="password" type="password" required minLength={8} autoComplete="new-password" />
          </Field>
          <Field label={t("nick")}>
            <Input name="nick" />
          </Field>
          <Field label={t("role")}>
            <Select name="role" defaultValue="host">
              {ROLES.map((r) => (
                <option key={r} value={r}>
                  {tn(`role_${r}`)}
                </option>
              ))}
            </Select>
          </Field>
          <Field label={t("app")} error={fields.appId}>
            <Select name="appId">
              {apps.data?.map((a) => (
                <option key={a.id} value={a.id}>
                  {a.name}
                </option>
              ))}
            </Select>
          </Field>
          <div className="flex items-end">
            <Button type="submit" disabled={create.isPending}>
              {tc("create")}
            </Button>
          </div>
        </form>
      </Card>
      <Card>
        <div className="mb-3 flex flex-wrap gap-3">
          <Input
            aria-label={tc("search")}
            placeholder={tc("search")}
            value={q}
            onChange={(e) => {
              setQ(e.target.value);
              setOffset(0);
            }}
          />
          <Select
            aria-label={t("role")}
            value={role}
            onChange={(e) => {
              setRole(e.target.value as Role | "");
              setOffset(0);
            }}
          >
            <option value="">{tc("all")}</option>
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {tn(`role_${r}`)}
              </option>
            ))}
          </Select>
        </div>
        <ListOf query={list} items={list.data?.items} empty={t("empty")}>
          {(items) => (
            <div className="overflow-x-auto">
              <table className="w-full text-left text-sm">
                <thead className="text-xs uppercase text-slate-500">
                  <tr>
                    <th className="py-2">{t("username")}</th>
                    <th>{t("role")}</th>
                    <th>{t("app")}</th>
                    <th>{tc("actions")}</th>
                  </tr>
                </thead>
                <tbody className="divide-y divide-slate-100 dark:divide-slate-800">
                  {items.map((u) => (
                    <Fragment key={u.id}>
                      <tr data-username={u.username}>
                        <td className="py-2">
                          <div className="font-medium">
                            {u.username}
                            {u.id === me.data?.id && <span className="ml-1 text-xs text-slate-500">({t("you")})</span>}
                          </div>
                          <div className="text-xs text-slate-500">
                            {u.nick}
                            {u.disabled && (
                              <span className="ml-2 rounded bg-red-100 px-1 text-red-700">{t("disabledBadge")}</span>
                            )}
                          </div>
                        </td>
                        <td>
                          <Select
                            aria-label={`${t("role")} ${u.username}`}
                            value={u.role}
                            disabled={u.id === me.data?.id}
                            onChange={(e) => setRoleM.mutate({ id: u.id, role: e.target.value as Role })}
                          >
                            {ROLES.map((r) => (
                              <option key={r} value={r}>
                                {tn(`role_${r}`)}
                              </option>
                            ))}
                          </Select>
                        </td>
                        <td>{apps.data?.find((a) => a.id === u.appId)?.name ?? "—"}</td>
                        <td className="flex flex-wrap gap-2 py-2">
                          {/* One's own account is never disabled here (the server refuses it too). */}
                          {me.data && u.id !== me.data.id && (
                            <Button
                              variant="secondary"
                              onClick={() =>
                                (u.disabled || confirm(t("disableConfirm", { username: u.username }))) &&
                                setDisabled.mutate({ id: u.id, disabled: !u.disabled })
                              }
                            >
                              {u.disabled ? t("enable") : t("disable")}
                            </Button>
                          )}
                          <Button
                            variant="ghost"
                            aria-expanded={resetting === u.id}
                            onClick={() => setResetting(resetting === u.id ? undefined : u.id)}
                          >
                            {t("resetPassword")}
                          </Button>
                        </td>
                      </tr>
                      {resetting === u.id && (
                        <tr>
                          <td colSpan={4} className="pb-3">
                            <ResetPassword id={u.id} username={u.username} onDone={() => setResetting(undefined)} />
                          </td>
                        </tr>
                      )}
                    </Fragment>
                  ))}
                </tbody>
              </table>
              <div className="mt-3 flex items-center justify-between text-sm">
                <span className="text-slate-500">{list.data?.total}</span>
                <div className="flex gap-2">
                  <Button
                    variant="secondary"
                    disabled={offset === 0}
                    onClick={() => setOffset(Math.max(0, offset - PAGE))}
                  >
                    {tc("prev")}
                  </Button>
                  <Button
                    variant="secondary"
                    disabled={offset + PAGE >= (list.data?.total ?? 0)}
                    onClick={() => setOffset(offset + PAGE)}
                  >
                    {tc("next")}
                  </Button>
                </div>
              </div>
            </div>
          )}
        </ListOf>
      </Card>
    </div>
  );
}
