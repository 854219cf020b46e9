//! Our own extractors, so malformed input gets our error shape instead of axum's plain text:
//! a JSON-object body (size-limited, content-type checked), a task id from the path, `If-Match`,
//! query parameters (UTF-8 checked), and the request context (trace headers).

use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::{header, request::Parts};
use serde_json::{Map, Value};

use super::error::ApiError;
use crate::app::tasks::RequestContext;
use crate::domain::{FieldError, TaskId, ValidationErrors};

/// A request body that must be a JSON object.
#[derive(Debug)]
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let mut params = ct.split(';');
            let essence = params.next().unwrap_or_default().trim();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType(
                    "Content-Type must be application/json",
                ));
            }
            // JSON is UTF-8 (RFC 8259): a body declared in another charset is not read as if
            // it were.
            let charset = params
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim() == "charset")
                .map(|(_, v)| v.trim().trim_matches('"'));
            if charset.is_some_and(|c| !matches!(c, "utf-8" | "utf8" | "us-ascii" | "ascii")) {
                return Err(ApiError::UnsupportedMediaType(
                    "JSON bodies must be UTF-8 (charset=utf-8, us-ascii or none)",
                ));
            }
        }
        let (parts, body) = req.into_parts();
        let bytes = super::read_body(&parts.headers, body).await?;
        if bytes.is_empty() {
            return Err(FieldError::new("body", "a JSON object is required").into());
        }
        let malformed = |e: serde_json::Error| ApiError::MalformedJson(e.to_string());
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{') {
            let UniqueKeys { map, repeated } = serde_json::from_slice(&bytes).map_err(malformed)?;
            if repeated.is_empty() {
                return Ok(JsonObject(map));
            }
            // Which of two values was meant is anyone's guess: neither is taken.
            let mut errors = crate::domain::ValidationErrors::default();
            for key in repeated {
                errors.push(key, "is given more than once");
            }
            return Err(errors.into());
        }
        let other: Value = serde_json::from_slice(&bytes).map_err(malformed)?;
        Err(FieldError::new(
            "body",
            format!("must be a JSON object, not {}", json_kind(&other)),
        )
        .into())
    }
}

/// A JSON object read with its repeated keys noted (a plain map keeps the last value).
struct UniqueKeys {
    map: Map<String, Value>,
    repeated: Vec<String>,
}

impl<'de> serde::Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<UniqueKeys, A::Error> {
                let mut map = Map::new();
                let mut repeated: Vec<String> = Vec::new();
                while let Some(key) = a.next_key::<String>()? {
                    let value: Value = a.next_value()?;
                    if !map.contains_key(&key) {
                        map.insert(key, value);
                    } else if !repeated.contains(&key) {
                        repeated.push(key);
                    }
                }
                Ok(UniqueKeys { map, repeated })
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// The `{id}` path parameter as a task id (422 when it is not a UUID).
#[derive(Debug, Clone, Copy)]
pub struct PathTaskId(pub TaskId);

impl<S: Send + Sync> FromRequestParts<S> for PathTaskId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| {
                // The route matched, so the segment is there: it failed to decode (a `%ff`
                // that is no UTF-8), or it is missing only when a route is wired wrongly.
                let why = match e {
                    axum::extract::rejection::PathRejection::FailedToDeserializePathParams(_) => {
                        "must be a UUID (the path segment is not valid UTF-8 once decoded)"
                    }
                    _ => "missing from the path",
                };
                ApiError::from(FieldError::new("id", why))
            })?;
        Ok(PathTaskId(TaskId::parse(&raw)?))
    }
}

/// `If-Match` (RFC 9110 §13.1.1): `*` alone, or a list of entity-tags compared strongly. `None`: any
/// version (no header, or `*`); otherwise the versions that match, which may be none (a weak
/// tag `W/"3"` or a tag that is no version never matches, so the request gets 412). A bare
/// number (`3`) is taken as `"3"`.
#[derive(Debug)]
pub struct IfMatch(pub Option<Vec<i64>>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let bad = || {
            ApiError::from(FieldError::new(
                "If-Match",
                "must be * or the task's ETag(s), e.g. \"3\"",
            ))
        };
        let mut lines = parts.headers.get_all(header::IF_MATCH).iter().peekable();
        if lines.peek().is_none() {
            return Ok(IfMatch(None));
        }
        let mut versions = Vec::new();
        let mut tags = 0;
        let mut star = false;
        for line in lines {
            for tag in line.to_str().map_err(|_| bad())?.split(',') {
                let tag = tag.trim();
                if tag.is_empty() {
                    continue;
                }
                tags += 1;
                if tag == "*" {
                    star = true;
                } else if let Some(weak) = tag.strip_prefix("W/") {
                    // Valid, but never equal under strong comparison.
                    if !is_quoted(weak) {
                        return Err(bad());
                    }
                } else if is_quoted(tag) {
                    // Strong comparison is of the exact text: `"01"` is not `"1"`.
                    if let Some(v) = etag_version(&tag[1..tag.len() - 1]) {
                        versions.push(v);
                    }
                } else {
                    versions.push(etag_version(tag).ok_or_else(bad)?);
                }
            }
        }
        // `*` stands alone: it is the whole field value or not valid at all.
        match (tags, star) {
            (0, _) => Err(bad()),
            (1, true) => Ok(IfMatch(None)),
            (_, true) => Err(bad()),
            _ => Ok(IfMatch(Some(versions))),
        }
    }
}

