//! A function driven through `lambda_http` with an API Gateway HTTP API (v2) event: the same
//! router that serves HTTP answers Lambda-shaped requests.

mod support;

use http_body_util::BodyExt;
use lambda_http::request::from_str;
use serde_json::{Value, json};
use tasks::http::{self, ServiceOptions};
use tower::ServiceExt;

fn apigw_v2(method: &str, path: &str, query: &str, body: Option<Value>) -> String {
    json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"content-type": "application/json", "host": "abc.execute-api.eu-west-1.amazonaws.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc",
            "domainName": "abc.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "test"},
            "requestId": "req-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "27/Nov/2026:04:00:00 +0000",
            "timeEpoch": 1795752000000u64
        },
        "body": body.map(|b| b.to_string()),
        "isBase64Encoded": false
    })
    .to_string()
}

#[tokio::test]
async fn create_and_list_through_api_gateway_v2_events() {
    let dir = support::TempDir::new();
    let state = support::state(support::stores(&support::sqlite_url(&dir)).await);
    let create = http::service(
        (http::create_task::FUNCTION.routes)(),
        state.clone(),
        &ServiceOptions::default(),
    );
    let list = http::service(
        (http::list_tasks::FUNCTION.routes)(),
        state,
        &ServiceOptions::default(),
    );

    let req = from_str(&apigw_v2(
        "POST",
        "/api/tasks",
        "",
        Some(json!({"title": "from lambda", "priority": "high"})),
    ))
    .expect("API Gateway v2 event");
    let resp = create.oneshot(req).await.expect("response");
    assert_eq!(resp.status(), 201);
    let created: Value =
        serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes())
            .expect("json");
    assert_eq!(created["title"], "from lambda");

    let req = from_str(&apigw_v2("GET", "/api/tasks", "priority=high", None)).expect("event");
    let resp = list.clone().oneshot(req).await.expect("response");
    assert_eq!(resp.status(), 200);
    let page: Value =
        serde_json::from_slice(&resp.into_body().collect().await.expect("body").to_bytes())
            .expect("json");
    assert_eq!(page["total"], 1);
    assert_eq!(page["tasks"][0]["id"], created["id"]);

    let req = from_str(&apigw_v2("GET", "/api/tasks", "priority=urgent", None)).expect("event");
    assert_eq!(list.oneshot(req).await.expect("response").status(), 422);
}
