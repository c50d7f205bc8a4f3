"use client";
import { signIn } from "next-auth/react";
import { useState, type FormEvent } from "react";
import { useTranslations } from "next-intl";
import { LanguageSwitch } from "@/components/console/LanguageSwitch";

/** Where to go after signing in: a path on this site only (never another origin), else home. */
function returnPath(raw: string | null): string {
  if (!raw || !raw.startsWith("/") || raw.startsWith("//") || raw.startsWith("/\\")) return "/";
  return raw;
}

export default function SignIn() {
  const t = useTranslations("signin");
  const te = useTranslations("errors");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    setBusy(true);
    setError(undefined);
    const r = await signIn("credentials", {
      username: f.get("username"),
      password: f.get("password"),
      redirect: false,
    });
    setBusy(false);
    if (r?.ok && !r.error)
      window.location.href = returnPath(new URLSearchParams(window.location.search).get("callbackUrl"));
    else setError(r?.error === "DISABLED" ? te("DISABLED") : te("BAD_CREDENTIALS"));
  }

  return (
    <main className="mx-auto flex min-h-screen max-w-sm flex-col justify-center p-6">
      <div className="mb-8 flex items-center justify-between">
        <span className="flex items-center gap-2 text-xl font-semibold">
          <span className="h-3 w-3 rounded-full bg-red-500" aria-hidden />
          onair
        </span>
        <LanguageSwitch />
      </div>
      <h1 className="mb-6 text-2xl font-semibold">{t("title")}</h1>
      <form onSubmit={submit} className="flex flex-col gap-4" noValidate>
        <label className="flex flex-col gap-1 text-sm">
          {t("username")}
          <input
            name="username"
            autoComplete="username"
            required
            className="rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900"
          />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          {t("password")}
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            className="rounded-md border border-slate-300 px-3 py-2 dark:border-slate-700 dark:bg-slate-900"
          />
        </label>
        {error && (
          <p role="alert" className="text-sm text-red-600">
            {error}
          </p>
        )}
        <button
          disabled={busy}
          className="rounded-md bg-slate-900 px-4 py-2 text-white disabled:opacity-60 dark:bg-white dark:text-slate-900"
        >
          {busy ? t("busy") : t("submit")}
        </button>
      </form>
    </main>
  );
}
