//! Each function's router driven in-process (`tower::ServiceExt::oneshot`) against a real SQLite
//! database: the API contract of DESIGN §2, including hostile input.

mod support;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tasks::http::{self, AppState, ServiceOptions};
use tower::ServiceExt;

struct Api {
    _dir: support::TempDir,
    state: AppState,
}

impl Api {
    async fn new() -> Self {
        let dir = support::TempDir::new();
        let store = support::stores(&support::sqlite_url(&dir)).await;
        Api {
            _dir: dir,
            state: support::state(store),
        }
    }

    /// The service of one function, as its binary serves it.
    fn function(&self, f: http::Function) -> Router {
        http::service((f.routes)(), self.state.clone(), &ServiceOptions::default())
    }

    /// The service that routes each request to the function that owns it.
    fn for_route(&self, method: &Method, path: &str) -> Router {
        use tasks::http::{complete_task, create_task, delete_task, list_tasks, update_task};
        let f = match *method {
            Method::POST if path.trim_end_matches('/').ends_with("/complete") => {
                complete_task::FUNCTION
            }
            Method::POST => create_task::FUNCTION,
            Method::PATCH => update_task::FUNCTION,
            Method::DELETE => delete_task::FUNCTION,
            _ => list_tasks::FUNCTION,
        };
        self.function(f)
    }

