//! Event adapters: the Dapr sidecar client (publish, state, output bindings) and the in-process
//! idempotency store. The in-process publisher lives with the consumers in `app::events`.

pub mod dapr;
pub mod memory;
