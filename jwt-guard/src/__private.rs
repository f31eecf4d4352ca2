//! Items that `#[require_token]` expansions name. Not public API: nothing
//! here follows semver, and nothing but the macro should use it. It defines
//! nothing; it only re-exports.

pub use crate::guard::{Guard, GuardedOption, GuardedToken, IsToken};
pub use crate::kind::TokenKind;
pub use crate::requirement::{Binding, Lit, PathCheck, Requirement, Spec};
pub use crate::transport::Location;
