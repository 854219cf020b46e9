//! The Dapr sidecar's HTTP API: publish (structured CloudEvents, partition key = task id), the
//! state store (create-only writes with a TTL for `Idempotency-Key`), and output bindings for
//! notification delivery. `DAPR_API_TOKEN` is sent as `dapr-api-token` on every call.

use std::time::Duration;

use async_trait::async_trait;
use serde_json::{Value, json};

use crate::app::events::Notifier;
use crate::ports::{
    IdempotencyStore, Notification, PublishError, Publisher, StoreError, StoredResponse,
};

/// Pub/sub component name.
pub const PUBSUB: &str = "pubsub";
/// State store component name.
pub const STATE_STORE: &str = "statestore";

/// A client for one sidecar.
#[derive(Clone)]
pub struct DaprClient {
    base: String,
    token: Option<String>,
    http: reqwest::Client,
    binding: Option<String>,
}

impl DaprClient {
    /// `base` like `http://127.0.0.1:3500`; `binding` names the output binding notifications go to.
    pub fn new(base: &str, token: Option<String>, binding: Option<String>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(2))
            .tcp_nodelay(true)
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        Self {
            base: base.trim_end_matches('/').to_string(),
            token,
            http,
            binding,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(t) = &self.token {
            r = r.header("dapr-api-token", t);
        }
        r
    }

    /// Whether an output binding is configured for notifications.
    pub fn has_binding(&self) -> bool {
        self.binding.is_some()
    }

    fn state_path(key: &str) -> String {
        format!("/v1.0/state/{STATE_STORE}/{}", urlencode(key))
    }

    async fn save(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl: u64,
        first_write: bool,
        etag: Option<&str>,
    ) -> Result<reqwest::Response, StoreError> {
        let mut item = json!({
            "key": key,
            "value": value,
            "metadata": {"ttlInSeconds": ttl.to_string()},
        });
        if first_write {
            item["options"] = json!({"concurrency": "first-write", "consistency": "strong"});
        }
        if let Some(etag) = etag {
            item["etag"] = json!(etag);
        }
        self.req(reqwest::Method::POST, &format!("/v1.0/state/{STATE_STORE}"))
            .json(&json!([item]))
            .send()
            .await
            .map_err(|e| StoreError::Remote(e.to_string()))
    }
}

/// Percent-encodes a state key for the URL path.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[async_trait]
impl Publisher for DaprClient {
    async fn publish(&self, cloudevent: &Value, partition_key: &str) -> Result<(), PublishError> {
        let path = format!(
            "/v1.0/publish/{PUBSUB}/{}?metadata.partitionKey={}",
            crate::domain::event::TOPIC,
            urlencode(partition_key)
        );
        let resp = self
            .req(reqwest::Method::POST, &path)
            .header("content-type", "application/cloudevents+json")
            .body(cloudevent.to_string())
            .send()
            .await
            .map_err(|e| PublishError::Transport(e.to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            let status = resp.status();
            let body = resp.text().await.unwrap_or_default();
            Err(PublishError::Refused(format!(
                "{status}: {}",
                body.chars().take(300).collect::<String>()
            )))
        }
    }

    async fn publish_batch(&self, events: &[(Value, String)]) -> Vec<Result<(), PublishError>> {
        let mut results: Vec<Option<Result<(), PublishError>>> =
            events.iter().map(|_| None).collect();
        for chunk_start in (0..events.len()).step_by(PUBLISH_CONCURRENCY) {
            let mut set = tokio::task::JoinSet::new();
            for (i, (ce, key)) in events
                .iter()
                .enumerate()
                .skip(chunk_start)
                .take(PUBLISH_CONCURRENCY)
            {
                let (client, ce, key) = (self.clone(), ce.clone(), key.clone());
                set.spawn(async move { (i, client.publish(&ce, &key).await) });
            }
            while let Some(joined) = set.join_next().await {
                match joined {
                    Ok((i, r)) => results[i] = Some(r),
                    Err(e) => tracing::error!(error = %e, "publish task failed"),
                }
            }
        }
        results
            .into_iter()
            .map(|r| {
                r.unwrap_or_else(|| {
                    Err(PublishError::Transport(
                        "publish task did not finish".into(),
                    ))
                })
            })
            .collect()
    }
}

/// Concurrent publishes per batch (the sidecar and the broker pipeline them).
const PUBLISH_CONCURRENCY: usize = 16;

#[async_trait]
impl IdempotencyStore for DaprClient {
    async fn get(&self, key: &str) -> Result<Option<StoredResponse>, StoreError> {
        let resp = self
            .req(reqwest::Method::GET, &Self::state_path(key))
            .send()
            .await
            .map_err(|e| StoreError::Remote(e.to_string()))?;
        if resp.status() == reqwest::StatusCode::NO_CONTENT
            || resp.status() == reqwest::StatusCode::NOT_FOUND
        {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(StoreError::Remote(format!("state get: {}", resp.status())));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| StoreError::Remote(e.to_string()))?;
        if bytes.is_empty() {
            return Ok(None);
        }
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| StoreError::Remote(format!("state value: {e}")))
    }

    async fn create(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl_secs: u64,
    ) -> Result<bool, StoreError> {
        let resp = self.save(key, value, ttl_secs, true, None).await?;
        if resp.status().is_success() {
            return Ok(true);
        }
        // A refused first-write comes back as a 500 (ERR_STATE_SAVE), like a real failure: the
        // key being there already is what tells them apart.
        if self.get(key).await?.is_some() {
            Ok(false)
        } else {
            Err(StoreError::Remote(format!("state save: {}", resp.status())))
        }
    }

    async fn put(
        &self,
        key: &str,
        value: &StoredResponse,
        ttl_secs: u64,
    ) -> Result<(), StoreError> {
        // A key written with first-write concurrency can only be overwritten with its ETag (Redis
        // refuses a plain save with ERR_STATE_SAVE), so read the ETag first and write with it.
        let etag = self
            .req(reqwest::Method::GET, &Self::state_path(key))
            .send()
            .await
            .map_err(|e| StoreError::Remote(e.to_string()))?
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let resp = self
            .save(key, value, ttl_secs, etag.is_some(), etag.as_deref())
            .await?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(StoreError::Remote(format!("state save: {}", resp.status())))
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let resp = self
            .req(reqwest::Method::DELETE, &Self::state_path(key))
            .send()
            .await
            .map_err(|e| StoreError::Remote(e.to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(StoreError::Remote(format!(
                "state delete: {}",
                resp.status()
            )))
        }
    }
}

#[async_trait]
impl Notifier for DaprClient {
    async fn deliver(&self, n: &Notification) -> Result<(), String> {
        let Some(binding) = &self.binding else {
            return Ok(());
        };
        let body = json!({
            "operation": "create",
            "data": {
                "id": n.id.to_string(),
                "task_id": n.task_id.to_string(),
                "title": n.title,
                "message": n.message,
                "due_at": n.due_at.map(|d| crate::domain::time::format_utc(&d)),
            },
            "metadata": {"content-type": "application/json"},
        });
        let resp = self
            .req(
                reqwest::Method::POST,
                &format!("/v1.0/bindings/{}", urlencode(binding)),
            )
            .json(&body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("binding {binding}: {}", resp.status()))
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn keys_are_percent_encoded() {
        assert_eq!(super::urlencode("idem|local|a b"), "idem%7Clocal%7Ca%20b");
    }
}
