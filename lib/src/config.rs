//! Configuration, read once from the environment into one documented struct. Every variable is
//! listed in `.env.example`. Secrets are redacted in `Debug`.

use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (local development).
    Text,
    /// One JSON object per line (`LOG_FORMAT=json`, for log collectors).
    Json,
}

/// A configuration problem: names the variable and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {var}: {message}")]
pub struct ConfigError {
    /// The environment variable.
    pub var: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Defaults that differ between the function binaries and the all-in-one server.
#[derive(Debug, Clone)]
pub struct Defaults {
    /// `PORT` when unset.
    pub port: u16,
    /// `HOST` when unset.
    pub host: IpAddr,
}

/// The process configuration.
#[derive(Clone)]
pub struct Config {
    /// `HOST`: address to bind.
    pub host: IpAddr,
    /// `PORT`: port to bind (0 picks a free one).
    pub port: u16,
    /// `DATABASE_URL`: `postgres://…` or `sqlite://…`; default a SQLite file in `DATA_DIR`.
    pub database_url: String,
    /// `DATA_DIR`: where the default SQLite database lives (default `./data`).
    pub data_dir: PathBuf,
    /// `DB_MAX_CONNECTIONS`: pool size for PostgreSQL (default 10); the outbox relay and the
    /// creates' inserter have one connection each besides (`storage::postgres`).
    pub db_max_connections: u32,
    /// `LOG_FORMAT`: `text` (default) or `json`.
    pub log_format: LogFormat,
    /// `CORS_ORIGINS`: comma-separated origins allowed cross-origin (default none).
    pub cors_origins: Vec<String>,
    /// `MAX_BODY_BYTES`: request body limit (default 65536).
    pub max_body_bytes: usize,
    /// `LIST_CACHE_BYTES`: memory for rendered list pages, reused while the database is
    /// unchanged, and rendered tasks, reused while their version is (half for each; PostgreSQL
    /// only; default 16 MiB, 0 turns both off).
    pub list_cache_bytes: usize,
    /// `UI_DIR`: the built web UI served by the all-in-one server (default `ui/out`).
    pub ui_dir: PathBuf,
    /// `DAPR_HTTP_ENDPOINT` or `http://127.0.0.1:$DAPR_HTTP_PORT`: the sidecar, when events go
    /// through Dapr. `None` means in-process events.
    pub dapr_endpoint: Option<String>,
    /// `DAPR_API_TOKEN`: sent to the sidecar.
    pub dapr_api_token: Option<String>,
    /// `APP_API_TOKEN`: required from the sidecar on the event routes.
    pub app_api_token: Option<String>,
    /// `NOTIFY_BINDING`: the Dapr output binding notifications are delivered through (none by
    /// default: notifications are then only shown in the app).
    pub notify_binding: Option<String>,
    /// `REMINDER_INTERVAL_MS`: how often the in-process scheduler looks for due reminders
    /// (default 1000).
    pub reminder_interval: std::time::Duration,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redact = |o: &Option<String>| o.as_ref().map(|_| "***");
        f.debug_struct("Config")
            .field("host", &self.host)
            .field("port", &self.port)
            .field(
                "database_url",
                &crate::storage::redact_url(&self.database_url),
            )
            .field("data_dir", &self.data_dir)
            .field("db_max_connections", &self.db_max_connections)
            .field("log_format", &self.log_format)
            .field("cors_origins", &self.cors_origins)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("list_cache_bytes", &self.list_cache_bytes)
            .field("ui_dir", &self.ui_dir)
            .field("dapr_endpoint", &self.dapr_endpoint)
            .field("dapr_api_token", &redact(&self.dapr_api_token))
            .field("app_api_token", &redact(&self.app_api_token))
            .field("notify_binding", &self.notify_binding)
            .field("reminder_interval", &self.reminder_interval)
            .finish()
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env(defaults: &Defaults) -> Result<Self, ConfigError> {
        Self::from_lookup(defaults, |k| std::env::var(k).ok())
    }

