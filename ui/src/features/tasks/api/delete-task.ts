import { apiRequest } from "@/lib/api-client";

export function deleteTask(id: string, options: { keepalive?: boolean } = {}): Promise<void> {
  return apiRequest<void>(`/api/tasks/${encodeURIComponent(id)}`, { method: "DELETE", keepalive: options.keepalive });
}
