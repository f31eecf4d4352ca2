//! Requests sent through a Router, and their replies read whole.

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt as _;
use jwt_guard::{AuthError, InvalidToken};
use serde_json::Value;
use tower::ServiceExt as _;

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: StatusCode,
    /// Every response header.
    pub headers: HeaderMap,
    /// The body, as UTF-8 text.
    pub text: String,
    /// The log lines written while [`send`] handled the request; `None`
    /// for a response [`read`] alone.
    pub log: Option<Vec<String>>,
}

impl Reply {
    /// The body as JSON; panics, showing the body, when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    /// The `WWW-Authenticate` header, if any.
    pub fn challenge(&self) -> Option<&str> {
        self.headers
            .get(header::WWW_AUTHENTICATE)
            .map(|v| v.to_str().unwrap())
    }

    /// The JSON error body's `error` and `message`; panics when either is
    /// missing.
    pub fn error(&self) -> (String, String) {
        let json = self.json();
        (
            json["error"].as_str().unwrap().to_owned(),
            json["message"].as_str().unwrap().to_owned(),
        )
    }

    /// Whether the handler produced this reply: it carries the mark of
    /// [`Ran`](crate::Ran).
    pub fn ran(&self) -> bool {
        self.headers.contains_key(crate::RAN_HEADER)
    }

    /// Asserts that the handler ran and answered 200 with `body`.
    #[track_caller]
    pub fn assert_ok(&self, body: &str) {
        assert_eq!(
            (self.status.as_u16(), self.text.as_str(), self.ran()),
            (200, body, true),
            "{self:?}"
        );
    }

