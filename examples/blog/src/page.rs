//! The page: plain HTML and a script, served as they are, no build step.

use axum::http::HeaderValue;
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};

/// Scripts and connections from this origin only, and never in a frame.
const POLICY: &str = "default-src 'self'; style-src 'self' 'unsafe-inline'; \
                      frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The page: sign up, log in, your posts, write one, live posts, log out.
pub async fn index() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, POLICY),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        include_str!("../static/index.html"),
    )
}

/// The page's script.
pub async fn script() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        include_str!("../static/app.js"),
    )
}

/// Swagger UI shares the page's origin, so its cookies: its own scripts
/// and styles only, its images inline, never in a frame.
pub async fn docs_policy(mut response: Response) -> Response {
    const DOCS: &str = "default-src 'self'; img-src 'self' data:; \
                        style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";
    let headers = response.headers_mut();
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS));
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    response
}
