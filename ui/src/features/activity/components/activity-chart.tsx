/**
 * A small grouped bar chart of plain elements (no chart library in the bundle); text stays at a
 * readable size at any width. Screen readers get the same numbers as a table.
 */
import type { DayCount } from "../daily-counts";

export function ActivityChart({ data }: { data: DayCount[] }) {
  const max = Math.max(1, ...data.map((d) => Math.max(d.created, d.completed)));
  const labelEvery = Math.ceil(data.length / 7);
  return (
    <figure className="rounded-lg border border-slate-200 bg-white p-3 dark:border-slate-700 dark:bg-slate-900">
      <figcaption className="mb-3 flex flex-wrap items-center gap-x-4 gap-y-1 text-sm">
        <span className="font-medium">Tasks per day, last {data.length} days</span>
        <span className="flex items-center gap-1">
          <span aria-hidden="true" className="inline-block h-3 w-3 rounded-sm bg-blue-600 dark:bg-blue-400" /> Created
        </span>
        <span className="flex items-center gap-1">
          <span aria-hidden="true" className="inline-block h-3 w-3 rounded-sm bg-emerald-600 dark:bg-emerald-400" /> Completed
        </span>
      </figcaption>
      <div aria-hidden="true" data-testid="activity-chart">
        <div className="flex h-36 items-end gap-1 border-b border-slate-300 dark:border-slate-600">
          {data.map((d) => (
            <div key={d.day} className="flex h-full flex-1 items-end justify-center gap-px" title={`${d.day}: ${d.created} created, ${d.completed} completed`}>
              <div className="w-1/2 max-w-4 rounded-t-sm bg-blue-600 dark:bg-blue-400" style={{ height: `${(d.created / max) * 100}%` }} />
              <div className="w-1/2 max-w-4 rounded-t-sm bg-emerald-600 dark:bg-emerald-400" style={{ height: `${(d.completed / max) * 100}%` }} />
            </div>
          ))}
        </div>
        <div className="mt-1 flex gap-1 text-xs text-slate-600 dark:text-slate-400">
          {data.map((d, i) => (
            <span key={d.day} className="flex-1 text-center whitespace-nowrap">
              {i % labelEvery === 0 || i === data.length - 1 ? `${Number(d.day.slice(5, 7))}/${Number(d.day.slice(8))}` : ""}
            </span>
          ))}
        </div>
        <p className="mt-1 text-xs text-slate-600 dark:text-slate-400">Highest: {max} in a day</p>
      </div>
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
