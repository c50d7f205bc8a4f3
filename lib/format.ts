// Dates arrive as ISO strings (no transformer on the wire); these format them for people.
export const toDate = (d: Date | string | null | undefined) => (d ? new Date(d) : undefined);
export function fmtTime(d: Date | string | null | undefined, locale: string) {
  const x = toDate(d);
  return x ? x.toLocaleString(locale, { dateStyle: "short", timeStyle: "short" }) : "—";
}
/** With seconds: for events seconds apart (a webhook's retries). */
export function fmtTimeSeconds(d: Date | string | null | undefined, locale: string) {
  const x = toDate(d);
  return x ? x.toLocaleString(locale, { dateStyle: "short", timeStyle: "medium" }) : "—";
}
/** Whole seconds elapsed, as video players count them (a 6.9 s recording reads 0:06, as its player says). */
export function fmtDuration(ms: number) {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h ? `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}` : `${m}:${String(r).padStart(2, "0")}`;
}
export function fmtBytes(n: number) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
