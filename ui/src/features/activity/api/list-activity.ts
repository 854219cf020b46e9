import { apiRequest } from "@/lib/api-client";
import type { TaskEvent } from "@/features/tasks/types";

export function listActivity(
  options: { limit?: number; offset?: number; eventType?: string } = {},
  signal?: AbortSignal,
): Promise<{ events: TaskEvent[]; total: number }> {
  return apiRequest("/api/activity", {
    query: { limit: options.limit ?? 50, offset: options.offset ?? 0, event_type: options.eventType },
    signal,
  });
}
