//! What the arguments mean, once they are read: reserved claim names, path
//! parameter names, scope strings, and how the arguments combine. Each
//! mistake is reported at the argument that makes it.

use syn::Ident;

use super::args::{Args, Scope};
use super::ctxt::{Ctxt, position};

/// A claim that `claims(..)`, `path(..)` and `override(..)` refuse.
struct Reserved {
    name: &'static str,
    /// What to write instead of requiring it.
    required: &'static str,
    /// What to write instead of an `override(..)` entry of it.
    overriding: &'static str,
}

/// The claims the token manager issues and checks itself.
const RESERVED_CLAIMS: &[Reserved] = &[
    Reserved {
        name: "sub",
        required: "use `sub = \"<path parameter>\"`",
        overriding: "an override is something a token holds, not who it is: give the tokens that \
                     may act for others a scope entry, e.g. `override(admin = true)`",
    },
    Reserved {
        name: "type",
        required: "use `refresh` for refresh tokens",
        overriding: "an override never changes the kind of token accepted; \
                     use `refresh` for refresh tokens",
    },
    Reserved {
        name: "fresh",
        required: "use `fresh`",
        overriding: "an override never skips freshness; use `fresh` to require it",
    },
    Reserved {
        name: "scope",
        required: "use `scope(..)`",
        overriding: "name the scope map's entry itself, e.g. `override(admin = true)`",
    },
    Reserved {
        name: "exp",
        required: "the token manager checks it on every token",
        overriding: "the token manager checks it on every token",
    },
    Reserved {
        name: "iat",
        required: "the token manager checks it on every token",
        overriding: "the token manager checks it on every token",
    },
    Reserved {
        name: "nbf",
        required: "the token manager checks it on every token",
        overriding: "the token manager checks it on every token",
    },
    Reserved {
        name: "jti",
        required: "the token manager checks it against revocations",
        overriding: "the token manager checks it against revocations",
    },
    Reserved {
        name: "sid",
        required: "the token manager checks it against revoked families; \
                   revoke one with `TokenManager::revoke_family`",
        overriding: "the token manager checks it against revoked families",
    },
    Reserved {
        name: "iss",
        required: "configure `issuer` on the token manager",
        overriding: "configure `issuer` on the token manager",
    },
    Reserved {
        name: "aud",
        required: "configure `audience` on the token manager",
        overriding: "configure `audience` on the token manager",
    },
];

/// The reserved claim of this name. Names are read unraw'd, so `r#type` is
/// `type` here.
fn reserved(claim: &str) -> Option<&'static Reserved> {
    RESERVED_CLAIMS
        .iter()
        .find(|reserved| reserved.name == claim)
}

/// Checks what each argument says on its own. Runs on whatever was read, even
/// when a syntax error stopped the parse.
pub(crate) fn arguments(args: &Args, cx: &Ctxt) {
    for check in &args.path {
        let claim = check.claim.to_string();
        // `sub` is matched to a path parameter by `sub = ".."` itself.
        if claim != "sub"
            && let Some(reserved) = reserved(&claim)
        {
            cx.error_at(
                check.claim.span(),
                format!(
                    "`{claim}` cannot be matched to a path parameter: {}",
                    reserved.required
                ),
            );
        }
        if check.param_ident.is_none() {
            cx.error_at(
                check.param.span(),
                format!(
                    "`{}` is not a path parameter name: write the name between braces in the route, \
                     e.g. `\"username\"` for `/users/{{username}}`",
                    check.param.value()
                ),
            );
        }
    }
    if let Some(claims) = &args.claims {
        for entry in &claims.entries {
            let claim = entry.key.to_string();
            if let Some(reserved) = reserved(&claim) {
                cx.error_at(
                    entry.key.span(),
                    format!(
                        "`{claim}` cannot be required with `claims(..)`: {}",
                        reserved.required
                    ),
                );
            }
        }
    }
    if let Some(overrides) = &args.overrides {
        for entry in &overrides.entries {
            let claim = entry.key.to_string();
            if let Some(reserved) = reserved(&claim) {
                cx.error_at(
                    entry.key.span(),
                    format!(
                        "`{claim}` cannot be an `override(..)` entry: {}",
                        reserved.overriding
                    ),
                );
            }
        }
    }
    // Each string is one OAuth2 scope token: the token's scope is split on
    // spaces, so a string with a space could never match.
    if let Some(Scope::Strings(strings)) = &args.scope {
        for (i, entry) in strings.entries.iter().enumerate() {
            let value = entry.value();
            if value.is_empty() {
                cx.error_at(
                    entry.span(),
                    "empty scope entry: write the scope's name, e.g. `scope(\"posts:write\")`",
                );
            } else if value.chars().any(char::is_whitespace) {
                cx.error_at(
                    entry.span(),
                    "a scope entry has no spaces: write each entry as its own string, e.g. `scope(\"a\", \"b\")`",
                );
            } else if strings.entries[..i].iter().any(|s| s.value() == value) {
                cx.error_at(entry.span(), format!("duplicate scope entry `{value}`"));
            }
        }
    }
}