    async fn send(&self, req: Request<Body>) -> (StatusCode, HeaderMap, Value) {
        let app = self.for_route(req.method(), req.uri().path());
        let resp = app.oneshot(req).await.expect("infallible");
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, headers, body)
    }

    async fn call(
        &self,
        method: Method,
        uri: &str,
        body: Option<Value>,
    ) -> (StatusCode, HeaderMap, Value) {
        let mut b = Request::builder().method(method).uri(uri);
        let body = match body {
            Some(v) => {
                b = b.header("content-type", "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        self.send(b.body(body).expect("request")).await
    }

    async fn create(&self, body: Value) -> Value {
        let (s, _, v) = self.call(Method::POST, "/api/tasks", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v
    }

    async fn total(&self) -> u64 {
        let (_, _, v) = self.call(Method::GET, "/api/tasks", None).await;
        v["total"].as_u64().expect("total")
    }
}

fn field_errors(v: &Value) -> Vec<String> {
    v["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn create_returns_201_with_defaults_location_and_etag() {
    let api = Api::new().await;
    let (s, h, v) = api
        .call(
            Method::POST,
            "/api/tasks/",
            Some(json!({"title": "  Buy milk  "})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(v["title"], "Buy milk");
    assert_eq!(v["status"], "pending");
    assert_eq!(v["priority"], "medium");
    assert_eq!(v["tags"], json!([]));
    assert_eq!(v["is_recurring"], false);
    assert_eq!(v["completed_at"], Value::Null);
    assert_eq!(v["version"], 1);
    assert_eq!(h["etag"], "\"1\"");
    assert_eq!(
        h["location"].to_str().expect("ascii"),
        format!("/api/tasks/{}", v["id"].as_str().expect("id"))
    );
    assert!(v["created_at"].as_str().expect("time").ends_with('Z'));
    assert!(h.contains_key("x-request-id"));

    // A client's request id is echoed when it is a sensible one, replaced when it is not.
    let long = "r".repeat(10_000);
    for (given, kept) in [("req-42", true), (long.as_str(), false), ("a b", false)] {
        let req = Request::get("/api/tasks")
            .header("x-request-id", given)
            .body(Body::empty())
            .expect("req");
        let (_, h, _) = api.send(req).await;
        let echoed = h["x-request-id"].to_str().expect("ascii");
        assert_eq!(echoed == given, kept, "{given:.20}");
        assert!(!echoed.is_empty() && echoed.len() <= 128);
    }
}

#[tokio::test]
async fn offsets_are_honoured_and_returned_in_utc() {
    let api = Api::new().await;
    let v = api
        .create(json!({"title": "x", "due_date": "2026-06-01T09:00:00+02:00", "reminder_at": "2026-06-01T08:45:00.5-00:30"}))
        .await;
    assert_eq!(v["due_date"], "2026-06-01T07:00:00Z");
    assert_eq!(v["reminder_at"], "2026-06-01T09:15:00.500Z");
}

#[tokio::test]
async fn hostile_input_gets_422_naming_the_field_and_writes_nothing() {
    let api = Api::new().await;
    let cases = [
        (json!({}), "title"),
        (json!({"title": null}), "title"),
        (json!({"title": ""}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x".repeat(201)}), "title"),
        (json!({"title": 42}), "title"),
        (json!({"title": "x", "priority": "urgent"}), "priority"),
        (json!({"title": "x", "priority": null}), "priority"),
        (json!({"title": "x", "status": "done"}), "status"),
        (json!({"title": "x", "tags": "work"}), "tags"),
        (json!({"title": "x", "tags": [1]}), "tags[0]"),
        (json!({"title": "x", "tags": null}), "tags"),
        (json!({"title": "x", "due_date": "tomorrow"}), "due_date"),
        (
            json!({"title": "x", "due_date": "2026-06-01T09:00:00"}),
            "due_date",
        ),
        (json!({"title": "x", "due_date": 1_700_000_000}), "due_date"),
        (
            json!({"title": "x", "recurrence_rule": "FREQ=SOMETIMES"}),
            "recurrence_rule",
        ),
        (
            json!({"title": "x", "is_recurring": true}),
            "recurrence_rule",
        ),
        (json!({"title": "x", "is_recurring": "yes"}), "is_recurring"),
        (
            json!({"title": "x", "timezone": "Mars/Olympus"}),
            "timezone",
        ),
        (json!({"title": "x", "colour": "red"}), "colour"),
        (
            json!({"title": "x", "id": "00000000-0000-0000-0000-000000000000"}),
            "id",
        ),
        (
            json!({"title": "x", "description": "d".repeat(2001)}),
            "description",
        ),
    ];
    for (body, field) in cases {
        let (s, _, v) = api
            .call(Method::POST, "/api/tasks", Some(body.clone()))
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert!(
            field_errors(&v).contains(&field.to_string()),
            "{body}: expected {field} in {v}"
        );
        assert!(
            v["detail"]
                .as_str()
                .expect("detail")
                .contains(field.trim_end_matches("[0]")),
            "{v}"
        );
    }
    for raw in ["{not json", "[1,2]", "\"title\"", "null", ""] {
        let req = Request::post("/api/tasks")
            .header("content-type", "application/json")
            .body(Body::from(raw))
            .expect("req");
        let (s, _, v) = api.send(req).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{raw}: {v}");
        assert!(v["detail"].is_string());
    }
    // A field given twice: neither value is taken.
    let both = r#"{"title": "a", "priority": "low", "priority": "high", "title": "c"}"#;
    let req = Request::post("/api/tasks")
        .header("content-type", "application/json")
        .body(Body::from(both))
        .expect("req");
    let (s, _, v) = api.send(req).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&v),
        vec!["priority", "title"],
        "all at once: {v}"
    );
    for raw in [
        r#"{"title": 123, "title": "b"}"#,
        r#" {"title": "a", "priority": "low", "title": "b"}"#,
    ] {
        let req = Request::post("/api/tasks")
            .header("content-type", "application/json")
            .body(Body::from(raw))
            .expect("req");
        let (s, _, v) = api.send(req).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{raw}: {v}");
        assert_eq!(field_errors(&v), vec!["title"], "{raw}: {v}");
        assert!(
            v["detail"]
                .as_str()
                .expect("detail")
                .contains("more than once")
        );
    }
    assert_eq!(
        api.total().await,
        0,
        "nothing may be written by rejected requests"
    );
}

#[tokio::test]
async fn oversized_and_non_json_bodies_are_refused() {
    let api = Api::new().await;
    let huge = json!({"title": "x", "description": "d".repeat(100_000)});
    let (s, _, v) = api.call(Method::POST, "/api/tasks", Some(huge)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(
        v["detail"]
            .as_str()
            .expect("detail")
            .contains("larger than")
    );
    let req = Request::post("/api/tasks")
        .header("content-type", "text/plain")
        .body(Body::from("title=x"))
        .expect("req");
    let (s, _, _) = api.send(req).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // Compressed bodies, or JSON declared in another charset, are refused rather than misread.
    for (name, value, says) in [
        ("content-encoding", "gzip", "Content-Encoding"),
        ("content-encoding", "bogus", "Content-Encoding"),
        ("content-type", "application/json; charset=latin1", "UTF-8"),
        (
            "content-type",
            "application/json;charset=\"UTF-16\"",
            "UTF-8",
        ),
    ] {
        let mut req = Request::post("/api/tasks");
        if name != "content-type" {
            req = req.header("content-type", "application/json");
        }
        let req = req
            .header(name, value)
            .body(Body::from(r#"{"title":"x"}"#))
            .expect("req");
        let (s, _, v) = api.send(req).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}: {value}");
        assert!(v["detail"].as_str().expect("detail").contains(says), "{v}");
    }
    assert_eq!(api.total().await, 0);
    for (name, value) in [
        ("content-type", "application/json; charset=UTF-8"),
        ("content-type", "application/json; charset=us-ascii"),
        ("content-encoding", "identity"),
    ] {
        let req = Request::post("/api/tasks")
            .header("content-type", "application/json")
            .header(name, value)
            .body(Body::from(r#"{"title":"x"}"#))
            .expect("req");
        assert_eq!(
            api.send(req).await.0,
            StatusCode::CREATED,
            "{name}: {value}"
        );
    }
}

#[tokio::test]
async fn a_body_of_many_errors_gets_a_short_answer() {
    let api = Api::new().await;
    let tags = vec![json!(1); 20_000];
    let body = json!({"title": "x", "tags": tags}).to_string();
    let req = Request::post("/api/tasks")
        .header("content-type", "application/json")
        .body(Body::from(body.clone()))
        .expect("req");
    let app = api.for_route(&Method::POST, "/api/tasks");
    let resp = app.oneshot(req).await.expect("resp");
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bytes = resp.into_body().collect().await.expect("body").to_bytes();
    assert!(
        bytes.len() < body.len(),
        "the answer ({} bytes) is smaller than the request ({} bytes)",
        bytes.len(),
        body.len()
    );
    let v: Value = serde_json::from_slice(&bytes).expect("json");
    assert_eq!(field_errors(&v).len(), tasks::domain::REPORTED_ERRORS);
    assert!(
        v["detail"].as_str().expect("detail").contains(" more"),
        "{v}"
    );
    assert_eq!(api.total().await, 0);
}

#[tokio::test]
async fn unknown_and_malformed_ids() {
    let api = Api::new().await;
    let unknown = uuid::Uuid::new_v4();
    for (m, uri) in [
        (Method::GET, format!("/api/tasks/{unknown}")),
        (Method::DELETE, format!("/api/tasks/{unknown}")),
        (Method::POST, format!("/api/tasks/{unknown}/complete")),
    ] {
        let (s, _, v) = api.call(m, &uri, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{uri}");
        assert_eq!(v["detail"], "Task not found");
    }
    let (s, _, _) = api
        .call(
            Method::PATCH,
            &format!("/api/tasks/{unknown}"),
            Some(json!({"title": "y"})),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    for m in [Method::GET, Method::DELETE] {
        let (s, _, v) = api.call(m, "/api/tasks/not-a-uuid", None).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(field_errors(&v), vec!["id"]);
    }
    // Bytes that are no UTF-8 once decoded: a bad id, not a missing one.
    let (s, _, v) = api.call(Method::GET, "/api/tasks/%ff", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let detail = v["detail"].as_str().expect("detail");
    assert!(detail.contains("must be a UUID"), "{detail}");
}

#[tokio::test]
async fn patch_is_partial_null_clears_and_if_match_guards() {
    let api = Api::new().await;
    let v = api.create(json!({"title": "x", "description": "d", "due_date": "2026-06-01T09:00:00Z", "tags": ["a"]})).await;
    let uri = format!("/api/tasks/{}", v["id"].as_str().expect("id"));
    let (s, h, v) = api
        .call(
            Method::PATCH,
            &uri,
            Some(json!({"priority": "high", "due_date": null, "description": null})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["priority"], "high");
    assert_eq!(v["due_date"], Value::Null);
    assert_eq!(v["description"], Value::Null);
    assert_eq!(v["title"], "x");
    assert_eq!(v["tags"], json!(["a"]));
    assert_eq!(h["etag"], "\"2\"");

    let stale = Request::patch(&uri)
        .header("content-type", "application/json")
        .header("if-match", "\"1\"")
        .body(Body::from(json!({"title": "lost update"}).to_string()))
        .expect("req");
    let (s, h, _) = api.send(stale).await;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);
    assert_eq!(h["etag"], "\"2\"");
    let fresh = Request::patch(format!("{uri}/"))
        .header("content-type", "application/json")
        .header("if-match", "\"2\"")
        .body(Body::from(json!({"title": "kept"}).to_string()))
        .expect("req");
    let (s, _, v) = api.send(fresh).await;
    assert_eq!((s, v["title"].as_str()), (StatusCode::OK, Some("kept")));

    // RFC 9110: a list matches if any tag does; weak tags never match (strong comparison);
    // `*` matches any version; malformed values are refused and nothing changes. Now at 3.
    let patch = |if_match: &str, title: &str| {
        Request::patch(&uri)
            .header("content-type", "application/json")
            .header("if-match", if_match)
            .body(Body::from(json!({ "title": title }).to_string()))
            .expect("req")
    };
    for (header, want) in [
        ("W/\"3\"", StatusCode::PRECONDITION_FAILED),
        ("\"abc\"", StatusCode::PRECONDITION_FAILED),
        ("\"1\", W/\"3\"", StatusCode::PRECONDITION_FAILED),
        // Entity-tags compare as text: "03" and "+3" are not "3".
        ("\"03\"", StatusCode::PRECONDITION_FAILED),
        ("\"+3\"", StatusCode::PRECONDITION_FAILED),
        ("\"3", StatusCode::UNPROCESSABLE_ENTITY),
        ("three", StatusCode::UNPROCESSABLE_ENTITY),
        (",", StatusCode::UNPROCESSABLE_ENTITY),
        // `*` is the whole value or none of it.
        ("*, \"3\"", StatusCode::UNPROCESSABLE_ENTITY),
        ("\"3\", *", StatusCode::UNPROCESSABLE_ENTITY),
    ] {
        let (s, _, v) = api.send(patch(header, "no")).await;
        assert_eq!(s, want, "If-Match: {header} -> {v}");
    }
    let (_, _, now) = api.call(Method::GET, &uri, None).await;
    assert_eq!(
        (now["version"].as_i64(), now["title"].as_str()),
        (Some(3), Some("kept"))
    );
    let (s, _, v) = api.send(patch("\"7\", \"3\"", "listed")).await;
    assert_eq!((s, v["title"].as_str()), (StatusCode::OK, Some("listed")));
    let (s, _, v) = api.send(patch("*", "any")).await;
    assert_eq!((s, v["title"].as_str()), (StatusCode::OK, Some("any")));
    let (s, _, v) = api.send(patch("5", "bare")).await;
    assert_eq!(
        (s, v["title"].as_str()),
        (StatusCode::OK, Some("bare")),
        "a bare number"
    );
    let (_, _, now) = api.call(Method::GET, &uri, None).await;
    assert_eq!(now["version"], 6);

    let (s, _, v) = api
        .call(
            Method::PATCH,
            &uri,
            Some(json!({"priority": null, "bogus": 1})),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&v), vec!["bogus", "priority"]);
    let (_, _, now) = api.call(Method::GET, &uri, None).await;
    assert_eq!(now["version"], 6, "a rejected PATCH changes nothing");
}

#[tokio::test]
async fn status_and_completed_at_agree_whichever_endpoint_changes_status() {
    let api = Api::new().await;
    let v = api.create(json!({"title": "x"})).await;
    let id = v["id"].as_str().expect("id").to_string();
    let (_, _, v) = api
        .call(Method::POST, &format!("/api/tasks/{id}/complete"), None)
        .await;
    assert_eq!(v["status"], "completed");
    assert!(v["completed_at"].is_string());
    let (_, _, v) = api
        .call(Method::POST, &format!("/api/tasks/{id}/complete/"), None)
        .await;
    assert_eq!(v["status"], "pending");
    assert_eq!(v["completed_at"], Value::Null);
    let (_, _, v) = api
        .call(
            Method::PATCH,
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "completed"})),
        )
        .await;
    assert!(v["completed_at"].is_string());
    let (_, _, v) = api
        .call(
            Method::PATCH,
            &format!("/api/tasks/{id}"),
            Some(json!({"status": "in_progress"})),
        )
        .await;
    assert_eq!(v["completed_at"], Value::Null);
    let v = api
        .create(json!({"title": "born done", "status": "completed"}))
        .await;
    assert!(v["completed_at"].is_string());
}

#[tokio::test]
async fn recurrence_fields_are_validated_and_stored() {
    let api = Api::new().await;
    let v = api
        .create(json!({"title": "gym", "recurrence_rule": "weekly", "timezone": "Europe/Paris"}))
        .await;
    assert_eq!(v["is_recurring"], true);
    assert_eq!(v["recurrence_rule"], "weekly");
    assert_eq!(v["series_id"], v["id"]);
    let v = api.create(json!({"title": "rent", "is_recurring": true, "recurrence_rule": "RRULE:FREQ=MONTHLY;BYMONTHDAY=-1"})).await;
    assert_eq!(v["recurrence_rule"], "FREQ=MONTHLY;BYMONTHDAY=-1");
    let uri = format!("/api/tasks/{}", v["id"].as_str().expect("id"));
    let (_, _, v) = api
        .call(Method::PATCH, &uri, Some(json!({"is_recurring": false})))
        .await;
    assert_eq!(
        (v["is_recurring"].as_bool(), v["recurrence_rule"].clone()),
        (Some(false), Value::Null)
    );
}

#[tokio::test]
async fn delete_returns_204_then_404() {
    let api = Api::new().await;
    let v = api.create(json!({"title": "x"})).await;
    let uri = format!("/api/tasks/{}", v["id"].as_str().expect("id"));
    let (s, _, body) = api.call(Method::DELETE, &uri, None).await;
    assert_eq!((s, body), (StatusCode::NO_CONTENT, Value::Null));
    let (s, _, _) = api.call(Method::DELETE, &format!("{uri}/"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn list_filters_sorts_pages_and_rejects_bad_parameters() {
    let api = Api::new().await;
    for (t, p, tags) in [
        ("b", "low", vec!["x"]),
        ("a", "high", vec!["y"]),
        ("c", "medium", vec!["x"]),
    ] {
        api.create(json!({"title": t, "priority": p, "tags": tags}))
            .await;
    }
    let (s, _, v) = api
        .call(
            Method::GET,
            "/api/tasks?sort_by=priority&sort_order=desc",
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let titles: Vec<&str> = v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| t["title"].as_str().expect("t"))
        .collect();
    assert_eq!(titles, vec!["a", "c", "b"]);
    assert_eq!(v["total"], 3);
    let (_, _, v) = api
        .call(
            Method::GET,
            "/api/tasks/?tag=x&limit=1&offset=1&sort_by=title",
            None,
        )
        .await;
    assert_eq!(
        (v["total"].as_u64(), v["tasks"][0]["title"].as_str()),
        (Some(2), Some("c"))
    );
    let (_, _, v) = api
        .call(Method::GET, "/api/tasks?search=%25&status=", None)
        .await;
    assert_eq!(v["total"], 0, "% is literal");
    for bad in [
        "sort_by=colour",
        "sort_order=up",
        "limit=0",
        "limit=1000",
        "offset=-1",
        "status=done",
        "search=a%00b",
        "priority=9",
        "search=%C3",
        "tag=%ED%A0%80",
        // One value per parameter: two statuses are not "either" (nor the last one).
        "status=pending&status=completed",
        "limit=5&limit=6",
    ] {
        let (s, _, v) = api
            .call(Method::GET, &format!("/api/tasks?{bad}"), None)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(field_errors(&v)[0], bad.split('=').next().expect("key"));
    }
    // An empty repeat is absent, as any empty value is; the other value filters.
    let (_, _, high) = api
        .call(Method::GET, "/api/tasks?priority=high", None)
        .await;
    let (_, _, all) = api.call(Method::GET, "/api/tasks", None).await;
    assert_ne!(high["total"], all["total"], "the data must tell them apart");
    let (s, _, v) = api
        .call(Method::GET, "/api/tasks?priority=&priority=high", None)
        .await;
    assert_eq!((s, &v["total"]), (StatusCode::OK, &high["total"]));
    // A parameter given three times, one with a bad value: one error, naming it.
    let (_, _, v) = api
        .call(Method::GET, "/api/tasks?limit=0&limit=0&limit=9", None)
        .await;
    assert_eq!(field_errors(&v), vec!["limit"]);
    let (_, _, v) = api.call(Method::GET, "/api/tags", None).await;
    assert_eq!(v["tags"][0], json!({"name": "x", "count": 2}));
    // Form decoding: `+` is a space, a `%` without two hex digits stays itself.
    let (s, _, v) = api.call(Method::GET, "/api/tasks?search=%zz+%", None).await;
    assert_eq!((s, &v["total"]), (StatusCode::OK, &json!(0)));
}

#[tokio::test]
async fn each_function_serves_only_its_own_routes_plus_health() {
    use tasks::http::{complete_task, create_task, delete_task, list_tasks, update_task};
    let api = Api::new().await;
    let id = uuid::Uuid::new_v4();
    let probes: Vec<(Method, String)> = vec![
        (Method::POST, "/api/tasks".into()),
        (Method::GET, "/api/tasks".into()),
        (Method::GET, format!("/api/tasks/{id}")),
        (Method::PATCH, format!("/api/tasks/{id}")),
        (Method::DELETE, format!("/api/tasks/{id}")),
        (Method::POST, format!("/api/tasks/{id}/complete")),
    ];
    let owners = [
        create_task::FUNCTION,
        list_tasks::FUNCTION,
        list_tasks::FUNCTION,
        update_task::FUNCTION,
        delete_task::FUNCTION,
        complete_task::FUNCTION,
    ];
    for f in [
        create_task::FUNCTION,
        update_task::FUNCTION,
        complete_task::FUNCTION,
        delete_task::FUNCTION,
        list_tasks::FUNCTION,
    ] {
        let app = api.function(f);
        for path in ["/health", "/health/"] {
            let health = app
                .clone()
                .oneshot(Request::get(path).body(Body::empty()).expect("req"))
                .await
                .expect("resp");
            assert_eq!(health.status(), StatusCode::OK, "{} {path}", f.name);
        }
        for ((m, uri), owner) in probes.iter().zip(owners.iter()) {
            let req = Request::builder()
                .method(m.clone())
                .uri(uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .expect("req");
            let resp = app.clone().oneshot(req).await.expect("resp");
            let status = resp.status();
            let bytes = resp.into_body().collect().await.expect("body").to_bytes();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let route_missing = status == StatusCode::METHOD_NOT_ALLOWED
                || (status == StatusCode::NOT_FOUND && body["detail"] == "Not Found");
            assert_eq!(
                !route_missing,
                owner.name == f.name,
                "{} {m} {uri} -> {status} {body}",
                f.name
            );
        }
    }
}

#[tokio::test]
async fn openapi_swagger_and_redoc_are_served() {
    let api = Api::new().await;
    let (s, _, doc) = api.call(Method::GET, "/openapi.json", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(doc["openapi"].as_str().expect("version").starts_with("3.1"));
    for p in [
        "/api/tasks",
        "/api/tasks/{id}",
        "/api/tasks/{id}/complete",
        "/api/tags",
        "/api/activity",
        "/api/notifications",
        "/api/tasks/{id}/history",
        "/health",
    ] {
        assert!(doc["paths"].get(p).is_some(), "{p} undocumented");
    }
    // What generated clients rely on: every field a task always carries is required (the
    // nullable ones too), the headers a write answers with are named, optional request
    // headers are plain strings, and every 200 names its body.
    let task = &doc["components"]["schemas"]["TaskOut"];
    let mut required: Vec<&str> = task["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    let mut props: Vec<&str> = task["properties"]
        .as_object()
        .expect("properties")
        .keys()
        .map(String::as_str)
        .collect();
    required.sort_unstable();
    props.sort_unstable();
    assert_eq!(required, props, "every TaskOut field is always present");
    let created = &doc["paths"]["/api/tasks"]["post"]["responses"]["201"]["headers"];
    assert!(
        created.get("ETag").is_some() && created.get("Location").is_some(),
        "{created}"
    );
    let patch = &doc["paths"]["/api/tasks/{id}"]["patch"];
    assert!(patch["responses"]["200"]["headers"].get("ETag").is_some());
    for p in patch["parameters"].as_array().expect("params") {
        assert_eq!(p["schema"]["type"], "string", "{p}");
    }
    // The list's text parameters document the lengths the server enforces.
    let params = doc["paths"]["/api/tasks"]["get"]["parameters"]
        .as_array()
        .expect("list params");
    let max_len = |name: &str| {
        params
            .iter()
            .find(|p| p["name"] == name)
            .and_then(|p| p["schema"]["maxLength"].as_u64())
    };
    assert_eq!(
        (max_len("search"), max_len("tag")),
        (
            Some(tasks::http::dto::MAX_SEARCH_CHARS as u64),
            Some(3 * tasks::domain::task::TAG_MAX_CHARS as u64)
        )
    );
    for (path, method) in [
        ("/api/activity", "get"),
        ("/api/notifications", "get"),
        ("/api/tasks/{id}/history", "get"),
        ("/api/tags", "get"),
        ("/api/tasks", "get"),
    ] {
        let ok = &doc["paths"][path][method]["responses"]["200"];
        assert!(
            ok["content"]["application/json"]["schema"].is_object(),
            "{path}: {ok}"
        );
    }
    let app = api.function(tasks::http::list_tasks::FUNCTION);
    for (uri, needle) in [
        ("/docs", "swagger-ui-bundle.js"),
        ("/docs/swagger-ui-bundle.js", "SwaggerUIBundle"),
        ("/redoc", "redoc"),
    ] {
        let resp = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).expect("req"))
            .await
            .expect("resp");
        assert_eq!(resp.status(), StatusCode::OK, "{uri}");
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        assert!(String::from_utf8_lossy(&bytes).contains(needle), "{uri}");
    }
    // The page links its assets relative to its own path: `/docs/` would link
    // `/docs//swagger-ui.css`, so it is sent to `/docs`.
    let resp = app
        .clone()
        .oneshot(Request::get("/docs/").body(Body::empty()).expect("req"))
        .await
        .expect("resp");
    assert_eq!(resp.status(), StatusCode::PERMANENT_REDIRECT);
    assert_eq!(resp.headers()[header::LOCATION], "/docs");
    // Every reference resolves (a generated client fails on a dangling one).
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(!all.is_empty());
    for r in all {
        let name = r.strip_prefix("#/components/schemas/").expect("local ref");
        assert!(
            doc["components"]["schemas"].get(name).is_some(),
            "{r} dangles"
        );
    }
    // A generated client knows what is required, what is allowed, and sends nothing else.
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["TaskCreate"]["required"], json!(["title"]));
    assert!(schemas["TaskPatch"].get("required").is_none());
    for s in ["TaskCreate", "TaskPatch"] {
        assert_eq!(schemas[s]["additionalProperties"], json!(false), "{s}");
    }
    assert_eq!(
        schemas["StatusName"]["enum"],
        json!(["pending", "in_progress", "completed"])
    );
    assert_eq!(
        schemas["PriorityName"]["enum"],
        json!(["low", "medium", "high"])
    );
    assert_eq!(
        schemas["SortByName"]["enum"],
        json!(["due_date", "priority", "created_at", "title"])
    );
    // ... and does not send `null` where the server refuses it.
    let props = &schemas["TaskCreate"]["properties"];
    for field in [
        "title",
        "status",
        "priority",
        "tags",
        "is_recurring",
        "timezone",
    ] {
        let ty = props[field].get("type").unwrap_or(&props[field]["$ref"]);
        assert!(
            ty.is_string() && ty != "null",
            "{field} must not be nullable: {ty}"
        );
        let body = json!({"title": "x", field: null});
        let (s, _, _) = api.call(Method::POST, "/api/tasks", Some(body)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{field}: null");
    }
    for field in ["description", "due_date", "reminder_at", "recurrence_rule"] {
        let ty = props[field]["type"].to_string();
        assert!(ty.contains("null"), "{field} is nullable: {ty}");
        let body = json!({"title": "x", field: null});
        let (s, _, _) = api.call(Method::POST, "/api/tasks", Some(body)).await;
        assert_eq!(s, StatusCode::CREATED, "{field}: null");
    }
    for (path, method) in [
        ("/api/tasks/{id}/history", "get"),
        ("/api/notifications", "get"),
        ("/api/notifications/{id}/read", "post"),
    ] {
        assert!(
            doc["paths"][path][method]["responses"].get("422").is_some(),
            "{path} documents its 422"
        );
    }
}

#[tokio::test]
async fn the_ui_is_served_to_get_and_head_only() {
    let api = Api::new().await;
    let ui = support::TempDir::new();
    std::fs::write(ui.0.join("index.html"), "<html>todo</html>").expect("index");
    let opts = ServiceOptions {
        ui_dir: Some(ui.0.clone()),
        ..ServiceOptions::default()
    };
    let app = http::service(
        (tasks::http::list_tasks::FUNCTION.routes)(),
        api.state.clone(),
        &opts,
    );
    for (method, path, want) in [
        (Method::GET, "/", StatusCode::OK),
        (Method::HEAD, "/", StatusCode::OK),
        (Method::DELETE, "/", StatusCode::METHOD_NOT_ALLOWED),
        (Method::PUT, "/activity", StatusCode::METHOD_NOT_ALLOWED),
        (Method::POST, "/index.html", StatusCode::METHOD_NOT_ALLOWED),
        // The service's own paths are never pages, in whatever spelling.
        (Method::GET, "/API/TASKS", StatusCode::NOT_FOUND),
        (Method::GET, "//api/tasks", StatusCode::NOT_FOUND),
        (Method::GET, "/dapr/subscribe", StatusCode::NOT_FOUND),
        (Method::GET, "/openapi.json/", StatusCode::NOT_FOUND),
    ] {
        let resp = app
            .clone()
            .oneshot(
                Request::builder()
                    .method(method.clone())
                    .uri(path)
                    .body(Body::empty())
                    .expect("req"),
            )
            .await
            .expect("resp");
        assert_eq!(resp.status(), want, "{method} {path}");
        if want != StatusCode::OK {
            assert_eq!(
                resp.headers()[header::CONTENT_TYPE],
                "application/json",
                "{method} {path}"
            );
        }
        if want == StatusCode::METHOD_NOT_ALLOWED {
            assert_eq!(resp.headers()[header::ALLOW], "GET, HEAD");
        }
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_get_json_errors() {
    let api = Api::new().await;
    let (s, _, v) = api.call(Method::GET, "/api/nope", None).await;
    assert_eq!(
        (s, v["detail"].as_str()),
        (StatusCode::NOT_FOUND, Some("Not Found"))
    );
    let app = api.function(tasks::http::create_task::FUNCTION);
    let resp = app
        .oneshot(Request::put("/api/tasks").body(Body::empty()).expect("req"))
        .await
        .expect("resp");
    assert_eq!(resp.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn a_current_copy_is_answered_304() {
    let api = Api::new().await;
    let id = api.create(json!({"title": "cache me"})).await["id"]
        .as_str()
        .expect("id")
        .to_string();
    let uri = format!("/api/tasks/{id}");
    let get = |inm: &'static str| {
        Request::get(uri.as_str())
            .header("if-none-match", inm)
            .body(Body::empty())
            .expect("req")
    };
    for (inm, want) in [
        ("\"1\"", StatusCode::NOT_MODIFIED),
        ("W/\"1\"", StatusCode::NOT_MODIFIED),
        ("\"7\", \"1\"", StatusCode::NOT_MODIFIED),
        ("*", StatusCode::NOT_MODIFIED),
        ("\"2\"", StatusCode::OK),
        ("garbage", StatusCode::OK),
        // Entity-tags compare as text: "01" and "+1" are not "1".
        ("\"01\"", StatusCode::OK),
        ("\"+1\"", StatusCode::OK),
    ] {
        let (s, h, v) = api.send(get(inm)).await;
        assert_eq!(s, want, "{inm}");
        assert_eq!(h["etag"], "\"1\"", "{inm}");
        if want == StatusCode::NOT_MODIFIED {
            assert_eq!(v, Value::Null, "no body");
        }
    }
    api.call(Method::PATCH, &uri, Some(json!({"title": "changed"})))
        .await;
    let (s, _, v) = api.send(get("\"1\"")).await;
    assert_eq!((s, &v["title"]), (StatusCode::OK, &json!("changed")));
}
