//! GET /dapr/subscribe, POST /events/task-events and the cron-binding routes: the consumers.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::runtime::run(tasks::http::on_task_event::FUNCTION).await
}
