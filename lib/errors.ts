"use client";
// Server errors in the person's language: the server's code picks the message; field errors come along.
import { useTranslations } from "next-intl";

type TrpcLikeError = {
  message?: string;
  data?: { appCode?: string; details?: { fields?: Record<string, string> } } | null;
};

export function useErrorText() {
  const t = useTranslations("errors");
  return (e: unknown) => {
    const err = e as TrpcLikeError;
    const code = err?.data?.appCode;
    return code && t.has(code as "INTERNAL") ? t(code as "INTERNAL") : (err?.message ?? t("INTERNAL"));
  };
}

export const fieldErrors = (e: unknown): Record<string, string> => (e as TrpcLikeError)?.data?.details?.fields ?? {};
