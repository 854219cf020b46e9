//! DELETE /api/tasks/{id}: delete a task.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::runtime::run(tasks::http::delete_task::FUNCTION).await
}