/// Checks combinations of arguments; reports each contradiction at the
/// argument that makes it.
pub(crate) fn combinations(args: &Args, cx: &Ctxt) {
    if args.refresh.is_some() {
        if let Some(fresh) = &args.fresh {
            cx.error_at(
                fresh.span(),
                "`fresh` cannot be combined with `refresh`: refresh tokens are never fresh; remove one",
            );
        }
        if let Some(optional) = &args.optional {
            cx.error_at(
                optional.span(),
                "`optional` cannot be combined with `refresh`: a refresh handler needs the refresh token; remove `optional`",
            );
        }
        if let Some(scope) = &args.scope {
            cx.error_at(
                scope.keyword().span(),
                "`scope(..)` cannot be combined with `refresh`: check scope on the handlers that take access tokens",
            );
        }
    }
    if let Some(optional) = &args.optional {
        optional_weakens(optional, args, cx);
    }
    if let Some(overrides) = &args.overrides
        && args.path.is_empty()
        && args.claims.is_none()
        && args.scope.is_none()
    {
        cx.error_at(
            overrides.keyword.span(),
            "`override(..)` has nothing to override: it skips `sub`, `path(..)`, `claims(..)` \
             and `scope(..)` checks, so add one of them",
        );
    }
}

/// `optional` with a requirement would let a request without a token
/// through where a token that misses the requirement is refused: the
/// weakest caller would pass where a stronger one is turned away.
fn optional_weakens(optional: &Ident, args: &Args, cx: &Ctxt) {
    let mut requirements: Vec<(&Ident, &str)> = Vec::new();
    if let Some(fresh) = &args.fresh {
        requirements.push((fresh, "`fresh`"));
    }
    if let Some(sub) = &args.sub_keyword {
        requirements.push((sub, "`sub = \"..\"`"));
    }
    if let Some(path) = &args.path_keyword {
        requirements.push((path, "`path(..)`"));
    }
    if let Some(scope) = &args.scope {
        requirements.push((scope.keyword(), "`scope(..)`"));
    }
    if let Some(claims) = &args.claims {
        requirements.push((&claims.keyword, "`claims(..)`"));
    }
    if let Some(overrides) = &args.overrides {
        requirements.push((&overrides.keyword, "`override(..)`"));
    }
    if requirements.is_empty() {
        return;
    }
    requirements.sort_by_key(|(keyword, _)| position(keyword.span()));
    let names: Vec<&str> = requirements.iter().map(|(_, name)| *name).collect();
    let names = match names.split_last() {
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => return,
    };
    cx.error_at(
        optional.span(),
        format!(
            "`optional` cannot be combined with {names}: a request without a token would pass \
             where a token that fails the check is refused; remove `optional` and require the \
             token, or take `Option<Token>` and check it in the handler"
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::super::ctxt::messages;
    use super::*;
    use proc_macro2::TokenStream;
    use quote::quote;

    /// Parses and validates as the macro does; every message if there is any.
    fn check(tokens: TokenStream) -> Result<Args, String> {
        let cx = Ctxt::new();
        let (args, parsed) = Args::parse(tokens, &cx);
        arguments(&args, &cx);
        match parsed {
            Ok(()) => combinations(&args, &cx),
            Err(error) => cx.error(error),
        }
        cx.check().map(|()| args).map_err(|e| messages(&e))
    }

    #[test]
    fn every_form_is_valid() {
        check(quote!(
            fresh, sub = "username", path(tenant = "org"), scope(admin = true, level = -2),
            claims(team = "core"), override(root = true), location(header, cookie),
        ))
        .unwrap();
        check(quote!(refresh, sub = "username")).unwrap();
        check(quote!(scope("posts:read", "posts:write"))).unwrap();
        check(quote!(optional, location(cookie, header))).unwrap();
        check(quote!(path(sub = "username"))).unwrap();
    }

    #[test]
    fn contradictions() {
        for (tokens, needle) in [
            (quote!(refresh, fresh), "never fresh"),
            (quote!(refresh, optional), "needs the refresh token"),
            (
                quote!(refresh, scope(admin = true)),
                "cannot be combined with `refresh`",
            ),
            (
                quote!(refresh, scope("posts:write")),
                "cannot be combined with `refresh`",
            ),
            (quote!(override(admin = true)), "nothing to override"),
            (quote!(claims(exp = 1)), "`exp` cannot be required"),
            (quote!(path(jti = "id")), "`jti` cannot be matched"),
            (quote!(scope("a b")), "no spaces"),
            (quote!(scope("")), "empty scope entry"),
            (quote!(scope("a", "a")), "duplicate scope entry `a`"),
            (quote!(sub = "user-name"), "not a path parameter name"),
            (quote!(sub = "r#type"), "not a path parameter name"),
            (quote!(sub = ""), "not a path parameter name"),
            (quote!(path(org = "_")), "not a path parameter name"),
        ] {
            let err = check(tokens).err().unwrap();
            assert!(err.contains(needle), "{err} lacks {needle}");
        }
    }

    #[test]
    fn optional_never_goes_with_a_requirement() {
        for (tokens, names) in [
            (quote!(optional, fresh), "`fresh`"),
            (quote!(optional, sub = "user"), "`sub = \"..\"`"),
            (quote!(optional, path(org = "org")), "`path(..)`"),
            (quote!(optional, scope(admin = true)), "`scope(..)`"),
            (quote!(optional, scope("posts:write")), "`scope(..)`"),
            (quote!(optional, claims(tenant = "acme")), "`claims(..)`"),
            (
                quote!(claims(tenant = "acme"), override(admin = true), optional),
                "`claims(..)` and `override(..)`",
            ),
        ] {
            let err = check(tokens).err().unwrap();
            assert!(
                err.starts_with(&format!("`optional` cannot be combined with {names}: ")),
                "{err}"
            );
            assert!(
                err.contains("a request without a token would pass"),
                "{err}"
            );
            assert!(err.contains("take `Option<Token>`"), "{err}");
            assert_eq!(err.lines().count(), 1, "one error per `optional`: {err}");
        }
    }

    #[test]
    fn optional_names_its_conflicts_in_the_order_written() {
        let tokens = r#"scope(admin = true), optional, sub = "user", fresh"#;
        let err = check(tokens.parse().unwrap()).err().unwrap();
        assert!(
            err.starts_with(
                "`optional` cannot be combined with `scope(..)`, `sub = \"..\"` and `fresh`: "
            ),
            "{err}"
        );
    }

    #[test]
    fn every_reserved_claim_says_what_to_write_instead() {
        for reserved in RESERVED_CLAIMS {
            let claim = reserved.name;
            let (required, overriding) = (reserved.required, reserved.overriding);
            for ident in [
                syn::Ident::new(claim, proc_macro2::Span::call_site()),
                syn::Ident::new_raw(claim, proc_macro2::Span::call_site()),
            ] {
                let err = check(quote!(claims(#ident = 1))).err().unwrap();
                assert_eq!(
                    err,
                    format!("`{claim}` cannot be required with `claims(..)`: {required}")
                );
                let err = check(quote!(claims(a = 1), override(#ident = 1)))
                    .err()
                    .unwrap();
                assert_eq!(
                    err,
                    format!("`{claim}` cannot be an `override(..)` entry: {overriding}")
                );
                if claim != "sub" {
                    let err = check(quote!(path(#ident = "p"))).err().unwrap();
                    assert_eq!(
                        err,
                        format!("`{claim}` cannot be matched to a path parameter: {required}")
                    );
                }
            }
        }
        check(quote!(path(r#sub = "username"))).unwrap();
    }

    #[test]
    fn a_scope_string_is_checked_once() {
        // An entry that is empty or has a space is not also a duplicate.
        let err = check(quote!(scope("a b", "a b", "", ""))).err().unwrap();
        assert_eq!(err.lines().count(), 4, "{err}");
        assert!(!err.contains("duplicate"), "{err}");
    }

    #[test]
    fn the_strings_of_a_repeated_scope_are_checked() {
        let err = check(quote!(scope(admin = true), scope("a b")))
            .err()
            .unwrap();
        assert!(err.contains("duplicate argument `scope`"), "{err}");
        assert!(err.contains("no spaces"), "{err}");
        let err = check(quote!(scope("a"), scope("a"))).err().unwrap();
        assert!(err.contains("duplicate scope entry `a`"), "{err}");
    }
}
