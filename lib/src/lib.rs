//! The Todo service's shared library. Every function binary and the all-in-one server are a few
//! lines of wiring around this crate.
//!
//! Module map (arrows point down only):
//!
//! ```text
//! runtime      config -> telemetry -> adapters -> serve (axum, or lambda_http on Lambda)
//! http/        one module per function (routes), error model, extractors, DTOs, OpenAPI docs
//! app/         use-cases: task commands and queries
//! ports        the traits the use-cases need (TaskStore)
//! storage/     PostgreSQL and SQLite adapters (migrations in lib/migrations/{postgres,sqlite})
//! events/      Dapr sidecar client (publish, state, bindings), in-process idempotency store
//! domain/      Task and its validated field types, recurrence rules, events: pure, no I/O
//! ```

pub mod app;
pub mod config;
pub mod domain;
pub mod events;
pub mod flights;
pub mod http;
pub mod ports;
pub mod runtime;
pub mod snapshot_cache;
pub mod storage;
pub mod telemetry;
