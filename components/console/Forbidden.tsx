import { getTranslations } from "next-intl/server";

export async function Forbidden() {
  const t = await getTranslations("errors");
  return (
    <div
      className="mx-auto mt-16 max-w-md rounded-lg border border-red-200 bg-red-50 p-6 text-center text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200"
      role="alert"
      data-testid="forbidden"
    >
      <p className="text-lg font-semibold">403</p>
      <p>{t("FORBIDDEN")}</p>
    </div>
  );
}
