//! Items that `#[require_token]` expansions name. Not public API: nothing
//! here follows semver, and nothing but the macro should use it.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::Response;

pub use crate::claims::TokenKind;
pub use crate::transport::Location;

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
    /// `sub = "p"` and `path(claim = "p")`: (claim, path parameter).
    pub path: &'static [(&'static str, &'static str)],
    /// `claims(..)`.
    pub claims: &'static [(&'static str, Lit)],
    /// `scope(key = lit)`.
    pub scope: &'static [(&'static str, Lit)],
    /// `scope("a:b")`.
    pub scope_strings: &'static [&'static str],
    /// `override(..)`.
    pub overrides: &'static [(&'static str, Lit)],
}

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

/// The extractor each expansion injects first: it runs the whole check
/// before any other extractor, and refuses early.
pub struct Guard<R: Requirement>(PhantomData<fn() -> R>);

impl<S: Send + Sync, R: Requirement> FromRequestParts<S> for Guard<R> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        crate::guard::enforce(parts, R::SPEC).await?;
        Ok(Self(PhantomData))
    }
}

impl<R: Requirement> std::fmt::Debug for Guard<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Guard").field(R::SPEC).finish()
    }
}
