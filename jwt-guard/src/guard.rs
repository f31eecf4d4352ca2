//! Checks one declared requirement against a request: the order of checks
//! of the design, from finding the token to the scope.

use axum::extract::rejection::RawPathParamsRejection;
use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use axum::response::Response;
use serde_json::Value;

use crate::__private::{Lit, Spec};
use crate::claims::{ClaimRef, Claims, Scope};
use crate::error::{AuthError, Forbidden, InvalidToken};
use crate::manager::TokenManager;
use crate::token::{Token, Verified};
use crate::transport::{self, constant_time_eq};

const NO_MANAGER: &str =
    "no TokenManager: add `manager.layer()` to the router or call `manager.install()`";

/// The 500 answer when no manager is reachable. Never fails open.
pub(crate) fn no_manager() -> Response {
    let error = AuthError::Misconfigured(NO_MANAGER);
    crate::manager::log_refusal(&error);
    error.to_response("api")
}

/// The response to `error`, through the request's manager when there is one.
pub(crate) fn refuse(parts: &Parts, error: &AuthError) -> Response {
    match TokenManager::from_parts(parts) {
        Some(manager) => manager.reject(error),
        None => no_manager(),
    }
}

/// Runs every check of `spec`; on success records what was found in the
/// request extensions for the `Token` extractors.
pub(crate) async fn enforce(
    parts: &mut Parts,
    spec: &'static Spec,
) -> Result<Option<Token>, Response> {
    let Some(manager) = TokenManager::from_parts(parts) else {
        return Err(no_manager());
    };
    match run(parts, spec, &manager).await {
        Ok(token) => {
            parts.extensions.insert(Verified(token.clone()));
            Ok(token)
        }
        Err(error) => Err(manager.reject(&error)),
    }
}

async fn run(
    parts: &mut Parts,
    spec: &'static Spec,
    manager: &TokenManager,
) -> Result<Option<Token>, AuthError> {
    let locations = spec.locations.unwrap_or_else(|| manager.locations());
    // 1–2: find the token; CSRF for a cookie on an unsafe method.
    let Some(found) = transport::find(parts, locations, spec.kind)? else {
        return if spec.optional {
            Ok(None)
        } else {
            Err(AuthError::Missing)
        };
    };
    // 3–5: decode, signature, time and registered claims, kind.
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
    check_requirement(parts, spec, token.parsed()).await?;
    Ok(Some(token))
}

async fn check_requirement(
    parts: &mut Parts,
    spec: &'static Spec,
    claims: &Claims,
) -> Result<(), AuthError> {
    if !spec.overrides.is_empty()
        && spec
            .overrides
            .iter()
            .all(|(key, lit)| override_holds(claims, key, *lit))
    {
        return Ok(());
    }
    if !spec.path.is_empty() {
        let params = match RawPathParams::from_request_parts(parts, &()).await {
            Ok(params) => params,
            // A parameter that is not UTF-8 equals no claim: the client's fault.
            Err(RawPathParamsRejection::InvalidUtf8InPathParam(_)) => {
                let (claim, param) = spec.path.first().copied().unwrap_or(("sub", ""));
                return Err(Forbidden::PathMismatch { claim, param }.into());
            }
            Err(_) => return Err(misconfigured_param(spec.path.first().map_or("", |p| p.1))),
        };
        for &(claim, param) in spec.path {
            let value = params
                .iter()
                .find_map(|(name, value)| (name == param).then_some(value))
                .ok_or_else(|| misconfigured_param(param))?;
            if !path_matches(claims, claim, value) {
                return Err(Forbidden::PathMismatch { claim, param }.into());
            }
        }
    }
    for &(claim, lit) in spec.claims {
        if !claims
            .get_ref(claim)
            .is_some_and(|value| lit_matches(lit, &value))
        {
            return Err(Forbidden::ClaimMismatch { claim }.into());
        }
    }
    if !spec.scope.is_empty() || !spec.scope_strings.is_empty() {
        let scope = claims.scope.as_ref();
        let mut missing = Vec::new();
        for &(key, lit) in spec.scope {
            let held = scope
                .and_then(|s| s.get(key))
                .is_some_and(|value| lit_matches(lit, &ClaimRef::Json(value)));
            if !held {
                missing.push(key);
            }
        }
        for &entry in spec.scope_strings {
            if !scope.is_some_and(|s| s.contains(entry)) {
                missing.push(entry);
            }
        }
        if !missing.is_empty() {
            return Err(Forbidden::Scope { missing }.into());
        }
    }
    Ok(())
}

fn misconfigured_param(param: &str) -> AuthError {
    tracing::error!(
        target: "jwt_guard",
        param,
        "the handler names a path parameter its route does not have"
    );
    AuthError::Misconfigured("the route lacks a path parameter the handler names")
}

/// An override entry is looked up in the scope map first, then among the
/// top-level claims.
fn override_holds(claims: &Claims, key: &str, lit: Lit) -> bool {
    if let Some(Scope::Map(map)) = &claims.scope
        && let Some(value) = map.get(key)
    {
        return lit_matches(lit, &ClaimRef::Json(value));
    }
    claims
        .get_ref(key)
        .is_some_and(|value| lit_matches(lit, &value))
}

/// A path parameter is a string: it matches a string claim exactly, or an
/// integer claim written in canonical decimal.
fn path_matches(claims: &Claims, claim: &str, param: &str) -> bool {
    match claims.get_ref(claim) {
        Some(ClaimRef::Str(value)) => value == param,
        Some(ClaimRef::Json(Value::String(value))) => value == param,
        Some(ClaimRef::Int(n)) => param.parse::<u64>().ok() == Some(n) && n.to_string() == param,
        Some(ClaimRef::Json(Value::Number(n))) => n.is_i64() && n.to_string() == param,
        _ => false,
    }
}

/// No coercion: `true` is not `"true"`, `1` is not `true`, `1.0` is not `1`.
fn lit_matches(lit: Lit, value: &ClaimRef<'_>) -> bool {
    match (lit, value) {
        (Lit::Bool(want), ClaimRef::Bool(got)) => want == *got,
        (Lit::Bool(want), ClaimRef::Json(Value::Bool(got))) => want == *got,
        (Lit::Int(want), ClaimRef::Int(got)) => u64::try_from(want).is_ok_and(|w| w == *got),
        (Lit::Int(want), ClaimRef::Json(Value::Number(got))) => {
            got.as_i64() == Some(want) && (got.is_i64() || got.is_u64())
        }
        (Lit::Str(want), ClaimRef::Str(got)) => want == *got,
        (Lit::Str(want), ClaimRef::Json(Value::String(got))) => want == got,
        _ => false,
    }
}
