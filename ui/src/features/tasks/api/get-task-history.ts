import { apiRequest } from "@/lib/api-client";
import type { TaskEvent } from "../types";

export function getTaskHistory(id: string, signal?: AbortSignal): Promise<{ events: TaskEvent[]; total: number }> {
  return apiRequest(`/api/tasks/${encodeURIComponent(id)}/history`, { query: { limit: 100 }, signal });
}
