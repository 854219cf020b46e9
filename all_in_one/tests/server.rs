//! The real all-in-one process, started on port 0 with a fresh data directory, driven over HTTP.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    dir: std::path::PathBuf,
}

impl Server {
    fn start(extra_env: &[(&str, &str)]) -> Self {
        let dir =
            std::env::temp_dir().join(format!("todo-aio-{}-{}", std::process::id(), uuid_like()));
        std::fs::create_dir_all(&dir).expect("dir");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_todo"));
        cmd.env("PORT", "0")
            .env("DATA_DIR", &dir)
            .env("UI_DIR", dir.join("no-ui"))
            .env_remove("DATABASE_URL");
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start todo");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.split("listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
            }
        });
        let base = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the server did not report its address within 20 s");
        Server { child, base, dir }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn uuid_like() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
}

#[tokio::test]
async fn the_whole_api_over_http_on_sqlite() {
    let server = Server::start(&[]);
    let http = reqwest::Client::new();

    let health = http
        .get(server.url("/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);

    let created = http.post(server.url("/api/tasks")).json(&json!({"title": "Über-task ✓", "tags": ["x"], "due_date": "2026-07-01T10:00:00-04:00"}))
        .send().await.expect("create");
    assert_eq!(created.status(), 201);
    let task: Value = created.json().await.expect("json");
    assert_eq!(task["due_date"], "2026-07-01T14:00:00Z");
    let id = task["id"].as_str().expect("id").to_string();

    let page: Value = http
        .get(server.url("/api/tasks/?search=über"))
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(page["total"], 1);

    let done: Value = http
        .post(server.url(&format!("/api/tasks/{id}/complete")))
        .send()
        .await
        .expect("complete")
        .json()
        .await
        .expect("json");
    assert_eq!(done["status"], "completed");

    let patched = http
        .patch(server.url(&format!("/api/tasks/{id}")))
        .header("if-match", "\"1\"")
        .json(&json!({"title": "late"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 412);

    let bad = http
        .post(server.url("/api/tasks"))
        .json(&json!({"title": null}))
        .send()
        .await
        .expect("bad");
    assert_eq!(bad.status(), 422);
    let body: Value = bad.json().await.expect("json");
    assert!(body["detail"].as_str().expect("detail").contains("title"));

    assert_eq!(
        http.delete(server.url(&format!("/api/tasks/{id}")))
            .send()
            .await
            .expect("delete")
            .status(),
        204
    );
    assert_eq!(
        http.get(server.url(&format!("/api/tasks/{id}")))
            .send()
            .await
            .expect("get")
            .status(),
        404
    );

    let doc: Value = http
        .get(server.url("/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    assert!(doc["openapi"].as_str().expect("v").starts_with("3.1"));
    assert_eq!(
        http.get(server.url("/docs"))
            .send()
            .await
            .expect("docs")
            .status(),
        200
    );
    let home = http
        .get(server.url("/"))
        .send()
        .await
        .expect("home")
        .text()
        .await
        .expect("text");
    assert!(
        home.contains("make ui"),
        "without a built UI the home page says how to build it"
    );
    let missing = http
        .get(server.url("/api/unknown"))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn data_survives_a_restart_and_sigterm_stops_cleanly() {
    let dir = std::env::temp_dir().join(format!("todo-aio-restart-{}", uuid_like()));
    let dir_s = dir.display().to_string();
    let http = reqwest::Client::new();
    let id = {
        let mut server = Server::start(&[("DATA_DIR", &dir_s)]);
        let task: Value = http
            .post(server.url("/api/tasks"))
            .json(&json!({"title": "persist me"}))
            .send()
            .await
            .expect("create")
            .json()
            .await
            .expect("json");
        let pid = server.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        let exit = loop {
            if let Some(s) = server.child.try_wait().expect("wait") {
                break s;
            }
            assert!(
                Instant::now() < deadline,
                "did not stop within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(exit.success(), "graceful shutdown exits 0, got {exit:?}");
        task["id"].as_str().expect("id").to_string()
    };
    let server = Server::start(&[("DATA_DIR", &dir_s)]);
    let back = http
        .get(server.url(&format!("/api/tasks/{id}")))
        .send()
        .await
        .expect("get");
    assert_eq!(back.status(), 200);
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_bad_configuration_is_reported_not_panicked() {
    for (var, value) in [
        ("PORT", "not-a-port"),
        ("CORS_ORIGINS", "*,https://app.example"),
        ("CORS_ORIGINS", "not an origin"),
        ("DATABASE_URL", "sqlite:"),
        ("DAPR_HTTP_ENDPOINT", "notaurl"),
        // The Lambda runtime would panic on its own missing variables.
        ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9"),
        // Nothing listens on port 9: the cause is named, not only the pool's timeout.
        ("DATABASE_URL", "postgres://postgres@127.0.0.1:9/todo"),
    ] {
        let dir = std::env::temp_dir().join(format!("todo-aio-badcfg-{}", uuid_like()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_todo"))
            .env(var, value)
            .env("PORT", if var == "PORT" { value } else { "0" })
            .env("DATA_DIR", &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run");
        // A configuration that is wrongly accepted starts a server: fail, do not hang.
        let deadline = Instant::now() + Duration::from_secs(20);
        let status = loop {
            if let Some(s) = child.try_wait().expect("wait") {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&dir);
                panic!("{var}={value} was accepted: the server started");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let _ = std::fs::remove_dir_all(&dir);
        assert!(!status.success(), "{var}={value} was accepted");
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut err)
            .expect("stderr");
        assert!(
            err.contains(var) && !err.contains("panicked"),
            "{var}={value}: {err}"
        );
        if value.starts_with("postgres:") {
            assert!(err.contains("Connection refused"), "{err}");
        }
    }
}

#[tokio::test]
async fn any_origin_is_allowed_when_asked() {
    let server = Server::start(&[("CORS_ORIGINS", "*")]);
    let resp = reqwest::Client::new()
        .get(server.url("/api/tasks"))
        .header("origin", "https://elsewhere.example")
        .send()
        .await
        .expect("list");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"*"[..])
    );
    // A cross-origin client can read where a created task lives.
    let resp = reqwest::Client::new()
        .post(server.url("/api/tasks"))
        .header("origin", "https://elsewhere.example")
        .json(&serde_json::json!({"title": "from afar"}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), 201);
    let exposed = resp
        .headers()
        .get("access-control-expose-headers")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    for h in ["location", "etag", "x-request-id", "idempotent-replayed"] {
        assert!(exposed.contains(h), "{h} in {exposed}");
    }
}

#[tokio::test]
async fn the_server_binds_loopback_by_default() {
    let server = Server::start(&[]);
    assert!(
        server.base.starts_with("http://127.0.0.1:"),
        "{}",
        server.base
    );
}

/// Polls `check` every 100 ms for up to `secs` seconds.
async fn eventually<F, Fut>(secs: u64, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn events_flow_in_process_reminders_recurrence_and_history() {
    let server = Server::start(&[("REMINDER_INTERVAL_MS", "200")]);
    let http = reqwest::Client::new();

    // A reminder due in 2 seconds becomes a notification.
    let soon = (chrono_like_now_plus(2)).to_string();
    let t: Value = http
        .post(server.url("/api/tasks"))
        .json(&json!({"title": "call the dentist", "reminder_at": soon}))
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let notified = eventually(10, || async {
        let n: Value = http
            .get(server.url("/api/notifications"))
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        n["total"] == 1 && n["notifications"][0]["task_id"] == t["id"]
    })
    .await;
    assert!(
        notified,
        "no notification within 10 s of a reminder due in 2 s"
    );

    // Completing a recurring task creates its next occurrence, once.
    let r: Value = http.post(server.url("/api/tasks")).json(&json!({"title": "water plants", "recurrence_rule": "FREQ=WEEKLY;BYDAY=MO,TH", "due_date": "2026-12-03T18:00:00+01:00", "timezone": "Europe/Berlin"}))
        .send().await.expect("create").json().await.expect("json");
    let rid = r["id"].as_str().expect("id").to_string();
    http.post(server.url(&format!("/api/tasks/{rid}/complete")))
        .send()
        .await
        .expect("complete");
    let series_url = server.url(&format!("/api/tasks?series_id={rid}&sort_by=due_date"));
    let next = eventually(10, || async {
        let s: Value = http
            .get(&series_url)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        s["total"] == 2
    })
    .await;
    assert!(next, "the next occurrence did not appear");
    let s: Value = http
        .get(&series_url)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(
        s["tasks"][1]["due_date"], "2026-12-07T17:00:00Z",
        "Monday 18:00 Berlin"
    );
    assert_eq!(s["tasks"][1]["status"], "pending");

    // The history holds every event of the task.
    let complete = eventually(10, || async {
        let h: Value = http
            .get(server.url(&format!("/api/tasks/{rid}/history")))
            .send()
            .await
            .expect("h")
            .json()
            .await
            .expect("json");
        let types: Vec<&str> = h["events"]
            .as_array()
            .map(|a| a.iter().filter_map(|e| e["event_type"].as_str()).collect())
            .unwrap_or_default();
        types == ["task.created", "task.completed", "task.recurring.triggered"]
    })
    .await;
    assert!(complete, "history incomplete");
}

/// Now plus `secs` seconds as RFC 3339 UTC.
fn chrono_like_now_plus(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
