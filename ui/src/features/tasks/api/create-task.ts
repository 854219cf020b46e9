import { apiRequest } from "@/lib/api-client";
import type { Task, TaskInput } from "../types";

export function createTask(input: TaskInput): Promise<Task> {
  return apiRequest<Task>("/api/tasks", { method: "POST", body: input });
}
