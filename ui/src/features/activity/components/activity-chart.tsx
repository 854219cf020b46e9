/** A small grouped bar chart in plain SVG (no chart library in the bundle), with a table for screen readers. */
import type { DayCount } from "../daily-counts";

export function ActivityChart({ data }: { data: DayCount[] }) {
  const max = Math.max(1, ...data.map((d) => Math.max(d.created, d.completed)));
  const w = 600;
  const h = 160;
  const pad = 20;
  const slot = (w - pad) / Math.max(1, data.length);
  const bar = Math.max(2, slot / 2 - 2);
  const y = (v: number) => h - pad - (v / max) * (h - pad * 2);
  return (
    <figure className="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-700 dark:bg-slate-900">
      <figcaption className="mb-2 flex flex-wrap items-center gap-4 text-sm">
        <span className="font-medium">Tasks per day, last {data.length} days</span>
        <span className="flex items-center gap-1">
          <span aria-hidden="true" className="inline-block h-3 w-3 rounded-sm bg-blue-600 dark:bg-blue-400" /> Created
        </span>
        <span className="flex items-center gap-1">
          <span aria-hidden="true" className="inline-block h-3 w-3 rounded-sm bg-emerald-600 dark:bg-emerald-400" /> Completed
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} className="h-40 w-full" role="img" aria-label="Bar chart of tasks created and completed per day" data-testid="activity-chart">
        <line x1={pad} x2={w} y1={h - pad} y2={h - pad} className="stroke-slate-300 dark:stroke-slate-600" />
        <text x={0} y={pad} className="fill-slate-600 text-[10px] dark:fill-slate-400">
          {max}
        </text>
        {data.map((d, i) => {
          const x = pad + i * slot + 1;
          return (
            <g key={d.day}>
              <rect x={x} y={y(d.created)} width={bar} height={h - pad - y(d.created)} className="fill-blue-600 dark:fill-blue-400">
                <title>{`${d.day}: ${d.created} created`}</title>
              </rect>
              <rect x={x + bar + 1} y={y(d.completed)} width={bar} height={h - pad - y(d.completed)} className="fill-emerald-600 dark:fill-emerald-400">
                <title>{`${d.day}: ${d.completed} completed`}</title>
              </rect>
              {(i % Math.ceil(data.length / 7) === 0 || i === data.length - 1) && (
                <text x={x} y={h - 5} className="fill-slate-600 text-[10px] dark:fill-slate-400">
                  {d.day.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <table className="sr-only">
        <caption>Tasks created and completed per day</caption>
        <thead>
          <tr>
            <th scope="col">Day</th>
            <th scope="col">Created</th>
            <th scope="col">Completed</th>
          </tr>
        </thead>
        <tbody>
          {data.map((d) => (
            <tr key={d.day}>
              <th scope="row">{d.day}</th>
              <td>{d.created}</td>
              <td>{d.completed}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
