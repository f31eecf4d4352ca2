//! Steps 8 to 10 of the order of checks: a handler's declared requirement
//! ([`Spec`], its literals [`Lit`], and the [`Requirement`] each expansion
//! implements) and its checks against a valid token: `override`, then
//! `sub`/`path`/`claims`, then `scope`.

use axum::extract::RawPathParams;
use axum::extract::rejection::RawPathParamsRejection;
use serde_json::{Number, Value};

use crate::claims::{Claims, Scope};
use crate::error::{AuthError, Forbidden};
use crate::kind::TokenKind;
use crate::transport::Location;

/// A handler's requirement, as constant data.
#[derive(Debug)]
pub struct Spec {
    /// The token kind required.
    pub kind: TokenKind,
    /// `fresh`.
    pub fresh: bool,
    /// `optional`.
    pub optional: bool,
    /// `location(..)`, or the manager's locations.
    pub locations: Option<&'static [Location]>,
    /// `sub = "p"` and `path(claim = "p")`.
    pub path: &'static [PathCheck],
    /// `claims(..)`.
    pub claims: &'static [(&'static str, Lit)],
    /// `scope(key = lit)`.
    pub scope: &'static [(&'static str, Lit)],
    /// `scope("a:b")`.
    pub scope_strings: &'static [&'static str],
    /// `override(..)`.
    pub overrides: &'static [(&'static str, Lit)],
}

/// A claim compared with the path parameter the handler's `Path` extractor
/// binds.
#[derive(Debug, Clone, Copy)]
pub struct PathCheck {
    /// The claim.
    pub claim: &'static str,
    /// The name the handler binds the parameter to.
    pub param: &'static str,
    /// How the handler's `Path` extractor reads it.
    pub binding: Binding,
}

/// How a `Path` extractor reads a route's parameters: what the handler
/// will receive, which is what the guard must check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// By name: `Path<Params>` for a struct with a field per parameter.
    Name,
    /// By position: element `index` of a route with exactly `of`
    /// parameters (`Path<String>` is 0 of 1; `b` in `Path((a, b))` is 1 of 2).
    Position {
        /// Where the parameter is in the route, counting from 0.
        index: usize,
        /// How many parameters the extractor takes.
        of: usize,
    },
}

/// A literal of the attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lit {
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A string.
    Str(&'static str),
}

/// Implemented by the marker type each expansion defines.
pub trait Requirement: 'static {
    /// The handler's requirement.
    const SPEC: &'static Spec;
}

/// The request's path parameters, as the guard extracted them.
pub(crate) type PathParams = Result<RawPathParams, RawPathParamsRejection>;

impl Spec {
    /// A bare `#[require_token]`.
    pub const DEFAULT: Self = Self {
        kind: TokenKind::Access,
        fresh: false,
        optional: false,
        locations: None,
        path: &[],
        claims: &[],
        scope: &[],
        scope_strings: &[],
        overrides: &[],
    };

    /// `#[require_token(optional)]`.
    pub const OPTIONAL: Self = Self {
        optional: true,
        ..Self::DEFAULT
    };

