//! Logging/tracing set-up: human-readable by default, JSON lines with `LOG_FORMAT=json`;
//! filtered by `RUST_LOG` (default `info`).

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Installs the global subscriber once; later calls (tests) are ignored.
pub fn init(format: LogFormat) {
    let filter =
        // The rule engine warns each time a rule runs out its search ("max loop counter"),
        // which a client's rule text can make happen once per request: rules that would are
        // refused (domain::recurrence), and the warning is no operator's business.
        EnvFilter::try_from_default_env()
            .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,rrule=error"));
    // Colours only for a terminal (and not under NO_COLOR): a log file or collector gets
    // plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr())
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
        LogFormat::Text => builder.compact().try_init(),
    };
}
