//! The request pipeline: the one place that runs the order of checks, from
//! finding the token (step 1) to the scope (step 10), holds every extractor
//! ([`Guard`], [`Token`], `Option<Token>`, [`TokenManager`]), and builds and
//! logs every refusal.

use std::any::TypeId;
use std::marker::PhantomData;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, RawPathParams};
use axum::http::header::{RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
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
        enforce::<R>(parts).await?;
        Ok(Self(PhantomData))
    }
}

impl<R: Requirement> std::fmt::Debug for Guard<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Guard").field(R::SPEC).finish()
    }
}

/// Set in the request extensions by a check: what it found, the manager it
/// was checked with, and the requirement it met. A later `Token` extractor
/// of the same request reuses it only when it applies: see
/// [`Verified::answers_guard`] and [`Verified::answers_default`].
#[derive(Clone)]
struct Verified {
    token: Option<Token>,
    manager: TokenManager,
    spec: &'static Spec,
    /// The marker type of the requirement: one per `#[require_token]`.
    requirement: TypeId,
}

impl Verified {
    /// For the `Token` of the handler whose guard made it: the very same
    /// requirement `R`, checked by the request's manager.
    fn answers_guard<R: Requirement>(&self, manager: &TokenManager) -> bool {
        self.manager.is(manager) && self.requirement == TypeId::of::<R>()
    }

    /// For a `Token` without a guard of its own (in a middleware, or in a
    /// handler the request was passed on to): only a check by the request's
    /// manager (an outer router's never stands in for a nested router's)
    /// whose requirement asks at least what the extractor's own check would:
    /// an access token, found where the manager looks. A refresh-token or
    /// `location(query)` check never answers for it.
    fn answers_default(&self, manager: &TokenManager) -> bool {
        self.manager.is(manager)
            && self.spec.kind == TokenKind::Access
            && self
                .spec
                .locations
                .is_none_or(|locations| locations == manager.locations())
    }
}

/// The requirement of a `Token` extractor that has no guard of its own.
struct Bare;

impl Requirement for Bare {
    const SPEC: &'static Spec = &Spec::DEFAULT;
}

/// The requirement of an `Option<Token>` extractor that has no guard of
/// its own.
struct BareOptional;

