import { AppShell } from "@/components/app-shell";
import { TasksPage } from "@/features/tasks/components/tasks-page";

export default function Home() {
  return (
    <AppShell current="tasks">
      <TasksPage />
    </AppShell>
  );
}
