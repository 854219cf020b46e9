//! Tiny HTTP health probe for the distroless function images (they have no shell, curl or wget).
//!
//! `healthcheck [PATH]` sends `GET PATH` (default `/health`) to 127.0.0.1:$PORT (default 8080) and
//! exits 0 on a 2xx status, 1 otherwise. Standard library only, built with plain `rustc`, so it adds
//! no dependency to the workspace. Used by the Dockerfile's HEALTHCHECK and compose's healthcheck.
use std::env;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

fn probe(port: u16, path: &str) -> Result<u16, String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(2);
    let mut stream = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect {addr}: {e}"))?;
    stream.set_read_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    stream.set_write_timeout(Some(timeout)).map_err(|e| e.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: healthcheck\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| format!("write: {e}"))?;
    let mut head = [0u8; 64];
    let mut read = 0;
    // The status line is all we need: "HTTP/1.1 200 OK".
    while read < 12 {
        match stream.read(&mut head[read..]) {
            Ok(0) => break,
            Ok(n) => read += n,
            Err(e) => return Err(format!("read: {e}")),
        }
    }
    let line = String::from_utf8_lossy(&head[..read]);
    line.split_whitespace()
        .nth(1)
        .and_then(|code| code.parse::<u16>().ok())
        .ok_or_else(|| format!("malformed status line: {line:?}"))
}

fn main() -> ExitCode {
    let port = env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(8080);
    let path = env::args().nth(1).unwrap_or_else(|| "/health".to_string());
    match probe(port, &path) {
        Ok(code) if (200..300).contains(&code) => ExitCode::SUCCESS,
        Ok(code) => {
            eprintln!("healthcheck: GET {path} -> HTTP {code}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("healthcheck: {err}");
            ExitCode::FAILURE
        }
    }
}
