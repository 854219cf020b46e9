//! PATCH /api/tasks/{id}: update some fields of a task.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::runtime::run(tasks::http::update_task::FUNCTION).await
}