/// `"…"` with no quote inside.
fn is_quoted(s: &str) -> bool {
    s.len() >= 2 && s.starts_with('"') && s.ends_with('"') && !s[1..s.len() - 1].contains('"')
}

/// One value per query parameter: a parameter an endpoint knows, given more than once with a
/// value (`?status=pending&status=completed`), is refused, since keeping either value would
/// answer a question the client did not ask. Empty values count as absent, as everywhere in the
/// query string; parameters an endpoint does not know (cache-busters) are not checked.
pub struct OneValueEach<'a> {
    pairs: &'a [(String, String)],
    refused: Vec<&'a str>,
}

impl<'a> OneValueEach<'a> {
    pub fn new(pairs: &'a [(String, String)]) -> Self {
        Self {
            pairs,
            refused: Vec::new(),
        }
    }

    /// Whether the value of `name` (a parameter the endpoint knows) may be read: false for
    /// every occurrence of a parameter given more than once, the first of which adds its one
    /// error (so errors come in the order the parameters first appear, one per parameter).
    pub fn readable(&mut self, name: &str, errors: &mut ValidationErrors) -> bool {
        if self.refused.contains(&name) {
            return false;
        }
        let mut given = self
            .pairs
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty());
        match (given.next(), given.next()) {
            (Some((first, _)), Some(_)) => {
                self.refused.push(first.as_str());
                errors.push(name, "was given more than once; send one value");
                false
            }
            _ => true,
        }
    }
}

/// The query string as (name, value) pairs, decoded (`+` is a space, `%XX` a byte). A name or
/// value whose bytes are not UTF-8 is refused (422 naming it) rather than searched for with
/// replacement characters.
#[derive(Debug)]
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for QueryPairs {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let mut pairs = Vec::new();
        for piece in parts.uri.query().unwrap_or_default().split('&') {
            if piece.is_empty() {
                continue;
            }
            let (k, v) = piece.split_once('=').unwrap_or((piece, ""));
            let name = form_decode(k).map_err(|_| {
                FieldError::new("query", "a parameter name is not valid UTF-8 once decoded")
            })?;
            let value = form_decode(v)
                .map_err(|_| FieldError::new(name.clone(), "is not valid UTF-8 once decoded"))?;
            pairs.push((name, value));
        }
        Ok(QueryPairs(pairs))
    }
}

/// Decodes one `application/x-www-form-urlencoded` component; `Err` when the bytes are not UTF-8.
/// A `%` not followed by two hex digits is kept as it is.
fn form_decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => match (hex(b[i + 1]), hex(b[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out)
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Trace headers carried into the events a request causes.
#[derive(Debug, Clone, Default)]
pub struct Ctx(pub RequestContext);

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let traceparent = parts
            .headers
            .get("traceparent")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 128)
            .map(str::to_string);
        Ok(Ctx(RequestContext { traceparent }))
    }
}

/// A JSON type name for messages ("a string", "null", ...).
pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The version an entity-tag's text names, if it is exactly what [`super::etag`] writes (a
/// decimal number without sign or leading zeros).
pub(crate) fn etag_version(text: &str) -> Option<i64> {
    let v = text.parse::<i64>().ok()?;
    (v.to_string() == text).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::form_decode;

    #[test]
    fn form_components_decode_and_invalid_utf8_is_refused() {
        assert_eq!(
            form_decode("caf%C3%A9+au+lait").as_deref(),
            Ok("café au lait")
        );
        assert_eq!(form_decode("100%").as_deref(), Ok("100%"));
        assert_eq!(form_decode("%zz%4").as_deref(), Ok("%zz%4"));
        assert_eq!(form_decode("%25%2B").as_deref(), Ok("%+"));
        assert!(form_decode("%C3").is_err());
        assert!(form_decode("%ED%A0%80").is_err(), "a lone surrogate");
        assert!(form_decode("%FF").is_err());
    }
}
