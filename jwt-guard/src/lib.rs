//! Protect axum handlers with JSON Web Tokens by declaring, on the handler,
//! what it needs: `#[require_token(...)]`.
//!
//! # Quick start
//!
//! ```
//! use axum::{Json, Router, extract::Path, routing::{get, post}};
//! use jwt_guard::{Token, TokenManager, require_token};
//! use serde_json::{Value, json};
//!
//! // Any valid access token.
//! #[require_token]
//! async fn me(token: Token) -> String {
//!     format!("hello, {}", token.sub())
//! }
//!
//! // An access token whose `sub` is the `{username}` of the path.
//! #[require_token(sub = "username")]
//! async fn profile(Path(username): Path<String>) -> String {
//!     format!("{username}'s profile")
//! }
//!
//! // An access token whose scope map holds `admin: true`.
//! #[require_token(scope(admin = true))]
//! async fn admin() -> &'static str {
//!     "admin area"
//! }
//!
//! async fn login(manager: TokenManager) -> Json<Value> {
//!     // (check the user's password first)
//!     let access = manager.access_token("alice").fresh(true).sign().unwrap();
//!     let refresh = manager.refresh_token("alice").sign().unwrap();
//!     Json(json!({ "access_token": access.as_str(), "refresh_token": refresh.as_str() }))
//! }
//!
//! # fn main() -> Result<(), jwt_guard::ConfigError> {
//! let manager = TokenManager::builder()
//!     .issuer("my-api")
//!     .hs256(jwt_guard::generate_secret()) // keep a real secret in JWT_GUARD_SECRET
//!     .build()?;
//!
//! let app: Router = Router::new()
//!     .route("/login", post(login))
//!     .route("/me", get(me))
//!     .route("/users/{username}", get(profile))
//!     .route("/admin", get(admin))
//!     .layer(manager.layer());
//! # Ok(())
//! # }
//! ```
//!
//! A refused request never reaches the handler's other extractors (its body
//! is not read): it gets a 400, 401 or 403 with an RFC 6750
//! `WWW-Authenticate` header and a JSON body `{"error": …, "message": …}`.
//! See [`require_token`] for every form of the attribute, and
//! [`TokenManager`] for issuing, verifying and revoking tokens.
//!
//! # Keys
//!
//! A manager signs with one key and verifies with any number, chosen by
//! `kid` ([`TokenManagerBuilder::verify_key_pem`]): keys rotate without
//! refusing the tokens of the old one. It publishes its public keys
//! ([`TokenManager::jwks`], [`TokenManager::jwks_router`]), remembers the
//! asymmetric signatures it has verified
//! ([`TokenManagerBuilder::signature_cache`]), and with the `remote`
//! feature verifies the tokens of other issuers.
//!
//! # Features
//!
//! - `aws-lc-rs` (default): crypto through aws-lc-rs.
//! - `rust-crypto`: pure-Rust crypto through the RustCrypto crates. When
//!   both are enabled, aws-lc-rs is used.
//! - `remote`: [`Issuer`], the tokens of other issuers (identity providers,
//!   other services) trusted by their OIDC discovery document or JWK Set
//!   URL, fetched with reqwest over rustls.
//! - `utoipa`: OpenAPI documents that say what each guard enforces: see
//!   [`openapi`].
//! - `redis`: [`RedisStore`], revocations shared by every instance through
//!   Redis or Redis Cluster, with a local replica so guarded requests never
//!   wait on Redis.

#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(unreachable_pub)]
// Nothing an attacker sends may panic the verifier.
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

#[allow(unused_extern_crates)] // lets expansions name `::jwt_guard` inside this crate
extern crate self as jwt_guard;

// One module per concern, each using only the modules above it, in the
// order a request meets them.

/// Step 3's shortcut: the tokens whose asymmetric signature was verified.
mod cache;
/// Steps 4–5: the strict claims parser and their validation (time, `iss`,
/// `aud`, kind).
mod claims;
/// Every error: why a request was refused and its RFC 6750 response, bad
/// settings, failed issuing, a failed revocation store.
mod error;
/// The request pipeline: runs steps 1–10 (step 7, freshness, included),
/// holds every extractor, and builds and logs every refusal.
mod guard;
/// Step 3: key sets chosen by `kid`, algorithms, the compact-JWS reader,
/// signing and verifying, and JSON Web Keys.
mod keys;
/// `TokenKind`: access or refresh, the vocabulary of every layer below.
mod kind;
/// The token manager: settings checked once at build, issuing, verifying
/// (steps 3–6) and revoking.
mod manager;
#[cfg(feature = "utoipa")]
pub mod openapi;
/// Tokens of other issuers: OIDC discovery, JWK Sets, background refresh.
#[cfg(feature = "remote")]
mod remote;
/// Steps 8–10: a handler's declared requirement and its checks (override,
/// `sub`/path, claims, scope).
mod requirement;
/// Step 6: the revocation store trait, the in-memory store and the Redis
/// store.
mod revocation;
/// A token that passed verification, and what handlers read of it.
mod token;
/// Steps 1–2: where the token is read from (header, cookie, query) and the
/// origin and CSRF checks of a cookie-borne token.
mod transport;

#[doc(hidden)]
pub mod __private;

pub use claims::Scope;
pub use error::{
    AuthError, ConfigError, Forbidden, InvalidRequest, InvalidToken, IssueError, StoreError,
};
pub use kind::TokenKind;
pub use manager::builder::TokenManagerBuilder;
pub use manager::issue::{IssuedToken, TokenBuilder};
pub use manager::publish::JWKS_PATH;
pub use manager::{Clock, SystemClock, TokenManager};
#[cfg(feature = "remote")]
pub use remote::Issuer;
pub use revocation::{
    MemoryStore, Revocation, RevocationStore, Rotation, StoreFuture, Target, TokenStatus,
};
#[cfg(feature = "redis")]
pub use revocation::{RedisStore, RedisStoreBuilder};
pub use token::Token;
pub use transport::{CSRF_HEADER, CookieNames, Location, ParseLocationError};

#[doc(inline)]
pub use jwt_guard_macros::require_token;

/// A random HMAC secret of 48 bytes, base64url-encoded (64 characters): for
/// development, or to print once and keep in `JWT_GUARD_SECRET`.
///
/// Tokens signed with a generated secret do not survive a restart unless
/// the secret is kept.
///
/// ```
/// let secret = jwt_guard::generate_secret();
/// assert_eq!(secret.len(), 64);
/// ```
///
/// # Panics
/// When the operating system has no random source, which a server cannot
/// run without.
#[must_use]
pub fn generate_secret() -> String {
    use base64::Engine as _;
    let mut bytes = [0u8; 48];
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
