import { apiRequest } from "@/lib/api-client";
import type { Task } from "../types";

/** Toggles completed <-> pending. */
export function toggleComplete(id: string): Promise<Task> {
  return apiRequest<Task>(`/api/tasks/${encodeURIComponent(id)}/complete`, { method: "POST" });
}
