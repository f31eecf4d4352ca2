//! Requests sent through a Router, and their replies read whole.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt as _;
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

    /// Asserts a refusal: status, challenge, and a JSON body that echoes
    /// nothing of the token.
    #[track_caller]
    pub fn assert_refused(&self, status: u16, challenge: &str, token: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{self:?}");
        assert_eq!(self.challenge(), Some(challenge), "{self:?}");
        let (code, message) = self.error();
        assert!(!code.is_empty() && !message.is_empty());
        if let Some(token) = token {
            for part in token.split('.').filter(|p| p.len() > 8) {
                assert!(
                    !self.text.contains(part),
                    "body echoes the token: {}",
                    self.text
                );
            }
        }
    }
}

/// Sends `request` through `app` and reads the response whole.
pub async fn send(app: &Router, request: Request<Body>) -> Reply {
    let response = app.clone().oneshot(request).await.unwrap();
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

/// The status of a GET of `uri`, with a bearer token when one is given.
pub async fn status(app: &Router, uri: &str, token: Option<&str>) -> u16 {
    send(app, req(uri, token)).await.status.as_u16()
}
