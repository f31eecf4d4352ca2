//! Publishing the manager's public keys: [`TokenManager::jwks`] and the
//! route that serves it, for the services that verify its tokens.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::TokenManager;

/// Where [`TokenManager::jwks_router`] serves the JWK Set (RFC 8414 §3,
/// and the usual place of OIDC providers' `jwks_uri`).
pub const JWKS_PATH: &str = "/.well-known/jwks.json";

/// How long verifiers may cache the set. Publish a new key at least this
/// long before signing with it.
const MAX_AGE_SECS: u32 = 300;

impl TokenManager {
    /// The keys that verify this manager's tokens, as a public JWK Set
    /// (RFC 7517 §5): `{"keys": [..]}`, with each key's `kty`, `use`,
    /// `alg`, `kid` and public parameters. HMAC secrets and private
    /// parameters are never in it, and a retired key leaves it. Serve it
    /// with [`jwks_router`](Self::jwks_router).
    ///
    /// ```
    /// use jwt_guard::TokenManager;
    ///
    /// let manager = TokenManager::builder()
    ///     .es256_pem(
    ///         include_bytes!("../../../tests/keys/ec256-private.pem"),
    ///         include_bytes!("../../../tests/keys/ec256-public.pem"),
    ///     )
    ///     .key_id("2026-11")
    ///     .build()?;
    /// let jwks = manager.jwks();
    /// assert_eq!(jwks["keys"][0]["kid"], "2026-11");
    /// assert_eq!(jwks["keys"][0]["kty"], "EC");
    /// assert!(jwks["keys"][0].get("d").is_none());
    /// # Ok::<(), jwt_guard::ConfigError>(())
    /// ```
    #[must_use]
    pub fn jwks(&self) -> serde_json::Value {
        let keys: Vec<_> = self
            .inner
            .keys
            .verifying()
            .iter()
            .filter(|key| !key.is_retired())
            .filter_map(|key| key.jwk().cloned())
            .map(serde_json::Value::Object)
            .collect();
        serde_json::json!({ "keys": keys })
    }

    /// A router serving [`jwks`](Self::jwks) at
    /// `GET /.well-known/jwks.json` ([`JWKS_PATH`](crate::JWKS_PATH)), as
    /// `application/jwk-set+json` with `Cache-Control: public,
    /// max-age=300` and an `ETag` (a matching `If-None-Match` gets 304).
    /// Merge it into the application's router.
    ///
    /// A key must be published before tokens signed with it reach
    /// verifiers that cache the set: add the new key as a
    /// [verify key](crate::TokenManagerBuilder::verify_key_pem) first,
    /// and sign with it five minutes or more later.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use axum::{Router, body::Body, http::Request};
    /// use jwt_guard::TokenManager;
    /// use tower::ServiceExt;
    ///
    /// let manager = TokenManager::builder()
    ///     .ed25519_pem(
    ///         include_bytes!("../../../tests/keys/ed25519-private.pem"),
    ///         include_bytes!("../../../tests/keys/ed25519-public.pem"),
    ///     )
    ///     .key_id("k1")
    ///     .build()
    ///     .unwrap();
    /// let app: Router = Router::new().merge(manager.jwks_router());
    /// let request = Request::get("/.well-known/jwks.json").body(Body::empty()).unwrap();
    /// let response = app.oneshot(request).await.unwrap();
    /// assert_eq!(response.headers()["content-type"], "application/jwk-set+json");
    /// # }
    /// ```
    pub fn jwks_router<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        let manager = self.clone();
        Router::new().route(
            JWKS_PATH,
            get(move |headers: HeaderMap| async move { serve(&manager, &headers) }),
        )
    }
}

fn serve(manager: &TokenManager, headers: &HeaderMap) -> Response {
    let body = manager.jwks().to_string();
    // The same keys give the same tag on every instance and every run.
    let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(body.as_bytes());
    let etag = format!("\"{hash:016x}\"");
    let cache = HeaderValue::from_str(&format!("public, max-age={MAX_AGE_SECS}"))
        .unwrap_or(HeaderValue::from_static("no-cache"));
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == etag
        });
    let etag = HeaderValue::from_str(&etag).unwrap_or(HeaderValue::from_static("\"\""));
    if matches {
        return (
            StatusCode::NOT_MODIFIED,
            [(header::ETAG, etag), (header::CACHE_CONTROL, cache)],
        )
            .into_response();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/jwk-set+json"),
            ),
            (header::ETAG, etag),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}
