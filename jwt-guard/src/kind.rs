//! [`TokenKind`]: access or refresh, the `type` claim every layer speaks of.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Whether a token is an access token or a refresh token (its `type` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A short-lived token that grants access to protected handlers.
    Access,
    /// A long-lived token accepted only by `#[require_token(refresh)]`
    /// handlers, to obtain a new access token.
    Refresh,
}

impl TokenKind {
    /// The value of the `type` claim: `"access"` or `"refresh"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Access => "access",
            Self::Refresh => "refresh",
        }
    }
}

impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