    /// Reads configuration through `get` (the environment, or a map in tests).
    pub fn from_lookup(
        defaults: &Defaults,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let val = |k: &str| {
            get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        fn parse<T: std::str::FromStr>(
            var: &'static str,
            v: Option<String>,
            default: T,
            what: &str,
        ) -> Result<T, ConfigError> {
            match v {
                None => Ok(default),
                Some(s) => s.parse().map_err(|_| ConfigError {
                    var,
                    message: format!("'{s}' is not {what}"),
                }),
            }
        }
        let host = parse("HOST", val("HOST"), defaults.host, "an IP address")?;
        let port = parse(
            "PORT",
            val("PORT"),
            defaults.port,
            "a port number (0-65535)",
        )?;
        let data_dir = PathBuf::from(val("DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = match val("DATABASE_URL") {
            Some(u) => {
                if crate::storage::Backend::from_url(&u).is_none() {
                    return Err(ConfigError {
                        var: "DATABASE_URL",
                        message: "must start with postgres://, postgresql:// or sqlite:".into(),
                    });
                }
                if crate::storage::Backend::from_url(&u) == Some(crate::storage::Backend::Sqlite) {
                    crate::storage::sqlite::check_url(&u).map_err(|message| ConfigError {
                        var: "DATABASE_URL",
                        message,
                    })?;
                }
                u
            }
            None => format!("sqlite://{}?mode=rwc", data_dir.join("todo.db").display()),
        };
        let db_max_connections = parse(
            "DB_MAX_CONNECTIONS",
            val("DB_MAX_CONNECTIONS"),
            10u32,
            "a whole number",
        )?;
        if db_max_connections == 0 {
            return Err(ConfigError {
                var: "DB_MAX_CONNECTIONS",
                message: "must be at least 1".into(),
            });
        }
        let log_format = match val("LOG_FORMAT").as_deref() {
            None | Some("text") | Some("pretty") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => {
                return Err(ConfigError {
                    var: "LOG_FORMAT",
                    message: format!("'{other}' is not text or json"),
                });
            }
        };
        let cors_origins = match val("CORS_ORIGINS") {
            Some(v) => cors_origins(&v).map_err(|message| ConfigError {
                var: "CORS_ORIGINS",
                message,
            })?,
            None => Vec::new(),
        };
        let max_body_bytes = parse(
            "MAX_BODY_BYTES",
            val("MAX_BODY_BYTES"),
            crate::http::DEFAULT_BODY_LIMIT,
            "a byte count",
        )?;
        if max_body_bytes < 1024 {
            return Err(ConfigError {
                var: "MAX_BODY_BYTES",
                message: "must be at least 1024".into(),
            });
        }
        let list_cache_bytes = parse(
            "LIST_CACHE_BYTES",
            val("LIST_CACHE_BYTES"),
            crate::app::tasks::DEFAULT_PAGE_CACHE_BYTES,
            "a byte count",
        )?;
        let reminder_ms = parse(
            "REMINDER_INTERVAL_MS",
            val("REMINDER_INTERVAL_MS"),
            1000u64,
            "a number of milliseconds",
        )?;
        if !(50..=3_600_000).contains(&reminder_ms) {
            return Err(ConfigError {
                var: "REMINDER_INTERVAL_MS",
                message: "must be between 50 and 3600000".into(),
            });
        }
        if get("AWS_LAMBDA_RUNTIME_API").is_some() {
            // The Lambda runtime reads these itself and panics when one is missing or bad: say
            // so here, like any other configuration error. Lambda sets all three. (Set at all,
            // even empty, is what makes `runtime::serve` choose Lambda.)
            for var in ["AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION"] {
                if get(var).is_none() {
                    return Err(ConfigError {
                        var,
                        message: "must be set when AWS_LAMBDA_RUNTIME_API is (Lambda sets it)"
                            .into(),
                    });
                }
            }
            let memory = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
            if memory
                .as_deref()
                .and_then(|m| m.parse::<i32>().ok())
                .is_none()
            {
                return Err(ConfigError {
                    var: "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                    message: format!(
                        "must be the function's memory in MB when AWS_LAMBDA_RUNTIME_API is set (got {})",
                        memory.map_or("nothing".into(), |m| format!("'{m}'"))
                    ),
                });
            }
        }
        let ui_dir = PathBuf::from(val("UI_DIR").unwrap_or_else(|| "ui/out".into()));
        let dapr_endpoint = match (val("DAPR_HTTP_ENDPOINT"), val("DAPR_HTTP_PORT")) {
            (Some(e), _) => {
                let ok = reqwest::Url::parse(&e).is_ok_and(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some_and(|h| !h.is_empty())
                        && u.query().is_none()
                        && u.fragment().is_none()
                });
                if !ok {
                    return Err(ConfigError {
                        var: "DAPR_HTTP_ENDPOINT",
                        message: format!("'{e}' is not an http:// or https:// URL with a host"),
                    });
                }
                Some(e.trim_end_matches('/').to_string())
            }
            (None, Some(p)) => {
                let port: u16 = parse("DAPR_HTTP_PORT", Some(p), 0, "a port number")?;
                Some(format!("http://127.0.0.1:{port}"))
            }
            (None, None) => None,
        };
        Ok(Config {
            host,
            port,
            database_url,
            data_dir,
            db_max_connections,
            log_format,
            cors_origins,
            max_body_bytes,
            list_cache_bytes,
            ui_dir,
            dapr_endpoint,
            dapr_api_token: val("DAPR_API_TOKEN"),
            app_api_token: val("APP_API_TOKEN"),
            notify_binding: val("NOTIFY_BINDING"),
            reminder_interval: std::time::Duration::from_millis(reminder_ms),
        })
    }
}

/// `CORS_ORIGINS`: `*` alone (any origin), or a comma-separated list of origins
/// (`scheme://host[:port]`, http or https, nothing after), kept in the form browsers send.
fn cors_origins(v: &str) -> Result<Vec<String>, String> {
    let items: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    if items.contains(&"*") {
        return if items.len() == 1 {
            Ok(vec!["*".to_string()])
        } else {
            Err("'*' (any origin) cannot be combined with other origins".into())
        };
    }
    items
        .into_iter()
        .map(|o| {
            let bad = || format!("'{o}' is not an origin like https://app.example.com");
            let url = reqwest::Url::parse(o).map_err(|_| bad())?;
            let bare = url.path() == "/"
                && url.query().is_none()
                && url.fragment().is_none()
                && url.username().is_empty()
                && url.password().is_none();
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() || !bare {
                return Err(bad());
            }
            Ok(url.origin().ascii_serialization())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn defaults() -> Defaults {
        Defaults {
            port: 8000,
            host: IpAddr::from([127, 0, 0, 1]),
        }
    }

    fn cfg(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(&defaults(), |k| m.get(k).cloned())
    }

    #[test]
    fn defaults_are_sqlite_in_data_dir_on_loopback() {
        let c = cfg(&[]).expect("valid");
        assert_eq!(c.port, 8000);
        assert_eq!(c.host, IpAddr::from([127, 0, 0, 1]));
        assert_eq!(c.database_url, "sqlite://data/todo.db?mode=rwc");
        assert!(c.dapr_endpoint.is_none());
    }

    #[test]
    fn lambda_mode_needs_the_variables_lambda_sets() {
        let lambda = [
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_NAME", "create-task"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "1"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
        ];
        assert!(cfg(&lambda).is_ok());
        // Each variable Lambda sets, taken away in turn (not the first: without
        // AWS_LAMBDA_RUNTIME_API this is not Lambda mode, and nothing is required).
        for (i, (var, _)) in lambda.iter().enumerate().skip(1) {
            let mut without = lambda.to_vec();
            without.remove(i);
            assert_eq!(cfg(&without).expect_err("missing").var, *var);
        }
        let mut bad = lambda.to_vec();
        bad[3].1 = "lots";
        let e = cfg(&bad).expect_err("not a number");
        assert_eq!(e.var, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE");
        assert!(e.to_string().contains("'lots'"), "{e}");
        // Outside Lambda they mean nothing.
        assert!(cfg(&[("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots")]).is_ok());
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(cfg(&[("PORT", "eighty")]).expect_err("bad").var, "PORT");
        assert_eq!(
            cfg(&[("DATABASE_URL", "mysql://x")]).expect_err("bad").var,
            "DATABASE_URL"
        );
        assert_eq!(
            cfg(&[("LOG_FORMAT", "xml")]).expect_err("bad").var,
            "LOG_FORMAT"
        );
        assert_eq!(
            cfg(&[("LIST_CACHE_BYTES", "lots")]).expect_err("bad").var,
            "LIST_CACHE_BYTES"
        );
    }

    #[test]
    fn the_list_page_cache_has_a_default_and_can_be_turned_off() {
        assert_eq!(
            cfg(&[]).expect("valid").list_cache_bytes,
            crate::app::tasks::DEFAULT_PAGE_CACHE_BYTES
        );
        assert_eq!(
            cfg(&[("LIST_CACHE_BYTES", "0")])
                .expect("valid")
                .list_cache_bytes,
            0
        );
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let c = cfg(&[
            ("DATABASE_URL", "postgres://u:hunter2@h/db"),
            ("DAPR_API_TOKEN", "tok"),
        ])
        .expect("valid");
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && !s.contains("tok\""), "{s}");
    }

    #[test]
    fn cors_origins_are_checked_and_kept_as_browsers_send_them() {
        let ok = |v: &str| cfg(&[("CORS_ORIGINS", v)]).expect("valid").cors_origins;
        assert_eq!(ok("*"), vec!["*"]);
        assert_eq!(
            ok(" https://App.Example.com/ , http://localhost:3000"),
            vec!["https://app.example.com", "http://localhost:3000"]
        );
        for bad in [
            "*,https://a.example",
            "not an origin",
            "https://a.example/path",
            "ftp://a.example",
            "https://a.example?x=1",
            "https://user@a.example",
        ] {
            assert_eq!(
                cfg(&[("CORS_ORIGINS", bad)]).expect_err(bad).var,
                "CORS_ORIGINS",
                "{bad}"
            );
        }
    }

    #[test]
    fn a_sqlite_url_must_name_a_file_that_exists_or_may_be_created() {
        let dir = std::env::temp_dir();
        for good in [
            format!("sqlite://{}/no-such-dir-4a7/x.db?mode=rwc", dir.display()),
            "sqlite::memory:".to_string(),
        ] {
            assert!(cfg(&[("DATABASE_URL", &good)]).is_ok(), "{good}");
        }
        let missing_file = format!("sqlite://{}/no-such-file-4a7.db", dir.display());
        for bad in ["sqlite:", "sqlite://", "sqlite://?mode=rwc", &missing_file] {
            let e = cfg(&[("DATABASE_URL", bad)]).expect_err(bad);
            assert_eq!(e.var, "DATABASE_URL", "{bad}");
        }
    }

    #[test]
    fn the_dapr_endpoint_must_be_an_http_url() {
        assert_eq!(
            cfg(&[("DAPR_HTTP_ENDPOINT", "http://dapr:3500/")])
                .expect("valid")
                .dapr_endpoint
                .as_deref(),
            Some("http://dapr:3500")
        );
        for bad in ["notaurl", "dapr:3500", "ftp://dapr", "http://"] {
            assert_eq!(
                cfg(&[("DAPR_HTTP_ENDPOINT", bad)]).expect_err(bad).var,
                "DAPR_HTTP_ENDPOINT"
            );
        }
    }

    #[test]
    fn dapr_port_becomes_a_loopback_endpoint() {
        assert_eq!(
            cfg(&[("DAPR_HTTP_PORT", "3500")])
                .expect("valid")
                .dapr_endpoint
                .as_deref(),
            Some("http://127.0.0.1:3500")
        );
    }
}
