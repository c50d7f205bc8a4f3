// next-intl without locale routing: the person's choice (cookie) or else their browser's language.
import { cookies, headers } from "next/headers";
import { getRequestConfig } from "next-intl/server";

export const LOCALES = ["en", "zh-CN"] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_COOKIE = "onair-locale";

export function pickLocale(cookie: string | undefined, acceptLanguage: string | null): Locale {
  if (cookie === "en" || cookie === "zh-CN") return cookie;
  const langs = (acceptLanguage ?? "")
    .toLowerCase()
    .split(",")
    .map((l) => l.split(";")[0]!.trim());
  for (const l of langs) {
    if (l.startsWith("zh")) return "zh-CN";
    if (l.startsWith("en")) return "en";
  }
  return "en";
}

export default getRequestConfig(async () => {
  const locale = pickLocale((await cookies()).get(LOCALE_COOKIE)?.value, (await headers()).get("accept-language"));
  const messages = ((await import(`../messages/${locale}.json`)) as { default: Record<string, unknown> }).default;
  return { locale, messages };
});
