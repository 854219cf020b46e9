import { apiRequest } from "@/lib/api-client";
import type { TaskFilters, TaskPage } from "../types";

export function listTasks(
  filters: TaskFilters,
  page: { limit: number; offset: number },
  signal?: AbortSignal,
): Promise<TaskPage> {
  return apiRequest<TaskPage>("/api/tasks", {
    query: {
      status: filters.status,
      priority: filters.priority,
      tag: filters.tag,
      search: filters.search.trim(),
      sort_by: filters.sort_by,
      sort_order: filters.sort_order,
      limit: page.limit,
      offset: page.offset,
    },
    signal,
  });
}
