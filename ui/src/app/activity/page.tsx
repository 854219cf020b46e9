import { AppShell } from "@/components/app-shell";
import { ActivityPage } from "@/features/activity/components/activity-page";

export const metadata = { title: "Activity · Todo" };

export default function Activity() {
  return (
    <AppShell current="activity">
      <ActivityPage />
    </AppShell>
  );
}
