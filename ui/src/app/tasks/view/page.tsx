import { AppShell } from "@/components/app-shell";
import { TaskDetail } from "@/features/tasks/components/task-detail";

export const metadata = { title: "Task · Todo" };

export default function TaskPage() {
  return (
    <AppShell current="task">
      <TaskDetail />
    </AppShell>
  );
}
