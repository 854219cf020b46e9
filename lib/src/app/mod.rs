//! Use-cases: the task commands and queries. They depend on the domain and the ports only.

pub mod events;
pub mod tasks;

pub use tasks::{AppError, TaskService};
