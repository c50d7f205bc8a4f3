"use client";
// Small UI building blocks shared by the console pages (Tailwind, keyboard-usable, labelled).
import {
  useState,
  type ButtonHTMLAttributes,
  type InputHTMLAttributes,
  type ReactNode,
  type SelectHTMLAttributes,
} from "react";
import { useTranslations } from "next-intl";
import type { RoomStatus } from "@/lib/domain";
import { useErrorText } from "@/lib/errors";

const cx = (...c: (string | false | undefined)[]) => c.filter(Boolean).join(" ");

export function Button({
  variant = "primary",
  className,
  ...p
}: ButtonHTMLAttributes<HTMLButtonElement> & { variant?: "primary" | "secondary" | "danger" | "ghost" }) {
  return (
    <button
      {...p}
      className={cx(
        "inline-flex items-center justify-center gap-2 rounded-md px-3 py-2 text-sm font-medium transition focus:outline-none focus-visible:ring-2 focus-visible:ring-blue-500 disabled:cursor-not-allowed disabled:opacity-50",
        variant === "primary" &&
          "bg-slate-900 text-white hover:bg-slate-700 dark:bg-white dark:text-slate-900 dark:hover:bg-slate-200",
        variant === "secondary" &&
          "border border-slate-300 bg-white text-slate-800 hover:bg-slate-50 dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100 dark:hover:bg-slate-800",
        variant === "danger" && "bg-red-600 text-white hover:bg-red-500",
        variant === "ghost" && "text-slate-600 hover:bg-slate-100 dark:text-slate-300 dark:hover:bg-slate-800",
        className,
      )}
    />
  );
}

export function Field({
  label,
  error,
  hint,
  children,
}: {
  label: string;
  error?: string;
  hint?: string;
  children: ReactNode;
}) {
  return (
    <label className="flex flex-col gap-1 text-sm">
      <span className="font-medium text-slate-700 dark:text-slate-300">{label}</span>
      {children}
      {hint && !error && <span className="text-xs text-slate-500">{hint}</span>}
      {error && (
        <span className="text-xs text-red-600" role="alert">
          {error}
        </span>
      )}
    </label>
  );
}

const inputCls =
  "rounded-md border border-slate-300 bg-white px-3 py-2 text-sm focus:border-blue-500 focus:outline-none focus:ring-1 focus:ring-blue-500 dark:border-slate-700 dark:bg-slate-900";
export const Input = (p: InputHTMLAttributes<HTMLInputElement>) => (
  <input {...p} className={cx(inputCls, p.className)} />
);
export const Select = (p: SelectHTMLAttributes<HTMLSelectElement>) => (
  <select {...p} className={cx(inputCls, p.className)} />
);

export function Card({
  title,
  actions,
  children,
  className,
}: {
  title?: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
}) {
  return (
    <section
      className={cx(
        "rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900",
        className,
      )}
    >
      {(title || actions) && (
        <header className="mb-3 flex flex-wrap items-center justify-between gap-2">
          {title && <h2 className="min-w-0 max-w-full text-base font-semibold">{title}</h2>}
          {actions}
        </header>
      )}
      {children}
    </section>
  );
}

const STATUS_STYLE: Record<RoomStatus, string> = {
  live: "bg-red-600 text-white",
  paused: "bg-amber-500 text-white",
  prepare: "bg-slate-200 text-slate-800 dark:bg-slate-700 dark:text-slate-100",
  ended: "bg-slate-500 text-white",
};
/**
 * A room's status. For viewers, pass `streamOnline`: a live room whose encoder is not pushing yet
 * reads "Starting soon", not "Live".
 */
export function StatusBadge({ status, streamOnline }: { status: RoomStatus; streamOnline?: boolean }) {
  const t = useTranslations("status");
  const starting = status === "live" && streamOnline === false;
  return (
    <span
      data-status={status}
      data-starting={starting || undefined}
      className={cx(
        "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-semibold",
        starting ? "bg-amber-100 text-amber-900 dark:bg-amber-900 dark:text-amber-100" : STATUS_STYLE[status],
      )}
    >
      {status === "live" && !starting && (
        <span className="h-1.5 w-1.5 animate-pulse rounded-full bg-white" aria-hidden />
      )}
      {starting ? t("starting") : t(status)}
    </span>
  );
}

export function CopyButton({ value, label }: { value: string; label?: string }) {
  const t = useTranslations("common");
  const [done, setDone] = useState(false);
  return (
    <Button
      type="button"
      variant="secondary"
      aria-label={label ? `${t("copy")} ${label}` : t("copy")}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(value);
        } catch {
          /* clipboard blocked: the value stays selectable on screen */
        }
        setDone(true);
        setTimeout(() => setDone(false), 1500);
      }}
    >
      {done ? t("copied") : t("copy")}
    </Button>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <p className="rounded-md border border-dashed border-slate-300 p-6 text-center text-sm text-slate-500 dark:border-slate-700">
      {children}
    </p>
  );
}
export function Loading() {
  const t = useTranslations("common");
  return (
    <p className="animate-pulse p-4 text-sm text-slate-500" role="status">
      {t("loading")}
    </p>
  );
}
export function ErrorBox({ message }: { message: string }) {
  return (
    <p className="rounded-md bg-red-50 p-3 text-sm text-red-700 dark:bg-red-950 dark:text-red-300" role="alert">
      {message}
    </p>
  );
}

export function Stat({ label, value }: { label: string; value: ReactNode }) {
  return (
    <div className="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
      <div className="text-xs uppercase tracking-wide text-slate-500">{label}</div>
      <div className="mt-1 text-2xl font-semibold tabular-nums" data-stat={label}>
        {value}
      </div>
    </div>
  );
}

/**
 * A query's list as every console page shows one: its error (when any), then "loading", the empty
 * text, or the items.
 */
export function ListOf<T>({
  query,
  items,
  empty,
  loading,
  children,
}: {
  query: { error: unknown; isLoading: boolean };
  items: T[] | undefined;
  empty: ReactNode;
  /** Also loading (another query the list needs). */
  loading?: boolean;
  children: (items: T[]) => ReactNode;
}) {
  const err = useErrorText();
  return (
    <>
      {!!query.error && <ErrorBox message={err(query.error)} />}
      {query.isLoading || loading ? <Loading /> : !items?.length ? <Empty>{empty}</Empty> : children(items)}
    </>
  );
}

/** Secrets shown once (an app's, a webhook endpoint's): each with a copy button, and a close. */
export function SecretsOnce({
  title,
  secrets,
  onClose,
  testId,
}: {
  title: string;
  secrets: Array<{ label: string; value: string; testId: string }>;
  onClose: () => void;
  testId: string;
}) {
  const tc = useTranslations("common");
  return (
    <div
      className="rounded-lg border-2 border-amber-400 bg-amber-50 p-4 dark:bg-amber-950"
      role="alert"
      data-testid={testId}
    >
      <p className="mb-3 font-medium">{title}</p>
      <div className="flex flex-col gap-2">
        {secrets.map((s) => (
          <div key={s.testId} className="flex flex-wrap items-center gap-2">
            <span className="w-24 text-sm">{s.label}</span>
            <code className="break-all rounded bg-white px-2 py-1 text-sm dark:bg-slate-900" data-testid={s.testId}>
              {s.value}
            </code>
            <CopyButton value={s.value} label={s.label} />
          </div>
        ))}
      </div>
      <Button className="mt-3" variant="secondary" onClick={onClose}>
        {tc("close")}
      </Button>
    </div>
  );
}
