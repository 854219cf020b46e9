import { apiRequest } from "@/lib/api-client";
import type { Task, TaskPatch } from "../types";

/** Partial update. With `expectedVersion` the server refuses (412) if someone changed the task meanwhile. */
export function updateTask(id: string, patch: TaskPatch, expectedVersion?: number): Promise<Task> {
  return apiRequest<Task>(`/api/tasks/${encodeURIComponent(id)}`, {
    method: "PATCH",
    body: patch,
    headers: expectedVersion === undefined ? undefined : { "If-Match": `"${expectedVersion}"` },
  });
}
