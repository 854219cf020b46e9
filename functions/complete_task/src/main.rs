//! POST /api/tasks/{id}/complete: toggle a task's completion.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::runtime::run(tasks::http::complete_task::FUNCTION).await
}