    /// Asserts that the request was refused for `expected` and for nothing
    /// else, as README.md's table of responses says:
    ///
    /// - the status of `expected`;
    /// - the whole challenge: `Bearer realm="<realm>"`, then for a 400, 401
    ///   or 403 its `error` code and `error_description` (the reason), and
    ///   the missing `scope`; no challenge at all for a 500 or 503;
    /// - the JSON body `{"error": <code>, "message": <the reason>}`, where a
    ///   server error says only that the credentials could not be checked
    ///   (500) or cannot be right now (503, `temporarily_unavailable`);
    /// - `Retry-After: 1` on a 503, and on nothing else;
    /// - that the handler did not run (its reply would carry the mark of
    ///   [`Ran`](crate::Ran));
    /// - that no header and no body holds any part of `secrets` (tokens are
    ///   split at `.` and PEM keys at line ends, into parts of 8 bytes or
    ///   more) or a sign of the server's internals (a panic, a debug dump);
    /// - for a reply of [`send`], that the refusal was logged once, with
    ///   the server error's cause, and without any part of `secrets`.
    #[track_caller]
    pub fn assert_refused(&self, realm: &str, expected: impl Into<AuthError>, secrets: &[&str]) {
        let expected = expected.into();
        let status = expected.status();
        assert_eq!(self.status, status, "not refused as {expected:?}: {self:?}");
        assert!(!self.ran(), "the handler ran: {self:?}");
        let (code, message) = match expected.code() {
            Some(code) => (code, expected.message().into_owned()),
            None if status == StatusCode::SERVICE_UNAVAILABLE => (
                "temporarily_unavailable",
                "the server cannot check credentials right now; retry shortly".to_owned(),
            ),
            None if status.is_server_error() => (
                "server_error",
                "the server could not check the request's credentials".to_owned(),
            ),
            None => ("unauthorized", expected.message().into_owned()),
        };
        let retry_after = self
            .headers
            .get(header::RETRY_AFTER)
            .map(|v| v.to_str().unwrap_or("(not text)"));
        assert_eq!(
            retry_after,
            (status == StatusCode::SERVICE_UNAVAILABLE).then_some("1"),
            "the Retry-After of {expected:?}"
        );
        assert_eq!(
            self.json(),
            serde_json::json!({"error": code, "message": message}),
            "the body of {expected:?}"
        );
        let challenge = (!status.is_server_error()).then(|| {
            let mut challenge = format!(r#"Bearer realm="{realm}""#);
            if let Some(code) = expected.code() {
                challenge += &format!(r#", error="{code}", error_description="{message}""#);
            }
            if let Some(scope) = expected.scope() {
                challenge += &format!(r#", scope="{scope}""#);
            }
            challenge
        });
        assert_eq!(
            self.challenge(),
            challenge.as_deref(),
            "the challenge of {expected:?}"
        );
        self.assert_no_leak(secrets);
        if let Some(log) = &self.log {
            self.assert_logged_once(&expected, log, secrets);
        }
    }

    /// Asserts that the refusal was logged as one `jwt_guard` event (events
    /// of its modules' own targets, such as a key fetch's, are others), which
    /// for a server error says which one (the misconfiguration's detail,
    /// or the store's failure: the client's reply cannot tell them apart),
    /// and that the log holds no part of `secrets`.
    #[track_caller]
    fn assert_logged_once(&self, expected: &AuthError, log: &[String], secrets: &[&str]) {
        let events: Vec<&String> = log
            .iter()
            .filter(|line| line.contains(" jwt_guard: "))
            .collect();
        assert_eq!(events.len(), 1, "one event per refusal: {log:#?}");
        let event = events[0];
        match expected {
            AuthError::Misconfigured(detail) => assert!(
                event.contains(&format!("detail={detail:?}")),
                "not refused for {detail:?}: {event}"
            ),
            AuthError::StoreUnavailable => assert!(
                event.contains("revocation store failed"),
                "not a store failure: {event}"
            ),
            AuthError::InvalidToken(InvalidToken::Reused) => assert!(
                event.contains("WARN") && event.contains("its family is revoked"),
                "not a reuse warning: {event}"
            ),
            _ => {}
        }
        for part in secret_parts(secrets) {
            assert!(!event.contains(part), "the log holds a secret: {event}");
        }
    }

    /// Asserts that no header and no body holds a part of `secrets` or a
    /// sign of the server's internals.
    #[track_caller]
    pub fn assert_no_leak(&self, secrets: &[&str]) {
        let headers: Vec<String> = self
            .headers
            .values()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        let all = format!("{} {}", headers.join(" "), self.text);
        for part in secret_parts(secrets) {
            assert!(!all.contains(part), "the reply holds a secret: {all}");
        }
        let lower = all.to_lowercase();
        for internal in [
            "panick",
            "called `",
            "serde",
            "thread '",
            "backtrace",
            "unwrap",
            "error(",
        ] {
            assert!(
                !lower.contains(internal),
                "the reply shows internals: {all}"
            );
        }
    }
}

/// The parts of `secrets` that must never be shown: tokens split at `.`,
/// PEM keys at line ends, each part of 8 bytes or more.
fn secret_parts<'a>(secrets: &'a [&'a str]) -> impl Iterator<Item = &'a str> {
    secrets
        .iter()
        .flat_map(|s| s.split(['.', '\n']))
        .filter(|part| part.len() >= 8)
}

/// Sends `request` through `app` and reads the response whole, with the
/// log lines written meanwhile. The log is captured by a subscriber set
/// for this thread only, as long as the request is handled: tests in one
/// binary never see each other's events (a `#[tokio::test]` runs its
/// requests on its own thread).
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let lines = Lines::default();
    let writer = lines.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .without_time()
        .with_writer(move || writer.clone())
        .finish();
    let response = {
        let _log = tracing::subscriber::set_default(subscriber);
        app.clone().oneshot(request).await.unwrap()
    };
    let mut reply = read(response).await;
    reply.log = Some(lines.take());
    reply
}

/// Log lines, written by a `tracing` subscriber (pass a clone to its
/// `with_writer`) and read back by the test.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<u8>>>);

impl Lines {
    /// Takes the lines written since the last call.
    pub fn take(&self) -> Vec<String> {
        let bytes = std::mem::take(&mut *self.0.lock().unwrap());
        String::from_utf8(bytes)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

impl std::io::Write for Lines {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads `response` whole.
pub async fn read(response: Response) -> Reply {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        headers,
        text: String::from_utf8(bytes.to_vec()).unwrap(),
        log: None,
    }
}

/// A request: `Authorization: Bearer <token>` when a token is given, and a
/// JSON body (with its content type) when one is given.
pub fn request(
    method: Method,
    uri: &str,
    token: Option<&str>,
    json: Option<&Value>,
) -> Request<Body> {
    let mut request = Request::builder().method(method).uri(uri);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    match json {
        Some(json) => request
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_string())),
        None => request.body(Body::empty()),
    }
    .unwrap()
}

/// A GET request, with a bearer token when one is given.
pub fn req(uri: &str, token: Option<&str>) -> Request<Body> {
    request(Method::GET, uri, token, None)
}

/// GETs `uri` with a bearer token.
pub async fn get_with(app: &Router, uri: &str, token: &str) -> Reply {
    send(app, req(uri, Some(token))).await
}
