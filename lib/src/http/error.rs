//! The one HTTP error model: every failure becomes a JSON body with a `detail` string (what the
//! spec's clients read) and, for validation failures, an `errors` list naming each field.
//! Server-side causes are logged here, once, and never leak into the body.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::AppError;
use crate::domain::{FieldError, ValidationErrors};
use crate::ports::StoreError;

/// A field-level validation message.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldErrorBody {
    /// JSON name of the field or query parameter.
    pub field: String,
    /// Why it was rejected.
    pub message: String,
}

/// The error body of every non-2xx response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Human-readable summary.
    pub detail: String,
    /// Per-field reasons (validation errors only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldErrorBody>,
}

/// Everything an HTTP handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: input rejected.
    #[error("validation failed")]
    Validation(ValidationErrors),
    /// 422: the body is not JSON at all (FastAPI answers this with 422 too).
    #[error("malformed JSON")]
    MalformedJson(String),
    /// 400: the body could not be read (a broken chunked encoding, a connection that failed
    /// mid-body): a transport fault, not bad JSON.
    #[error("bad request")]
    BadRequest(String),
    /// 404: no such task.
    #[error("task not found")]
    TaskNotFound,
    /// 404: no such notification.
    #[error("notification not found")]
    NotificationNotFound,
    /// 404: no such route.
    #[error("not found")]
    RouteNotFound,
    /// 405.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 409: lost too many races.
    #[error("conflict")]
    Conflict,
    /// 412: `If-Match` did not match.
    #[error("precondition failed")]
    PreconditionFailed(i64),
    /// 413: body over the limit.
    #[error("payload too large")]
    PayloadTooLarge(usize),
    /// 408: the body did not arrive in time.
    #[error("request timeout")]
    RequestTimeout(u64),
    /// 415: not JSON, not UTF-8, or compressed (the reason).
    #[error("unsupported media type")]
    UnsupportedMediaType(&'static str),
    /// 503: the database (or the Dapr state store) is unreachable.
    #[error("service unavailable")]
    Unavailable(#[source] StoreError),
    /// 500: a bug or corrupt data; logged with its cause.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl From<ValidationErrors> for ApiError {
    fn from(e: ValidationErrors) -> Self {
        ApiError::Validation(e)
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::Validation(e.into())
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::NotFound => ApiError::TaskNotFound,
            AppError::Validation(v) => ApiError::Validation(v),
            AppError::PreconditionFailed { current } => ApiError::PreconditionFailed(current),
            AppError::Conflict => ApiError::Conflict,
            AppError::Store(s @ StoreError::Unavailable(_)) => ApiError::Unavailable(s),
            AppError::Store(s) => ApiError::Internal(s.into()),
        }
    }
}

impl ApiError {
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            ApiError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::MalformedJson(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::TaskNotFound | ApiError::NotificationNotFound | ApiError::RouteNotFound => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn body(&self) -> ErrorBody {
        let detail = match self {
            ApiError::Validation(v) => v.summary(),
            ApiError::MalformedJson(m) => format!("request body is not valid JSON: {m}"),
            ApiError::BadRequest(m) => format!("the request body could not be read: {m}"),
            ApiError::TaskNotFound => "Task not found".into(),
            ApiError::NotificationNotFound => "Notification not found".into(),
            ApiError::RouteNotFound => "Not Found".into(),
            ApiError::MethodNotAllowed => "Method Not Allowed".into(),
            ApiError::Conflict => {
                "the task is being changed concurrently; retry the request".into()
            }
            ApiError::PreconditionFailed(v) => {
                format!("If-Match does not match the task's current version {v}; fetch it again")
            }
            ApiError::PayloadTooLarge(limit) => {
                format!("request body is larger than {limit} bytes")
            }
            ApiError::RequestTimeout(secs) => {
                format!("the request body did not arrive within {secs} s")
            }
            ApiError::UnsupportedMediaType(why) => (*why).into(),
            ApiError::Unavailable(StoreError::Remote(_)) => {
                "the state store is unavailable; retry shortly".into()
            }
            ApiError::Unavailable(e) => lasting(e)
                .unwrap_or("the database is unavailable; retry shortly")
                .into(),
            ApiError::Internal(_) => "internal server error".into(),
        };
        let errors = match self {
            ApiError::Validation(v) => v
                .reported()
                .iter()
                .map(|e| FieldErrorBody {
                    field: e.field.clone(),
                    message: e.message.clone(),
                })
                .collect(),
            _ => Vec::new(),
        };
        ErrorBody { detail, errors }
    }
}

const READ_ONLY: &str = "the database is read-only: writes are refused until it is made writable";
const DISK_FULL: &str = "the database's disk is full: writes are refused until space is freed";

/// A store failure that retrying in a moment will not cure, named for the client (it stays a
/// 503, with no `Retry-After`): the database refuses writes, or its disk is full.
fn lasting(e: &StoreError) -> Option<&'static str> {
    let StoreError::Unavailable(sqlx::Error::Database(db)) = e else {
        return None;
    };
    let code = db.code()?;
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
        // SQLite's primary result code is the low byte of an extended one.
        return match code.parse::<i32>().ok()? & 0xff {
            8 => Some(READ_ONLY),  // SQLITE_READONLY
            13 => Some(DISK_FULL), // SQLITE_FULL
            _ => None,
        };
    }
    match code.as_ref() {
        "25006" => Some(READ_ONLY), // read_only_sql_transaction: a standby, or read-only by default
        "53100" => Some(DISK_FULL), // disk_full
        _ => None,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        match &self {
            ApiError::Internal(e) => tracing::error!(error = ?e, "request failed"),
            ApiError::Unavailable(e) => tracing::warn!(error = ?e, "store unavailable"),
            _ => {}
        }
        let mut resp = (status, Json(self.body())).into_response();
        match &self {
            ApiError::PreconditionFailed(v) => {
                if let Ok(h) = HeaderValue::from_str(&super::etag(*v)) {
                    resp.headers_mut().insert(header::ETAG, h);
                }
            }
            ApiError::Unavailable(e) if lasting(e).is_some() => {}
            ApiError::Unavailable(_) | ApiError::Conflict => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body_of(resp: Response) -> serde_json::Value {
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 16)
            .await
            .expect("body");
        serde_json::from_slice(&bytes).expect("json")
    }

    #[tokio::test]
    async fn a_read_only_database_is_named_as_such_not_retry_shortly() {
        let path = std::env::temp_dir().join(format!("ro-{}.db", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}", path.display());
        let rw = sqlx::SqlitePool::connect(&format!("{url}?mode=rwc"))
            .await
            .expect("create");
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(&rw)
            .await
            .expect("table");
        rw.close().await;
        let ro = sqlx::SqlitePool::connect(&format!("{url}?mode=ro"))
            .await
            .expect("open read-only");
        let refused = sqlx::query("INSERT INTO t (x) VALUES (1)")
            .execute(&ro)
            .await
            .expect_err("a read-only database refuses the write");
        ro.close().await;
        let _ = std::fs::remove_file(&path);
        let resp = ApiError::Unavailable(StoreError::from(refused)).into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(resp.headers().get(header::RETRY_AFTER).is_none());
        assert_eq!(body_of(resp).await["detail"], READ_ONLY);
        // A passing failure still says to retry, and when.
        let resp =
            ApiError::Unavailable(StoreError::from(sqlx::Error::PoolTimedOut)).into_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(resp.headers()[header::RETRY_AFTER], "1");
        assert_eq!(
            body_of(resp).await["detail"],
            "the database is unavailable; retry shortly"
        );
    }
}
