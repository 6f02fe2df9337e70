import {
  Area,
  Bar,
  CartesianGrid,
  ComposedChart,
  Legend,
  Line,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from 'recharts';
import { fmt, fmtCompact } from '../format';

export interface UsageSeries {
  range: string;
  unit: 'minute' | 'hour' | 'day';
  points: { t: string; requests: number; limited: number; errors: number }[];
  baseline: { t: string; low: number; high: number }[] | null;
  baselineNote: string;
}

function tick(iso: string, unit: UsageSeries['unit']): string {
  const d = new Date(iso);
  if (unit === 'day') return d.toISOString().slice(5, 10);
  if (unit === 'hour') return `${d.toISOString().slice(5, 10)} ${d.toISOString().slice(11, 13)}h`;
  return d.toISOString().slice(11, 16);
}

/** Requests per bucket against the account's baseline band (when the analyzer provides one), limited requests as bars. */
export function UsageChart({ series, height = 300 }: { series: UsageSeries; height?: number }) {
  const band = new Map((series.baseline ?? []).map((b) => [b.t, [b.low, b.high] as [number, number]]));
  const data = series.points.map((p) => ({ ...p, band: band.get(p.t) }));
  return (
    <div className="chart" data-testid="usage-chart">
      <ResponsiveContainer width="100%" height={height}>
        <ComposedChart data={data} margin={{ top: 8, right: 12, bottom: 0, left: 0 }}>
          <CartesianGrid stroke="#e8ebf0" vertical={false} />
          <XAxis
            dataKey="t"
            tickFormatter={(t: string) => tick(t, series.unit)}
            minTickGap={40}
            tick={{ fontSize: 11, fill: '#6b7280' }}
          />
          <YAxis tickFormatter={(v: number) => fmtCompact(v)} width={48} tick={{ fontSize: 11, fill: '#6b7280' }} />
          <Tooltip
            labelFormatter={(t) => `${new Date(String(t)).toISOString().replace('T', ' ').slice(0, 16)} UTC`}
            formatter={(value, name) =>
              (Array.isArray(value)
                ? `${fmt(Number(value[0]))} – ${fmt(Number(value[1]))}`
                : fmt(Number(value))) as never
            }
            contentStyle={{ borderRadius: 8, borderColor: '#d9dee7', fontSize: 12 }}
          />
          <Legend wrapperStyle={{ fontSize: 12 }} />
          {series.baseline && (
            <Area
              type="monotone"
              dataKey="band"
              name="baseline band"
              stroke="none"
              fill="#93c5fd"
              fillOpacity={0.35}
              isAnimationActive={false}
            />
          )}
          <Bar
            dataKey="limited"
            name={`limited / ${series.unit}`}
            fill="#f97316"
            opacity={0.75}
            isAnimationActive={false}
          />
          <Line
            type="monotone"
            dataKey="requests"
            name={`requests / ${series.unit}`}
            stroke="#2563eb"
            strokeWidth={2}
            dot={false}
            isAnimationActive={false}
          />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}

/** A small area chart for the overview. */
export function Sparkline({
  points,
  height = 140,
}: {
  points: { t: string; requests: number; limited: number }[];
  height?: number;
}) {
  return (
    <ResponsiveContainer width="100%" height={height}>
      <ComposedChart data={points} margin={{ top: 4, right: 8, bottom: 0, left: 0 }}>
        <CartesianGrid stroke="#eef0f4" vertical={false} />
        <XAxis
          dataKey="t"
          tickFormatter={(t: string) => t.slice(11, 16)}
          minTickGap={50}
          tick={{ fontSize: 11, fill: '#6b7280' }}
        />
        <YAxis tickFormatter={(v: number) => fmtCompact(v)} width={44} tick={{ fontSize: 11, fill: '#6b7280' }} />
        <Tooltip labelFormatter={(t) => `${String(t).slice(11, 16)} UTC`} formatter={(v) => fmt(Number(v)) as never} />
        <Area
          type="monotone"
          dataKey="requests"
          name="requests / min"
          stroke="#2563eb"
          fill="#bfdbfe"
          fillOpacity={0.6}
          isAnimationActive={false}
        />
        <Area
          type="monotone"
          dataKey="limited"
          name="limited / min"
          stroke="#f97316"
          fill="#fed7aa"
          fillOpacity={0.7}
          isAnimationActive={false}
        />
      </ComposedChart>
    </ResponsiveContainer>
  );
}
