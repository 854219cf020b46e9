/**
 * MSW stand-in for the API, for unit tests only (the browser tests run against the real server).
 * Implements the contract's behaviour that the UI relies on: filters, sorting, paging, toggling, errors.
 */
import { http, HttpResponse } from "msw";
import { setupServer } from "msw/node";
import type { Task } from "@/features/tasks/types";

export interface Recorded {
  method: string;
  url: URL;
  headers: Headers;
  body: unknown;
}

export const db: { tasks: Task[]; requests: Recorded[] } = { tasks: [], requests: [] };
let seq = 0;

export function makeTask(partial: Partial<Task> = {}): Task {
  seq++;
  const now = new Date(Date.UTC(2026, 10, 1, 12, 0, seq)).toISOString();
  return {
    id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
    title: `Task ${seq}`,
    description: null,
    status: "pending",
    priority: "medium",
    tags: [],
    due_date: null,
    reminder_at: null,
    is_recurring: false,
    recurrence_rule: null,
    recurrence_anchor: "schedule",
    timezone: "UTC",
    series_id: null,
    completed_at: null,
    created_at: now,
    updated_at: now,
    version: 1,
    ...partial,
  };
}

export function seed(...tasks: Partial<Task>[]): Task[] {
  const made = tasks.map((t) => makeTask(t));
  db.tasks.push(...made);
  return made;
}

export function resetDb() {
  db.tasks = [];
  db.requests = [];
  seq = 0;
}

export function requestsTo(method: string, pathPrefix: string): Recorded[] {
  return db.requests.filter((r) => r.method === method && r.url.pathname.startsWith(pathPrefix));
}

const notFound = () => HttpResponse.json({ detail: "Task not found" }, { status: 404 });

async function record(request: Request): Promise<Recorded> {
  let body: unknown = undefined;
  const text = await request.clone().text();
  if (text) body = JSON.parse(text);
  const rec = { method: request.method, url: new URL(request.url), headers: request.headers, body };
  db.requests.push(rec);
  return rec;
}

const PRIORITY_RANK = { low: 0, medium: 1, high: 2 } as const;

export const handlers = [
  http.get("*/api/tasks", async ({ request }) => {
    const { url } = await record(request);
    const q = url.searchParams;
    let list = db.tasks.slice();
    const status = q.get("status");
    const priority = q.get("priority");
    const tag = q.get("tag");
    const search = q.get("search")?.toLowerCase();
    if (status) list = list.filter((t) => t.status === status);
    if (priority) list = list.filter((t) => t.priority === priority);
    if (tag) list = list.filter((t) => t.tags.includes(tag));
    if (search) list = list.filter((t) => `${t.title} ${t.description ?? ""}`.toLowerCase().includes(search));
    const sortBy = q.get("sort_by") ?? "created_at";
    const dir = q.get("sort_order") === "asc" ? 1 : -1;
    list.sort((a, b) => {
      const av = sortBy === "priority" ? PRIORITY_RANK[a.priority] : String(a[sortBy as keyof Task] ?? "");
      const bv = sortBy === "priority" ? PRIORITY_RANK[b.priority] : String(b[sortBy as keyof Task] ?? "");
      return (av < bv ? -1 : av > bv ? 1 : 0) * dir || a.id.localeCompare(b.id);
    });
    const limit = Number(q.get("limit") ?? 50);
    const offset = Number(q.get("offset") ?? 0);
    return HttpResponse.json({ tasks: list.slice(offset, offset + limit), total: list.length, limit, offset });
  }),
  http.post("*/api/tasks", async ({ request }) => {
    const { body } = await record(request);
    const input = body as Partial<Task>;
    if (!input.title?.trim()) {
      return HttpResponse.json(
        { detail: "Validation failed", errors: [{ field: "title", message: "title must not be empty" }] },
        { status: 422 },
      );
    }
    const task = makeTask({ ...input, title: input.title.trim(), created_at: new Date().toISOString() });
    db.tasks.push(task);
    return HttpResponse.json(task, { status: 201 });
  }),
  http.get("*/api/tasks/:id", async ({ request, params }) => {
    await record(request);
    const task = db.tasks.find((t) => t.id === params.id);
    return task ? HttpResponse.json(task) : notFound();
  }),
  http.patch("*/api/tasks/:id", async ({ request, params }) => {
    const { body, headers } = await record(request);
    const task = db.tasks.find((t) => t.id === params.id);
    if (!task) return notFound();
    const ifMatch = headers.get("If-Match");
    if (ifMatch && ifMatch !== `"${task.version}"`) {
      return HttpResponse.json({ detail: "Version mismatch" }, { status: 412 });
    }
    Object.assign(task, body as Partial<Task>, { version: task.version + 1 });
    if (task.status === "completed" && !task.completed_at) task.completed_at = new Date().toISOString();
    if (task.status !== "completed") task.completed_at = null;
    return HttpResponse.json(task);
  }),
  http.delete("*/api/tasks/:id", async ({ request, params }) => {
    await record(request);
    const i = db.tasks.findIndex((t) => t.id === params.id);
    if (i < 0) return notFound();
    db.tasks.splice(i, 1);
    return new HttpResponse(null, { status: 204 });
  }),
  http.post("*/api/tasks/:id/complete", async ({ request, params }) => {
    await record(request);
    const task = db.tasks.find((t) => t.id === params.id);
    if (!task) return notFound();
    const completing = task.status !== "completed";
    task.status = completing ? "completed" : "pending";
    task.completed_at = completing ? new Date().toISOString() : null;
    task.version++;
    return HttpResponse.json(task);
  }),
  http.get("*/api/tags", async ({ request }) => {
    await record(request);
    const counts = new Map<string, number>();
    for (const t of db.tasks) for (const tag of t.tags) counts.set(tag, (counts.get(tag) ?? 0) + 1);
    return HttpResponse.json({ tags: Array.from(counts, ([name, count]) => ({ name, count })) });
  }),
  // Not deployed yet in these tests unless a test overrides them.
  http.get("*/api/activity", async ({ request }) => {
    await record(request);
    return HttpResponse.json({ detail: "Not Found" }, { status: 404 });
  }),
  http.get("*/api/notifications", async ({ request }) => {
    await record(request);
    return HttpResponse.json({ detail: "Not Found" }, { status: 404 });
  }),
];

export const server = setupServer(...handlers);
