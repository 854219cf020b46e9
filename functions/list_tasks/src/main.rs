//! GET /api/tasks, /api/tasks/{id}, /api/tags and the API docs: the read side.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::runtime::run(tasks::http::list_tasks::FUNCTION).await
}
