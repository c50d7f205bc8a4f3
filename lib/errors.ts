"use client";
// Server errors in the person's language: the server's code picks the message; a validation error
// names each field and its rule (from `details.rules`, which the server sends along with zod's text).
import { useTranslations } from "next-intl";
import type { FieldRule } from "@/server/errors";

/** A broken validation rule as the server describes it (server/errors.ts `badInput`). */
export type { FieldRule };

type TrpcLikeError = {
  message?: string;
  data?: {
    appCode?: string;
    details?: { fields?: Record<string, string>; rules?: Record<string, FieldRule> };
  } | null;
};

type Translate = (key: string, values?: Record<string, string | number>) => string;

/** One rule in words, e.g. "Must be at least 1 character". */
export function ruleText(t: Translate, r: FieldRule): string {
  const sized = r.origin === "string" ? "string" : r.origin === "array" || r.origin === "set" ? "list" : "number";
  switch (r.code) {
    case "too_small":
      if (r.min === undefined) break;
      return sized === "string"
        ? t("tooShort", { min: r.min })
        : sized === "list"
          ? t("tooFew", { min: r.min })
          : t("tooSmall", { min: r.min });
    case "too_big":
      if (r.max === undefined) break;
      return sized === "string"
        ? t("tooLong", { max: r.max })
        : sized === "list"
          ? t("tooMany", { max: r.max })
          : t("tooBig", { max: r.max });
    case "invalid_format":
      return r.format === "url"
        ? t("url")
        : r.format === "email"
          ? t("email")
          : r.format === "uuid" || r.format === "guid"
            ? t("id")
            : t("format");
    case "invalid_type":
      return t("type");
    case "invalid_value":
      return t("value");
    case "custom":
      if (r.rule === "url") return t("url");
      if (r.rule === "source_url") return t("sourceUrl");
      if (r.rule === "source_address") return t("sourceAddress");
      if (r.rule === "outbound") return t("outbound");
      break;
  }
  return t("invalid");
}

const detailsOf = (e: unknown) => (e as TrpcLikeError)?.data?.details;

/** Each invalid field's rule in words, by field name (for the form's `Field error=`). */
export function useFieldErrors() {
  const t = useTranslations("validation");
  return (e: unknown): Record<string, string> => {
    const d = detailsOf(e);
    const out: Record<string, string> = {};
    for (const k of Object.keys(d?.fields ?? {})) out[k] = ruleText(t, d?.rules?.[k] ?? { code: "" });
    return out;
  };
}

export function useErrorText() {
  const t = useTranslations("errors");
  const tv = useTranslations("validation");
  const tf = useTranslations("fields");
  const fields = useFieldErrors();
  return (e: unknown) => {
    const err = e as TrpcLikeError;
    const code = err?.data?.appCode;
    const byField = Object.entries(fields(e));
    if (code === "BAD_REQUEST" && byField.length) {
      const list = byField.map(([k, rule]) => {
        const name = k.split(".").at(-1) ?? k;
        return tv("fieldRule", { field: tf.has(name as "title") ? tf(name as "title") : k, rule });
      });
      return list.length === 1 ? list[0]! : tv("checkFields", { list: list.join("; ") });
    }
    return code && t.has(code as "INTERNAL") ? t(code as "INTERNAL") : (err?.message ?? t("INTERNAL"));
  };
}
