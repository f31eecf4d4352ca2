//! Requests sent through a Router, and their replies read whole.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use axum::response::Response;
use http_body_util::BodyExt as _;
use jwt_guard::AuthError;
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
    ///   the missing `scope`; no challenge at all for a 500;
    /// - the JSON body `{"error": <code>, "message": <the reason>}`, where a
    ///   server error says only that the credentials could not be checked;
    /// - that the handler did not run (its reply would carry the mark of
    ///   [`Ran`](crate::Ran));
    /// - that no header and no body holds any part of `secrets` (tokens are
    ///   split at `.` and PEM keys at line ends, into parts of 8 bytes or
    ///   more) or a sign of the server's internals (a panic, a debug dump).
    #[track_caller]
    pub fn assert_refused(&self, realm: &str, expected: impl Into<AuthError>, secrets: &[&str]) {
        let expected = expected.into();
        let status = expected.status();
        assert_eq!(self.status, status, "not refused as {expected:?}: {self:?}");
        assert!(!self.ran(), "the handler ran: {self:?}");
        let (code, message) = match expected.code() {
            Some(code) => (code, expected.message().into_owned()),
            None if status.is_server_error() => (
                "server_error",
                "the server could not check the request's credentials".to_owned(),
            ),
            None => ("unauthorized", expected.message().into_owned()),
        };
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
        for part in secrets
            .iter()
            .flat_map(|s| s.split(['.', '\n']))
            .filter(|part| part.len() >= 8)
        {
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

/// Sends `request` through `app` and reads the response whole.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    read(app.clone().oneshot(request).await.unwrap()).await
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
