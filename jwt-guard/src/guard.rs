//! The request pipeline: the one place that runs the order of checks, from
//! finding the token (step 1) to the scope (step 10), holds every extractor
//! ([`Guard`], [`Token`], `Option<Token>`, [`TokenManager`]), and builds and
//! logs every refusal.

use std::marker::PhantomData;

use axum::extract::{FromRequestParts, MatchedPath, OptionalFromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::Response;

use crate::error::{AuthError, InvalidToken};
use crate::kind::TokenKind;
use crate::manager::TokenManager;
use crate::requirement::{Requirement, Spec};
use crate::token::Token;
use crate::transport::{self, constant_time_eq};

const NO_MANAGER: &str =
    "no TokenManager: add `manager.layer()` to the router or call `manager.install()`";

/// The extractor each expansion injects first: it runs the whole check
/// before any other extractor, and refuses early.
pub struct Guard<R: Requirement>(PhantomData<fn() -> R>);

impl<S: Send + Sync, R: Requirement> FromRequestParts<S> for Guard<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        enforce(parts, R::SPEC).await?;
        Ok(Self(PhantomData))
    }
}

impl<R: Requirement> std::fmt::Debug for Guard<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Guard").field(R::SPEC).finish()
    }
}

/// Set in the request extensions by a check: what it found, the manager
/// and the requirement it was checked with, and the route it ran on. A
/// `Token` extractor reuses it only when it applies (see
/// [`Verified::applies`]); a handler's own guard always runs its whole check
/// and replaces any earlier one, so after a guard the handler's `Token` is
/// the one that guard's requirement accepted.
#[derive(Clone)]
struct Verified {
    token: Option<Token>,
    manager: TokenManager,
    spec: &'static Spec,
    route: Option<MatchedPath>,
}

impl Verified {
    /// Whether this check answers a `Token` or `Option<Token>` extractor
    /// running under `manager` on `route`. Only a check by that very
    /// manager applies (an outer router's manager never stands in for a
    /// nested router's), and then only when
    /// - its requirement asks at least what the extractor's own check would
    ///   (an access token, found where the manager looks), or
    /// - it is the guard of the handler whose `Token` this is: same route.
    ///
    /// A refresh-token or `location(query)` guard's verification thus never
    /// answers for a handler on another route the request is passed on to.
    fn applies(&self, manager: &TokenManager, route: Option<&MatchedPath>) -> bool {
        if !self.manager.is(manager) {
            return false;
        }
        let covers_default = self.spec.kind == TokenKind::Access
            && self
                .spec
                .locations
                .is_none_or(|locations| locations == manager.locations());
        covers_default
            || self.route.as_ref().map(MatchedPath::as_str) == route.map(MatchedPath::as_str)
    }
}

/// The manager of a request: the one [`TokenManager::layer`] put in its
/// extensions, else the [installed](TokenManager::install) one.
fn manager_of(parts: &Parts) -> Option<TokenManager> {
    parts
        .extensions
        .get::<TokenManager>()
        .or_else(|| TokenManager::installed())
        .cloned()
}

/// Runs every check of `spec` with the request's manager; on success
/// records what was found in the request extensions for the `Token`
/// extractors.
async fn enforce(parts: &mut Parts, spec: &'static Spec) -> Result<Option<Token>, Response> {
    let Some(manager) = manager_of(parts) else {
        return Err(no_manager());
    };
    enforce_with(parts, spec, manager).await
}

async fn enforce_with(
    parts: &mut Parts,
    spec: &'static Spec,
    manager: TokenManager,
) -> Result<Option<Token>, Response> {
    match run(parts, spec, &manager).await {
        Ok(token) => {
            let route = parts.extensions.get::<MatchedPath>().cloned();
            parts.extensions.insert(Verified {
                token: token.clone(),
                manager,
                spec,
                route,
            });
            Ok(token)
        }
        Err(error) => Err(reject(&manager, &error)),
    }
}

