import { apiRequest } from "@/lib/api-client";

export interface AppNotification {
  id: string;
  task_id: string;
  title: string;
  message: string;
  due_at: string | null;
  created_at: string;
  read_at: string | null;
}

export function listNotifications(
  options: { unread?: boolean; limit?: number } = {},
  signal?: AbortSignal,
): Promise<{ notifications: AppNotification[]; total: number; unread?: number }> {
  return apiRequest("/api/notifications", {
    query: { unread: options.unread ? "true" : undefined, limit: options.limit ?? 20 },
    signal,
  });
}
