//! Load generator for the benchmarks (bench/run.sh drives it; results go to docs/benchmarks.md).
//!
//! ```text
//! loadgen run    --base URL --scenario create|get|list|search --concurrency N --seconds S [--rate R]
//!                [--slow MS]                     (also: each request slower than MS, to stderr)
//! loadgen seed   --base URL --count N            (creates N varied tasks, prints nothing else)
//! loadgen startup --url URL -- CMD ARGS...       (ms from spawn to the first 200 from URL)
//! loadgen audit-latency --base URL --events N    (event time -> audit record, over the last N events)
//! ```
//! `run` prints one line: scenario, concurrency, requests, errors, rate/s, p50/p90/p99/max ms,
//! and the machine's steal time meanwhile (Linux); paced runs add how late the pacing thread
//! was (`pace_late_p99`, `pace_late_max`) and, if any, the scheduled requests no worker was free
//! to send before the end (`missed`).
//! Without `--rate` it is closed-loop (each worker sends its next request when the last returns);
//! with `--rate` one thread keeps the schedule and hands each worker its send times, and latency
//! counts from the scheduled time (at most 1,000,000 per second).

use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

struct Args(Vec<String>);

impl Args {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .position(|a| a == name)
            .and_then(|i| self.0.get(i + 1))
            .map(String::as_str)
    }
    fn num(&self, name: &str, default: u64) -> anyhow::Result<u64> {
        self.get(name).map_or(Ok(default), |v| {
            v.parse()
                .with_context(|| format!("{name} must be a number"))
        })
    }
}

const WORDS: [&str; 12] = [
    "report",
    "invoice",
    "garden",
    "meeting",
    "dentist",
    "groceries",
    "deploy",
    "review",
    "taxes",
    "birthday",
    "gym",
    "backup",
];
const PRIORITIES: [&str; 3] = ["low", "medium", "high"];
const STATUSES: [&str; 3] = ["pending", "in_progress", "completed"];

fn task_body(i: u64) -> serde_json::Value {
    let w = WORDS[(i % 12) as usize];
    let mut body = json!({
        "title": format!("{w} {i}"),
        "description": format!("Task number {i} about the {w}"),
        "priority": PRIORITIES[(i % 3) as usize],
        "status": STATUSES[(i / 3 % 3) as usize],
        "tags": [w, if i.is_multiple_of(2) { "even" } else { "odd" }],
    });
    if !i.is_multiple_of(4) {
        body["due_date"] = json!(format!(
            "2027-{:02}-{:02}T09:00:00+01:00",
            1 + i % 12,
            1 + i % 28
        ));
    }
    body
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx].as_secs_f64() * 1000.0
}