/// What an earlier check of this request found, when it applies to an
/// extractor running under the request's manager; else the check `spec`,
/// run now.
async fn verified(parts: &mut Parts, spec: &'static Spec) -> Result<Option<Token>, Response> {
    let Some(manager) = manager_of(parts) else {
        return Err(no_manager());
    };
    let route = parts.extensions.get::<MatchedPath>();
    match parts.extensions.get::<Verified>() {
        Some(found) if found.applies(&manager, route) => Ok(found.token.clone()),
        _ => enforce_with(parts, spec, manager).await,
    }
}

/// The order of checks, steps 1 to 10.
async fn run(
    parts: &mut Parts,
    spec: &'static Spec,
    manager: &TokenManager,
) -> Result<Option<Token>, AuthError> {
    let locations = spec.locations.unwrap_or_else(|| manager.locations());
    // 1–2: find the token; CSRF for a cookie on an unsafe method.
    let Some(found) = transport::find(parts, locations, spec.kind, manager.cookie_names())? else {
        return if spec.optional {
            Ok(None)
        } else {
            Err(AuthError::Missing)
        };
    };
    // 3–5: size, header, algorithm, signature; time and registered claims; kind.
    let token = manager.decode(found.token, spec.kind)?;
    if let Some(csrf) = found.csrf {
        // The CSRF value must also be this very token's.
        if !constant_time_eq(csrf, token.jti()) {
            return Err(InvalidToken::Csrf.into());
        }
    }
    // 6: revocation.
    manager.check_revocation(&token).await?;
    // 7: freshness.
    if spec.fresh && !token.is_fresh() {
        return Err(AuthError::NotFresh);
    }
    // 8–10: override, then sub/path/claims, then scope.
    let params = if spec.path.is_empty() {
        None
    } else {
        Some(RawPathParams::from_request_parts(parts, &()).await)
    };
    spec.check(token.parsed(), params.as_ref())?;
    Ok(Some(token))
}

/// The 500 answer when no manager is reachable. Never fails open.
fn no_manager() -> Response {
    let error = AuthError::Misconfigured(NO_MANAGER);
    log_refusal(&error);
    error.to_response("api")
}

/// The response to a refusal: the manager's
/// [error handler](crate::TokenManagerBuilder::error_handler)'s, or the
/// RFC 6750 default. Logs the refusal (never the token).
fn reject(manager: &TokenManager, error: &AuthError) -> Response {
    log_refusal(error);
    match manager.error_handler() {
        Some(handler) => handler(error),
        None => error.to_response(manager.realm()),
    }
}

fn log_refusal(error: &AuthError) {
    let status = error.status().as_u16();
    match error {
        AuthError::Misconfigured(detail) => {
            tracing::error!(target: "jwt_guard", status, detail, "request refused: server misconfiguration");
        }
        AuthError::StoreUnavailable => {
            tracing::error!(target: "jwt_guard", status, "request refused: revocation store unavailable");
        }
        AuthError::Missing => {
            tracing::debug!(target: "jwt_guard", status, "request refused: no token");
        }
        _ => {
            tracing::info!(target: "jwt_guard", status, code = error.code(), reason = %error, "request refused");
        }
    }
}

/// The verified token, after `#[require_token]`. Used without the
/// attribute, it verifies on its own as a bare `#[require_token]` would.
impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(token) = verified(parts, &Spec::DEFAULT).await? {
            return Ok(token);
        }
        // An optional guard found no token, but the handler asks for one.
        Err(match manager_of(parts) {
            Some(manager) => reject(&manager, &AuthError::Missing),
            None => no_manager(),
        })
    }
}

/// The verified token, or `None` when an `optional` guard found none.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Token {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        verified(parts, &Spec::OPTIONAL).await
    }
}

/// Extracts the manager given by [`TokenManager::layer`], or the installed
/// one; refuses with 500 when there is none.
impl<S: Send + Sync> FromRequestParts<S> for TokenManager {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        manager_of(parts).ok_or_else(no_manager)
    }
}
