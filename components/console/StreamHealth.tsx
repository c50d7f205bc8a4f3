"use client";
// The health strip of a room's incoming stream (go-live panel and admin room page), after Owncast's
// and IVS's: the figures of the latest reading, warnings a host can act on, bitrate and frame rate
// over time. Readings come from whichever media server carries the stream (server/media/health.ts).
import { useQuery } from "@tanstack/react-query";
import { useLocale, useTranslations } from "next-intl";
import { useTRPC } from "@/lib/trpc";
import { Card, Empty, ErrorBox } from "@/components/ui";
import type { RoomStatus } from "@/lib/domain";
import { healthChart } from "@/lib/chart";
import { useErrorText } from "@/lib/errors";
import { fmtDuration } from "@/lib/format";
import { TimeChart } from "./TimeChart";

function Figure({
  label,
  value,
  testId,
  bad,
  sub,
}: {
  label: string;
  value: string;
  testId: string;
  bad?: boolean;
  /** A second line (the codec under a bitrate). */
  sub?: string | null;
}) {
  return (
    <div className="min-w-0 rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-800 dark:bg-slate-900">
      <div className="text-xs uppercase leading-tight tracking-wide text-slate-500">{label}</div>
      <div
        className={`mt-1 truncate text-lg font-semibold tabular-nums ${bad ? "text-amber-700 dark:text-amber-400" : ""}`}
        data-testid={testId}
        title={value}
      >
        {value}
      </div>
      {sub && (
        <div className="truncate text-xs text-slate-500" data-testid={`${testId}-codec`}>
          {sub}
        </div>
      )}
    </div>
  );
}

export function StreamHealth({ room, status }: { room: string; status: RoomStatus }) {
  const t = useTranslations("health");
  const locale = useLocale();
  const trpc = useTRPC();
  const err = useErrorText();
  const health = useQuery(
    trpc.media.health.queryOptions({ room }, { refetchInterval: status === "ended" ? false : 5000 }),
  );
  if (health.error) return <ErrorBox message={err(health.error)} />;
  const h = health.data;
  const l = h?.latest;
  const dash = "—";
  const kbps = (v: number | null) => (v === null ? dash : t("kbps", { v }));
  const warn = new Set(h?.warnings.map((w) => w.code));
  const chart = healthChart(h?.series ?? [], locale);
  return (
    <Card
      title={t("title")}
      actions={
        l && (
          <span className="text-xs text-slate-500" data-testid="health-source">
            {t("source", { source: t(`sources.${l.source}` as "sources.embedded") })}
          </span>
        )
      }
    >
      <div data-testid="stream-health" data-current={h?.current || undefined}>
        {!l ? (
          <Empty>{t("none")}</Empty>
        ) : (
          <>
            {!h.current && (
              <p className="mb-3 text-sm text-slate-500">
                {t("stale", { time: new Date(l.at).toLocaleTimeString(locale) })}
              </p>
            )}
            {h.warnings.length > 0 && (
              <ul
                className="mb-3 flex flex-col gap-1 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-200"
                role="alert"
              >
                {h.warnings.map((w) => (
                  <li key={w.code} data-testid={`health-warning-${w.code}`}>
                    ⚠{" "}
                    {w.code === "keyframe"
                      ? t("warnKeyframe", { s: (w.intervalMs / 1000).toFixed(1) })
                      : w.code === "bitrate"
                        ? t("warnBitrate", { kbps: w.kbps, baseline: w.baselineKbps })
                        : t("warnFps", { fps: w.fps, nominal: w.nominalFps })}
                  </li>
                ))}
              </ul>
            )}
            {h.current && !h.warnings.length && (
              <p className="mb-3 text-sm text-emerald-700 dark:text-emerald-400" data-testid="health-ok">
                ✓ {t("good")}
              </p>
            )}
            <div className="grid grid-cols-2 gap-3 sm:grid-cols-4 xl:grid-cols-7">
              <Figure
                label={t("resolution")}
                testId="health-resolution"
                value={l.width && l.height ? `${l.width}×${l.height}` : dash}
              />
              <Figure
                label={t("fps")}
                testId="health-fps"
                bad={warn.has("fps")}
                value={
                  l.fps === null
                    ? l.nominalFps === null
                      ? dash
                      : t("fpsNominal", { nominal: l.nominalFps })
                    : t("fpsValue", { fps: l.fps })
                }
              />
              <Figure
                label={t("video")}
                testId="health-video"
                bad={warn.has("bitrate")}
                value={kbps(l.videoKbps)}
                sub={l.videoCodec}
              />
              <Figure
                label={t("keyframe")}
                testId="health-keyframe"
                bad={warn.has("keyframe")}
                value={
                  l.keyframeIntervalMs === null ? dash : t("seconds", { s: (l.keyframeIntervalMs / 1000).toFixed(1) })
                }
              />
              <Figure label={t("audio")} testId="health-audio" value={kbps(l.audioKbps)} sub={l.audioCodec} />
              <Figure
                label={t("uptime")}
                testId="health-uptime"
                value={l.uptimeS === null ? dash : fmtDuration(l.uptimeS * 1000)}
              />
              <Figure
                label={t("dropped")}
                testId="health-dropped"
                value={l.droppedFrames === null ? dash : String(l.droppedFrames)}
              />
            </div>
            <div className="mt-4 h-44" aria-label={t("chart")} data-testid="health-chart">
              <TimeChart
                data={chart.data}
                ticks={chart.ticks}
                label={chart.label}
                legend
                lines={[
                  { key: "kbps", name: t("kbpsLine"), color: "#2563eb" },
                  { key: "fps", name: t("fpsLine"), color: "#16a34a", axis: "right" },
                ]}
              />
            </div>
          </>
        )}
      </div>
    </Card>
  );
}
