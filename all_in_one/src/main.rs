//! The all-in-one server: every function's routes, the API docs and the web UI on one port.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tasks::runtime::run_all_in_one().await
}