    /// Steps 8 to 10 for a valid token's claims. `params` are the request's
    /// path parameters, extracted when the spec names any.
    pub(crate) fn check(
        &self,
        claims: &Claims,
        params: Option<&PathParams>,
    ) -> Result<(), AuthError> {
        // 8: an override that holds skips the rest.
        if !self.overrides.is_empty()
            && self
                .overrides
                .iter()
                .all(|(key, lit)| override_holds(claims, key, *lit))
        {
            return Ok(());
        }
        // 9: sub/path, then claims.
        if let Some(first) = self.path.first() {
            let params = match params {
                Some(Ok(params)) => params,
                // A parameter that is not UTF-8 equals no claim: the client's fault.
                Some(Err(RawPathParamsRejection::InvalidUtf8InPathParam(_))) => {
                    return Err(Forbidden::PathMismatch {
                        claim: first.claim,
                        param: first.param,
                    }
                    .into());
                }
                Some(Err(_)) | None => {
                    return Err(AuthError::Misconfigured(
                        "the handler binds a path parameter and the route has none",
                    ));
                }
            };
            for check in self.path {
                let value = bound_value(params, check)?;
                if !path_matches(claims, check.claim, value) {
                    return Err(Forbidden::PathMismatch {
                        claim: check.claim,
                        param: check.param,
                    }
                    .into());
                }
            }
        }
        for &(claim, lit) in self.claims {
            if !claims
                .custom(claim)
                .is_some_and(|value| lit_matches(lit, value))
            {
                return Err(Forbidden::ClaimMismatch { claim }.into());
            }
        }
        // 10: scope, naming every missing entry.
        if !self.scope.is_empty() || !self.scope_strings.is_empty() {
            let scope = claims.scope.as_ref();
            let mut missing = Vec::new();
            for &(key, lit) in self.scope {
                let held = scope
                    .and_then(|s| s.get(key))
                    .is_some_and(|value| lit_matches(lit, value));
                if !held {
                    missing.push(key);
                }
            }
            for &entry in self.scope_strings {
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
}

/// The value the handler's `Path` extractor will receive for `check`, or
/// a 500 (logged by the guard, never a pass) when the route does not give
/// it under the name the handler binds.
/// The guard compares the claim with what the handler acts on, never with a
/// parameter of the same name elsewhere in the route.
fn bound_value<'a>(params: &'a RawPathParams, check: &PathCheck) -> Result<&'a str, AuthError> {
    // One pass: how many parameters the route has, and where the bound name is.
    let (mut count, mut found) = (0, None);
    for (i, (name, value)) in params.iter().enumerate() {
        count += 1;
        if name == check.param {
            // matchit accepts `{id}` twice in a nested route: which one a
            // `Path` reads depends on its type. Never guess.
            if found.is_some() {
                return Err(AuthError::Misconfigured(
                    "the route has two parameters of the name the handler binds",
                ));
            }
            found = Some((i, value));
        }
    }
    let Some((at, value)) = found else {
        return Err(AuthError::Misconfigured(
            "the route has no parameter of the name the handler binds",
        ));
    };
    match check.binding {
        Binding::Name => Ok(value),
        Binding::Position { of, .. } if count != of => Err(AuthError::Misconfigured(
            "the route has another number of parameters than the handler's `Path`",
        )),
        Binding::Position { index, .. } if at != index => Err(AuthError::Misconfigured(
            "the route's parameter at the position the handler binds has another name",
        )),
        Binding::Position { .. } => Ok(value),
    }
}

/// An override entry is looked up in the scope map first, then among the
/// top-level claims.
fn override_holds(claims: &Claims, key: &str, lit: Lit) -> bool {
    if let Some(Scope::Map(map)) = &claims.scope
        && let Some(value) = map.get(key)
    {
        return lit_matches(lit, value);
    }
    claims
        .custom(key)
        .is_some_and(|value| lit_matches(lit, value))
}

/// A path parameter is a string: it matches a string claim exactly, or an
/// integer claim written in canonical decimal. `sub` is the one claim of
/// the manager's own a requirement can name (the macro refuses the others
/// in `path(..)`, `claims(..)` and `override(..)`); every other is custom.
fn path_matches(claims: &Claims, claim: &str, param: &str) -> bool {
    if claim == "sub" {
        return claims.sub == param;
    }
    match claims.custom(claim) {
        Some(Value::String(value)) => value == param,
        Some(Value::Number(n)) => integer(n).is_some_and(|n| n.to_string() == param),
        _ => false,
    }
}

/// No coercion: `true` is not `"true"`, `1` is not `true`. A number is
/// compared by its value, whatever its spelling (`1`, `1.0` and `1e0` are
/// one JSON number, RFC 8259 §6).
fn lit_matches(lit: Lit, value: &Value) -> bool {
    match (lit, value) {
        (Lit::Bool(want), Value::Bool(got)) => want == *got,
        (Lit::Int(want), Value::Number(got)) => integer(got) == Some(i128::from(want)),
        (Lit::Str(want), Value::String(got)) => want == got,
        _ => false,
    }
}

/// The integer a JSON number stands for, however it is written (`1`,
/// `1.0`, `1e0`); `None` for a fraction or a float beyond exact integers.
fn integer(n: &Number) -> Option<i128> {
    if let Some(i) = n.as_i64() {
        return Some(i128::from(i));
    }
    if let Some(u) = n.as_u64() {
        return Some(i128::from(u));
    }
    let f = n.as_f64()?;
    // 2^53: every integer up to it is exact in an f64.
    #[allow(clippy::cast_possible_truncation)]
    (f.fract() == 0.0 && f.abs() <= 9_007_199_254_740_992.0).then_some(f as i128)
}
