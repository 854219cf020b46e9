import { apiRequest } from "@/lib/api-client";
import type { Task } from "../types";

export function getTask(id: string, signal?: AbortSignal): Promise<Task> {
  return apiRequest<Task>(`/api/tasks/${encodeURIComponent(id)}`, { signal });
}