async fn fetch_ids(client: &reqwest::Client, base: &str) -> anyhow::Result<Vec<String>> {
    let page: serde_json::Value = client
        .get(format!("{base}/api/tasks?limit=200"))
        .send()
        .await?
        .json()
        .await?;
    let ids: Vec<String> = page["tasks"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["id"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if ids.is_empty() {
        bail!("no tasks to read: seed first");
    }
    Ok(ids)
}

async fn run(args: &Args) -> anyhow::Result<()> {
    let base = args
        .get("--base")
        .context("--base")?
        .trim_end_matches('/')
        .to_string();
    let scenario = args.get("--scenario").context("--scenario")?.to_string();
    let concurrency = args.num("--concurrency", 1)?.max(1);
    let seconds = args.num("--seconds", 10)?;
    let rate = args.num("--rate", 0)?;
    let slow = args
        .get("--slow")
        .is_some()
        .then(|| args.num("--slow", 0).map(Duration::from_millis))
        .transpose()?;
    let ids = if scenario == "get" {
        fetch_ids(&reqwest::Client::new(), &base).await?
    } else {
        Vec::new()
    };
    let authority = base
        .strip_prefix("http://")
        .context("--base must be an http:// URL")?
        .to_string();
    if rate > MAX_RATE {
        bail!("--rate must be at most {MAX_RATE} per second");
    }
    let deadline = Instant::now() + Duration::from_secs(seconds);
    // Paced: one OS thread keeps the schedule and hands each worker its send times in turn
    // (worker w gets the w-th, (w + c)-th, ... of the whole run), so requests arrive evenly
    // rather than in bursts of `concurrency`. A thread, not Tokio's timer: Tokio's sleeps wake
    // on whole milliseconds, and that lateness was counted as the server's. The thread sleeps
    // with the kernel's high-resolution timer; how late it still was is reported beside the
    // result (it is counted in the latencies too). Latency counts from the scheduled time, so
    // time a worker spent waiting behind a slow server is not hidden (no coordinated omission).
    let mut schedules = Vec::new();
    let mut pacer = None;
    if rate > 0 {
        let mut senders = Vec::new();
        for _ in 0..concurrency {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Instant>();
            senders.push(tx);
            schedules.push(Some(rx));
        }
        pacer = Some(std::thread::spawn(move || pace(&senders, rate, deadline)));
    } else {
        schedules.resize_with(concurrency as usize, || None);
    }
    let mut workers = Vec::new();
    for (w, mut schedule) in (0..concurrency).zip(schedules) {
        let (authority, scenario, ids) = (authority.clone(), scenario.clone(), ids.clone());
        workers.push(tokio::spawn(async move {
            let mut conn = Conn::new(authority);
            let mut lat = Vec::with_capacity(4096);
            let mut errors = 0u64;
            let mut missed = 0u64;
            let mut i = w * 1_000_000;
            loop {
                // Both modes stop at the deadline. A paced worker still busy then leaves the
                // send times queued for it unsent, and counts them as missed.
                if Instant::now() >= deadline {
                    if let Some(rx) = schedule.as_mut() {
                        rx.close();
                        while rx.try_recv().is_ok() {
                            missed += 1;
                        }
                    }
                    break;
                }
                let scheduled = match schedule.as_mut() {
                    Some(rx) => match rx.recv().await {
                        Some(at) => Some(at),
                        None => break,
                    },
                    None => None,
                };
                i += 1;
                let t0 = scheduled.unwrap_or_else(Instant::now);
                let sent = match scenario.as_str() {
                    "create" => {
                        let body = serde_json::to_vec(&task_body(i)).unwrap_or_default();
                        conn.send("POST", "/api/tasks".into(), Some(body)).await
                    }
                    "get" => {
                        let path = format!("/api/tasks/{}", ids[(i as usize) % ids.len()]);
                        conn.send("GET", path, None).await
                    }
                    "list" => {
                        let path =
                            "/api/tasks?status=pending&sort_by=priority&sort_order=desc&limit=50";
                        conn.send("GET", path.into(), None).await
                    }
                    "search" => {
                        let path =
                            format!("/api/tasks?search={}&limit=50", WORDS[(i % 12) as usize]);
                        conn.send("GET", path, None).await
                    }
                    other => panic!("unknown scenario {other}"),
                };
                let took = t0.elapsed();
                match sent {
                    Ok(status) if (200..300).contains(&status) => lat.push(took),
                    _ => errors += 1,
                }
                if slow.is_some_and(|s| took >= s) {
                    // Wall-clock start of the slow request, to line it up with other logs
                    // (PostgreSQL's checkpoints, the kernel's writeback).
                    let start = std::time::SystemTime::now() - took;
                    let ms = start
                        .duration_since(std::time::UNIX_EPOCH)
                        .unwrap_or_default()
                        .as_millis();
                    eprintln!("slow {ms} {:.1}ms", took.as_secs_f64() * 1000.0);
                }
            }
            (lat, errors, missed)
        }));
    }
    let started = Instant::now();
    let cpu_before = cpu_ticks();
    let mut all = Vec::new();
    let mut errors = 0;
    let mut missed = 0;
    for w in workers {
        let (lat, e, m) = w.await?;
        all.extend(lat);
        errors += e;
        missed += m;
    }
    let elapsed = started.elapsed().as_secs_f64().max(seconds as f64);
    // The share of the machine's CPU time the hypervisor gave to other guests meanwhile: a
    // tail that comes with a high steal is the host's, not the server's.
    let steal = match (cpu_before, cpu_ticks()) {
        (Some((s0, t0)), Some((s1, t1))) if t1 > t0 => {
            format!(" steal={:.1}%", 100.0 * (s1 - s0) as f64 / (t1 - t0) as f64)
        }
        _ => String::new(),
    };
    all.sort();
    // How late the pacing thread handed out send times (already inside the latencies above).
    let mut paced = String::new();
    if let Some(pacer) = pacer {
        let mut late = pacer
            .join()
            .map_err(|_| anyhow::anyhow!("the pacing thread panicked"))?;
        late.sort();
        paced = format!(
            " pace_late_p99={:.3}ms pace_late_max={:.3}ms",
            percentile(&late, 0.99),
            percentile(&late, 1.0)
        );
        if missed > 0 {
            paced.push_str(&format!(" missed={missed}"));
        }
    }
    println!(
        "{scenario} c={concurrency} rate={} requests={} errors={errors} rps={:.0} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms{steal}{paced}",
        if rate > 0 {
            rate.to_string()
        } else {
            "max".into()
        },
        all.len(),
        all.len() as f64 / elapsed,
        percentile(&all, 0.50),
        percentile(&all, 0.90),
        percentile(&all, 0.99),
        percentile(&all, 1.0),
    );
    Ok(())
}

/// The highest `--rate` taken: the pacing thread's schedule is exact in nanoseconds up to it.
const MAX_RATE: u64 = 1_000_000;

/// Hands out the send times of a paced run, `rate` per second, to each worker in turn until
/// `deadline`, sleeping between them (on Linux a high-resolution sleep: the timer slack, about
/// 50 µs, on an idle core; more on a busy one). Returns how late it handed out each time.
fn pace(
    workers: &[tokio::sync::mpsc::UnboundedSender<Instant>],
    rate: u64,
    deadline: Instant,
) -> Vec<Duration> {
    let start = Instant::now();
    let mut late = Vec::new();
    for k in 0u64.. {
        // k / rate seconds after the start, in whole nanoseconds (no drift from a rounded step).
        let at = start + Duration::from_nanos(k.saturating_mul(1_000_000_000) / rate);
        if at >= deadline || Instant::now() >= deadline {
            break;
        }
        if let Some(wait) = at.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        late.push(at.elapsed());
        // A worker that has stopped (the deadline came while it was busy) takes no more.
        let _ = workers[(k % workers.len() as u64) as usize].send(at);
    }
    late
}

/// The machine's steal ticks and all its CPU ticks so far (`/proc/stat`), where there is one.
fn cpu_ticks() -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let ticks: Vec<u64> = line
        .split_whitespace()
        .skip(1) // the `cpu` label
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already
    // in user and nice.
    let steal = *ticks.get(7)?;
    Some((steal, ticks.iter().take(8).sum()))
}

/// A worker's own keep-alive HTTP/1.1 connection (reopened after an error), driven with hyper
/// directly: the generator shares the cores with the server under test, so it should spend as
/// little of them as it can (reqwest's pool and middleware cost about twice as much per request).
struct Conn {
    authority: String,
    sender: Option<hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>>,
}

impl Conn {
    fn new(authority: String) -> Self {
        Self {
            authority,
            sender: None,
        }
    }

    /// Sends one request and reads the whole answer; returns its status.
    async fn send(
        &mut self,
        method: &str,
        path: String,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<u16> {
        let result = self.try_send(method, path, body).await;
        if result.is_err() {
            self.sender = None;
        }
        result
    }

    async fn try_send(
        &mut self,
        method: &str,
        path: String,
        body: Option<Vec<u8>>,
    ) -> anyhow::Result<u16> {
        use http_body_util::BodyExt;
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            let stream = tokio::net::TcpStream::connect(&self.authority).await?;
            stream.set_nodelay(true)?;
            let (sender, conn) =
                hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            self.sender = Some(sender);
        }
        let sender = self.sender.as_mut().context("connection")?;
        sender.ready().await?;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", self.authority.as_str());
        if body.is_some() {
            req = req.header("content-type", "application/json");
        }
        let req = req.body(http_body_util::Full::new(bytes::Bytes::from(
            body.unwrap_or_default(),
        )))?;
        let resp = sender.send_request(req).await?;
        let status = resp.status().as_u16();
        resp.into_body().collect().await?;
        Ok(status)
    }
}

async fn seed(args: &Args) -> anyhow::Result<()> {
    let base = args
        .get("--base")
        .context("--base")?
        .trim_end_matches('/')
        .to_string();
    let count = args.num("--count", 10_000)?;
    let client = reqwest::Client::new();
    let workers = 16u64;
    let mut handles = Vec::new();
    for w in 0..workers {
        let (client, base) = (client.clone(), base.clone());
        handles.push(tokio::spawn(async move {
            let mut i = w;
            while i < count {
                let r = client
                    .post(format!("{base}/api/tasks"))
                    .json(&task_body(i))
                    .send()
                    .await?;
                if r.status() != 201 {
                    bail!(
                        "seed: {} {}",
                        r.status(),
                        r.text().await.unwrap_or_default()
                    );
                }
                i += workers;
            }
            Ok(())
        }));
    }
    for h in handles {
        h.await??;
    }
    Ok(())
}

async fn startup(args: &Args) -> anyhow::Result<()> {
    let url = args.get("--url").context("--url")?.to_string();
    let sep = args.0.iter().position(|a| a == "--").context("-- CMD")?;
    let cmd = &args.0[sep + 1..];
    let client = reqwest::Client::new();
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(&cmd[0])
        .args(&cmd[1..])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let limit = Duration::from_secs(10);
    loop {
        if let Ok(r) = client.get(&url).send().await
            && r.status().is_success()
        {
            break;
        }
        if t0.elapsed() > limit {
            bail!("no 200 from {url} within {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!("startup_ms={:.1}", t0.elapsed().as_secs_f64() * 1000.0);
    let _ = child.kill().await;
    Ok(())
}

/// Pipeline latency from the audit log itself: `recorded_at - timestamp` of the newest events.
async fn audit_latency(args: &Args) -> anyhow::Result<()> {
    let base = args
        .get("--base")
        .context("--base")?
        .trim_end_matches('/')
        .to_string();
    let want = args.num("--events", 1000)?;
    let client = reqwest::Client::new();
    let mut lat = Vec::new();
    let mut offset = 0;
    while (lat.len() as u64) < want {
        let page: serde_json::Value = client
            .get(format!(
                "{base}/api/activity?event_type=task.created&limit=200&offset={offset}"
            ))
            .send()
            .await?
            .json()
            .await?;
        let events = page["events"].as_array().cloned().unwrap_or_default();
        if events.is_empty() {
            break;
        }
        for e in &events {
            let parse = |k: &str| {
                e[k].as_str()
                    .and_then(|s| s.parse::<chrono_free::Ts>().ok())
            };
            if let (Some(t), Some(r)) = (parse("timestamp"), parse("recorded_at")) {
                lat.push(Duration::from_secs_f64((r.0 - t.0).max(0.0)));
            }
        }
        offset += events.len();
    }
    lat.sort();
    println!(
        "audit-latency events={} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        lat.len(),
        percentile(&lat, 0.50),
        percentile(&lat, 0.90),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
    Ok(())
}

/// Just enough RFC 3339 (UTC `Z`) parsing for the audit timestamps, as seconds since the epoch.
mod chrono_free {
    pub struct Ts(pub f64);
    impl std::str::FromStr for Ts {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            // YYYY-MM-DDTHH:MM:SS(.fff)Z
            let s = s.strip_suffix('Z').ok_or(())?;
            let (date, time) = s.split_once('T').ok_or(())?;
            let mut d = date.split('-').map(|x| x.parse::<i64>());
            let (y, m, day) = (
                d.next().ok_or(())?.map_err(|_| ())?,
                d.next().ok_or(())?.map_err(|_| ())?,
                d.next().ok_or(())?.map_err(|_| ())?,
            );
            let mut t = time.split(':');
            let h: f64 = t.next().ok_or(())?.parse().map_err(|_| ())?;
            let mi: f64 = t.next().ok_or(())?.parse().map_err(|_| ())?;
            let sec: f64 = t.next().ok_or(())?.parse().map_err(|_| ())?;
            // Days from civil (Howard Hinnant).
            let y = if m <= 2 { y - 1 } else { y };
            let era = y.div_euclid(400);
            let yoe = y - era * 400;
            let mp = (m + 9) % 12;
            let doy = (153 * mp + 2) / 5 + day - 1;
            let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
            let days = era * 146_097 + doe - 719_468;
            Ok(Ts(days as f64 * 86_400.0 + h * 3600.0 + mi * 60.0 + sec))
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args(std::env::args().skip(1).collect());
    match args.0.first().map(String::as_str) {
        Some("run") => run(&args).await,
        Some("seed") => seed(&args).await,
        Some("startup") => startup(&args).await,
        Some("audit-latency") => audit_latency(&args).await,
        _ => bail!("usage: loadgen run|seed|startup ... (see the module docs)"),
    }
}
