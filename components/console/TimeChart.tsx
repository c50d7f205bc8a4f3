"use client";
// A line chart over time with whole-step time ticks (lib/chart.ts): the audience chart and the
// stream-health chart. Each line may have its own axis (left or right).
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export interface TimeLine {
  key: string;
  name: string;
  color: string;
  axis?: "left" | "right";
}

export function TimeChart({
  data,
  lines,
  ticks,
  label,
  legend,
}: {
  data: Array<{ at: number } & Record<string, number | null>>;
  lines: TimeLine[];
  ticks: number[];
  label: (at: number) => string;
  legend?: boolean;
}) {
  const right = lines.some((l) => l.axis === "right");
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={data} margin={{ left: -20, right: right ? -12 : 8, top: 8 }}>
        <CartesianGrid strokeDasharray="3 3" stroke="#e2e8f0" />
        <XAxis
          dataKey="at"
          type="number"
          scale="time"
          domain={["dataMin", "dataMax"]}
          ticks={ticks}
          tickFormatter={label}
          fontSize={11}
          minTickGap={24}
        />
        <YAxis yAxisId="left" allowDecimals={false} fontSize={11} />
        {right && <YAxis yAxisId="right" orientation="right" allowDecimals={false} fontSize={11} />}
        <Tooltip labelFormatter={(at) => label(Number(at))} />
        {legend && <Legend verticalAlign="top" height={24} iconSize={10} wrapperStyle={{ fontSize: 12 }} />}
        {lines.map((l) => (
          <Line
            key={l.key}
            yAxisId={l.axis ?? "left"}
            type="monotone"
            dataKey={l.key}
            name={l.name}
            stroke={l.color}
            strokeWidth={2}
            dot={false}
            connectNulls
            isAnimationActive={false}
          />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}
