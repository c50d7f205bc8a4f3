// The vendor APIs onair speaks, with their base paths and machine-readable descriptions.
import { getTranslations } from "next-intl/server";
import { API_LIST } from "@/server/compat/openapi";

export default async function Apis() {
  const t = await getTranslations("apis");
  return (
    <div className="flex flex-col gap-6">
      <h1 className="text-2xl font-semibold">{t("title")}</h1>
      <p className="text-slate-600 dark:text-slate-400">{t("intro")}</p>
      <ul className="grid gap-3 md:grid-cols-2">
        {API_LIST.map((a) => (
          <li
            key={a.id}
            className="rounded-lg border border-slate-200 bg-white p-4 dark:border-slate-800 dark:bg-slate-900"
          >
            <p className="font-medium">{a.name}</p>
            <p className="mt-1 text-sm text-slate-500">
              {t("base")}: <code>{a.base}</code>
            </p>
            <a className="mt-2 inline-block text-sm text-blue-600 underline" href={`/api/openapi/${a.id}.json`}>
              {t("open")}
            </a>
          </li>
        ))}
      </ul>
    </div>
  );
}
