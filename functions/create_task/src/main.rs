//! POST /api/tasks: create a task.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::runtime::run(tasks::http::create_task::FUNCTION).await
}