impl Requirement for BareOptional {
    const SPEC: &'static Spec = &Spec::OPTIONAL;
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

/// Runs every check of `R` with the request's manager; on success records
/// what was found in the request extensions for the `Token` extractors.
async fn enforce<R: Requirement>(parts: &mut Parts) -> Result<Option<Token>, Response> {
    let Some(manager) = manager_of(parts) else {
        return Err(no_manager());
    };
    enforce_with::<R>(parts, manager).await
}

async fn enforce_with<R: Requirement>(
    parts: &mut Parts,
    manager: TokenManager,
) -> Result<Option<Token>, Response> {
    match run(parts, R::SPEC, &manager).await {
        Ok(token) => {
            parts.extensions.insert(Verified {
                token: token.clone(),
                manager,
                spec: R::SPEC,
                requirement: TypeId::of::<R>(),
            });
            Ok(token)
        }
        Err(error) => Err(reject(&manager, &error)),
    }
}

/// The token an earlier check of this request found, when `answers` says
/// it applies under the request's manager; else `R`'s check, run now.
async fn verified<R: Requirement>(
    parts: &mut Parts,
    answers: impl FnOnce(&Verified, &TokenManager) -> bool,
) -> Result<Option<Token>, Response> {
    let Some(manager) = manager_of(parts) else {
        return Err(no_manager());
    };
    match parts.extensions.get::<Verified>() {
        Some(found) if answers(found, &manager) => Ok(found.token.clone()),
        _ => enforce_with::<R>(parts, manager).await,
    }
}

/// The refusal of a `Token` extractor when an `optional` check found no
/// token but the handler asks for one.
fn missing(parts: &Parts) -> Response {
    match manager_of(parts) {
        Some(manager) => reject(&manager, &AuthError::Missing),
        None => no_manager(),
    }
}

/// The order of checks, steps 1 to 10.
async fn run(
    parts: &mut Parts,
    spec: &'static Spec,
    manager: &TokenManager,
) -> Result<Option<Token>, AuthError> {
    let locations = spec.locations.unwrap_or_else(|| manager.locations());
    // 1–2: find the token; origin and CSRF for a cookie on an unsafe method.
    let Some(found) = transport::find(parts, locations, spec.kind, &manager.cookie_policy())?
    else {
        return if spec.optional {
            Ok(None)
        } else {
            Err(AuthError::Missing)
        };
    };
    // 3–5: size, header, algorithm, signature; time and registered claims; kind.
    let token = manager.decode(found.token, spec.kind).await?;
    if let Some(csrf) = found.csrf {
        // The CSRF value must also be this very token's.
        // (Another issuer's token may have no `jti`: then nothing matches.)
        if token.jti().is_empty() || !constant_time_eq(csrf, token.jti()) {
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
    let Some(handler) = manager.error_handler() else {
        return error.to_response(manager.realm());
    };
    let mut response = handler(error);
    // A response that keeps the refusal's status, or any 401, keeps the
    // refusal's challenge unless the handler wrote its own: a 401 without
    // one breaks RFC 9110 §11.6.1, and clients read the error code from it.
    let status = response.status();
    if (status == error.status() || status == StatusCode::UNAUTHORIZED)
        && !response.headers().contains_key(WWW_AUTHENTICATE)
        && let Some(challenge) = error.www_authenticate(manager.realm())
    {
        response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
    }
    // Likewise a 503 keeps its `Retry-After`.
    if status == error.status()
        && !response.headers().contains_key(RETRY_AFTER)
        && let Some(seconds) = error.retry_after()
    {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

fn log_refusal(error: &AuthError) {
    let status = error.status().as_u16();
    match error {
        AuthError::Misconfigured(detail) => {
            tracing::error!(target: "jwt_guard", status, detail, "request refused: server misconfiguration");
        }
        // Logged once where it was found (`TokenManager::check_revocation`):
        // with the store's error, or as a warning naming the family that a
        // reused refresh token revoked.
        AuthError::StoreUnavailable | AuthError::InvalidToken(InvalidToken::Reused) => {}
        AuthError::Missing => {
            tracing::debug!(target: "jwt_guard", status, "request refused: no token");
        }
        _ => {
            tracing::info!(target: "jwt_guard", status, code = error.code(), reason = %error, "request refused");
        }
    }
}

/// The verified token. Used without the attribute (in a middleware, or a
/// handler without a guard), it reuses an earlier check only when that one
/// asked at least as much (an access token, from the manager's
/// locations, checked by the same manager), else it
/// verifies on its own as a bare `#[require_token]` would.
impl<S: Send + Sync> FromRequestParts<S> for Token {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = verified::<Bare>(parts, Verified::answers_default).await?;
        token.ok_or_else(|| missing(parts))
    }
}

/// The verified token, or `None` when an `optional` check found none.
impl<S: Send + Sync> OptionalFromRequestParts<S> for Token {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        verified::<BareOptional>(parts, Verified::answers_default).await
    }
}

/// The type a guarded handler's argument written `Token` must be: the
/// expansion reads such an argument through its own guard, and checks that
/// the name means jwt-guard's `Token`.
#[diagnostic::on_unimplemented(
    message = "`#[require_token]` reads an argument of type `Token` as jwt-guard's `Token`, and `{Self}` is another type",
    label = "not `jwt_guard::Token`",
    note = "import `jwt_guard::Token`, or give your own type another name"
)]
pub trait IsToken: Sized {
    /// The argument, from the verified token.
    fn from_token(token: Token) -> Self;
}

impl IsToken for Token {
    fn from_token(token: Token) -> Self {
        token
    }
}

/// A guarded handler's `Token` argument, as the expansion rewrites it: the
/// token its own guard `R` accepted, never another check's.
pub struct GuardedToken<R: Requirement, T = Token>(pub T, pub PhantomData<fn() -> R>);

impl<S: Send + Sync, R: Requirement, T: IsToken> FromRequestParts<S> for GuardedToken<R, T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        match verified::<R>(parts, Verified::answers_guard::<R>).await? {
            Some(token) => Ok(Self(T::from_token(token), PhantomData)),
            None => Err(missing(parts)),
        }
    }
}

/// A guarded handler's `Option<Token>` argument, as the expansion rewrites
/// it: the token its own guard `R` accepted, or `None` when that
/// `optional` guard found none.
pub struct GuardedOption<R: Requirement, T = Token>(pub Option<T>, pub PhantomData<fn() -> R>);

impl<S: Send + Sync, R: Requirement, T: IsToken> FromRequestParts<S> for GuardedOption<R, T> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = verified::<R>(parts, Verified::answers_guard::<R>).await?;
        Ok(Self(token.map(T::from_token), PhantomData))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guard_shows_its_requirement() {
        struct Fresh;
        impl Requirement for Fresh {
            const SPEC: &'static Spec = &Spec {
                fresh: true,
                ..Spec::DEFAULT
            };
        }
        let shown = format!("{:?}", Guard::<Fresh>(PhantomData));
        assert!(
            shown.starts_with("Guard(Spec { kind: Access, fresh: true, optional: false"),
            "{shown}"
        );
    }
}
