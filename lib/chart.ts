// The audience chart's series and time axis (RoomPanel), kept apart from recharts so it can be tested.
// Ticks are whole steps of time (10 s … 1 day) chosen so no two read the same, and an ended room's
// line comes down to zero at its end instead of holding its last count.
import type { RoomStatus } from "./domain";

export interface AudienceChart {
  data: { at: number; online: number }[];
  /** Where the time axis has its labels. */
  ticks: number[];
  label: (at: number) => string;
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const STEPS = [10, 15, 30]
  .map((s) => s * SECOND)
  .concat([1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440].map((m) => m * MINUTE));

/** Whole-step ticks within [from, to], at most `most` of them, and whether labels need seconds. */
export function timeTicks(from: number, to: number, most = 6): { ticks: number[]; step: number } {
  const span = Math.max(0, to - from);
  const step = STEPS.find((s) => span / s <= most - 1) ?? STEPS.at(-1)!;
  const ticks: number[] = [];
  for (let at = Math.ceil(from / step) * step; at <= to; at += step) ticks.push(at);
  if (ticks.length < 2 && span > 0) return { ticks: [from, to], step: span < MINUTE ? SECOND : MINUTE };
  return { ticks, step };
}

export function audienceChart(
  samples: ReadonlyArray<{ at: Date | string; online: number }>,
  room: { status: RoomStatus; stoppedAt?: Date | string | null },
  locale: string,
): AudienceChart {
  const data = samples.map((s) => ({ at: new Date(s.at).getTime(), online: s.online }));
  const last = data.at(-1);
  if (room.status === "ended" && last && last.online !== 0) {
    const end = room.stoppedAt ? new Date(room.stoppedAt).getTime() : last.at;
    data.push({ at: Math.max(end, last.at), online: 0 });
  }
  if (!data.length) return { data, ticks: [], label: () => "" };
  const { ticks, step } = timeTicks(data[0]!.at, data.at(-1)!.at);
  const withSeconds = step % MINUTE !== 0;
  const fmt = new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    ...(withSeconds ? { second: "2-digit" } : {}),
  });
  return { data, ticks, label: (at) => fmt.format(at) };
}

export interface HealthChart {
  data: { at: number; kbps: number | null; fps: number | null }[];
  ticks: number[];
  label: (at: number) => string;
}

/** The stream-health chart's series (bitrate and frame rate) on the same time axis as the audience chart. */
export function healthChart(
  series: ReadonlyArray<{ at: Date | string; kbps: number | null; fps: number | null }>,
  locale: string,
): HealthChart {
  const data = series.map((s) => ({ at: new Date(s.at).getTime(), kbps: s.kbps, fps: s.fps }));
  if (!data.length) return { data, ticks: [], label: () => "" };
  const { ticks, step } = timeTicks(data[0]!.at, data.at(-1)!.at);
  const fmt = new Intl.DateTimeFormat(locale, {
    hour: "2-digit",
    minute: "2-digit",
    ...(step % MINUTE !== 0 ? { second: "2-digit" } : {}),
  });
  return { data, ticks, label: (at) => fmt.format(at) };
}
