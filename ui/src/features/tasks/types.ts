/** The Task resource and its query parameters, as the API defines them. */
export const STATUSES = ["pending", "in_progress", "completed"] as const;
export type TaskStatus = (typeof STATUSES)[number];
export const PRIORITIES = ["low", "medium", "high"] as const;
export type TaskPriority = (typeof PRIORITIES)[number];
export const SORT_FIELDS = ["created_at", "due_date", "priority", "title"] as const;
export type SortField = (typeof SORT_FIELDS)[number];
export type SortOrder = "asc" | "desc";
export type RecurrenceAnchor = "schedule" | "completion";

export interface Task {
  id: string;
  title: string;
  description: string | null;
  status: TaskStatus;
  priority: TaskPriority;
  tags: string[];
  due_date: string | null;
  reminder_at: string | null;
  is_recurring: boolean;
  recurrence_rule: string | null;
  recurrence_anchor: RecurrenceAnchor;
  timezone: string;
  series_id: string | null;
  completed_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface TaskInput {
  title: string;
  description?: string | null;
  status?: TaskStatus;
  priority?: TaskPriority;
  tags?: string[];
  due_date?: string | null;
  reminder_at?: string | null;
  is_recurring?: boolean;
  recurrence_rule?: string | null;
  recurrence_anchor?: RecurrenceAnchor;
  timezone?: string;
}

export type TaskPatch = Partial<TaskInput>;

export interface TaskFilters {
  status: TaskStatus | "";
  priority: TaskPriority | "";
  tag: string;
  search: string;
  sort_by: SortField;
  sort_order: SortOrder;
}

export const DEFAULT_FILTERS: TaskFilters = {
  status: "",
  priority: "",
  tag: "",
  search: "",
  sort_by: "created_at",
  sort_order: "desc",
};

export interface TaskPage {
  tasks: Task[];
  total: number;
  limit: number;
  offset: number;
}

export interface TagCount {
  name: string;
  count: number;
}

export interface TaskEvent {
  id: string;
  event_type: string;
  task_id: string;
  timestamp: string;
  payload: Record<string, unknown> | null;
}

export const STATUS_LABELS: Record<TaskStatus, string> = {
  pending: "To do",
  in_progress: "In progress",
  completed: "Done",
};

export const PRIORITY_LABELS: Record<TaskPriority, string> = { low: "Low", medium: "Medium", high: "High" };
