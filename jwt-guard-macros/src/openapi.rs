//! With the `utoipa` feature: the guard's security requirement and its
//! refusals, written into a `#[utoipa::path(..)]` attribute that follows
//! `#[require_token]`, so that the OpenAPI document says what the guard
//! enforces without a second declaration by hand.
//!
//! Attribute macros expand from the outside in: `#[require_token]` sees the
//! attributes below it and rewrites them before utoipa reads them. One
//! above it has already expanded and cannot be changed, which the crate
//! documentation states as the rule to write `#[require_token]` first.

use proc_macro2::{Delimiter, Group, Literal, Punct, Spacing, TokenStream, TokenTree};
use quote::{ToTokens as _, quote};
use syn::{ItemFn, Meta};

use super::args::{Args, Location, Scope};

/// The names of the security schemes of `jwt_guard::openapi`.
const BEARER: &str = "bearer";
const OAUTH2: &str = "oauth2";
const COOKIE: &str = "cookie";
const REFRESH_COOKIE: &str = "refresh_cookie";
const QUERY: &str = "query";

/// Adds the requirement and the 401/403 responses to each
/// `#[utoipa::path(..)]` of `item` (the compiler has already expanded any
/// `#[cfg_attr(.., utoipa::path(..))]` whose condition holds). A path that
/// declares `security` keeps its own, and what it declares for 401 or 403
/// wins over ours.
pub(crate) fn document(item: &mut ItemFn, args: &Args) {
    for attr in &mut item.attrs {
        let Meta::List(list) = &mut attr.meta else {
            continue;
        };
        let segments = list.path.segments.iter().map(|s| s.ident.to_string());
        if segments.eq(["utoipa", "path"].map(String::from)) {
            list.tokens = rewrite(list.tokens.clone(), args);
        }
    }
}

fn rewrite(tokens: TokenStream, args: &Args) -> TokenStream {
    let mut entries = split_commas(tokens);
    if !entries.iter().any(|entry| is_list(entry, "security")) {
        entries.push(security(args));
    }
    let responses = responses(args);
    match entries.iter_mut().find(|entry| is_list(entry, "responses")) {
        Some(entry) => add_responses(entry, responses),
        None => entries.push(quote!(responses(#(#responses),*))),
    }
    join_commas(entries)
}

/// `security(("bearer" = [..]), ("oauth2" = [..]))`: one alternative per
/// scheme the token may come by, each with the OAuth2 scopes of
/// `scope("..")`; `()` first when the token is optional. A refresh token in
/// the header is `bearer` alone: what the OAuth2 flow keeps is an access
/// token. Without `location(..)` the manager's locations apply, which the
/// macro cannot see: the header's schemes stand for them.
fn security(args: &Args) -> TokenStream {
    let scopes: Vec<_> = match &args.scope {
        Some(Scope::Strings(strings)) => strings.entries.iter().map(|s| s.value()).collect(),
        _ => Vec::new(),
    };
    let locations: Vec<Location> = match &args.locations {
        Some(group) => group
            .entries
            .iter()
            .map(|(location, _)| *location)
            .collect(),
        None => vec![Location::Header],
    };
    let mut schemes = Vec::new();
    for location in locations {
        match location {
            // The OAuth2 flow's token is an access token.
            Location::Header if args.refresh.is_some() => schemes.push(BEARER),
            Location::Header => schemes.extend([BEARER, OAUTH2]),
            Location::Cookie if args.refresh.is_some() => schemes.push(REFRESH_COOKIE),
            Location::Cookie => schemes.push(COOKIE),
            Location::Query => schemes.push(QUERY),
        }
    }
    let anonymous = args.optional.is_some().then(|| quote!((),));
    let alternatives = schemes
        .iter()
        .map(|scheme| quote!((#scheme = [#(#scopes),*])));
    quote! {
        security(#anonymous #(#alternatives),*)
    }
}

/// The guard's refusals, by status: 401 always, 403 when the token must
/// hold something beyond being valid.
fn responses(args: &Args) -> Vec<TokenStream> {
    let mut unauthorized = String::from(
        "The token is missing (where required), malformed, expired, revoked or not accepted",
    );
    if args.refresh.is_some() {
        unauthorized.push_str(", or is not a refresh token");
    }
    if args.fresh.is_some() {
        unauthorized.push_str(", or is not fresh: log in again");
    }
    unauthorized.push_str(" (RFC 6750 `invalid_token`).");
    let mut out = vec![response(401, &unauthorized)];
    let mut needs = Vec::new();
    for check in &args.path {
        needs.push(format!(
            "`{}` equal to the `{}` path parameter",
            check.claim,
            check.param.value()
        ));
    }
    match &args.scope {
        Some(Scope::Strings(strings)) => {
            for scope in &strings.entries {
                needs.push(format!("the scope `{}`", scope.value()));
            }
        }
        Some(Scope::Map(map)) => {
            for entry in &map.entries {
                needs.push(format!("`{}` in its scope", entry.key));
            }
        }
        None => {}
    }
    if let Some(claims) = &args.claims {
        for entry in &claims.entries {
            needs.push(format!("the claim `{}`", entry.key));
        }
    }
    if !needs.is_empty() {
        let mut forbidden = format!(
            "The token is valid but lacks what this operation requires: {}",
            needs.join(", ")
        );
        if let Some(overrides) = &args.overrides {
            let keys: Vec<String> = overrides
                .entries
                .iter()
                .map(|entry| format!("`{}`", entry.key))
                .collect();
            forbidden.push_str(&format!(
                " (unless its scope holds {}, which stands for all of it)",
                keys.join(" and ")
            ));
        }
        forbidden.push_str(" (RFC 6750 `insufficient_scope`).");
        out.push(response(403, &forbidden));
    }
    out
}

fn response(status: u16, description: &str) -> TokenStream {
    let status = Literal::u16_unsuffixed(status);
    quote! {
        (
            status = #status,
            description = #description,
            body = ::jwt_guard::openapi::AuthErrorBody,
            content_type = "application/json",
            headers(("WWW-Authenticate" = String, description = "The RFC 6750 challenge: `Bearer realm=\"..\", error=\"..\"`"))
        )
    }
}

/// Puts ours first in `responses(..)`: utoipa keeps the last entry of a
/// status, so whatever the path declares for 401 or 403, in any form (a
/// tuple, a type implementing `IntoResponses`), wins.
fn add_responses(entry: &mut TokenStream, ours: Vec<TokenStream>) {
    let mut tokens: Vec<TokenTree> = entry.clone().into_iter().collect();
    let Some(TokenTree::Group(group)) = tokens.get(1) else {
        return;
    };
    let mut inner = ours;
    inner.extend(split_commas(group.stream()));
    let mut rebuilt = Group::new(Delimiter::Parenthesis, join_commas(inner));
    rebuilt.set_span(group.span());
    tokens[1] = TokenTree::Group(rebuilt);
    *entry = tokens.into_iter().collect();
}

/// Whether `entry` is `name(..)`.
fn is_list(entry: &TokenStream, name: &str) -> bool {
    let mut tokens = entry.clone().into_iter();
    matches!(
        (tokens.next(), tokens.next(), tokens.next()),
        (Some(TokenTree::Ident(ident)), Some(TokenTree::Group(group)), None)
            if ident == name && group.delimiter() == Delimiter::Parenthesis
    )
}

/// The entries of a comma-separated list, outside groups. A comma between
/// the `<` and `>` of a type's generics splits an entry in two, which
/// joining puts back together, and which [`is_list`] never takes for
/// `security(..)` or `responses(..)`.
fn split_commas(tokens: TokenStream) -> Vec<TokenStream> {
    let mut entries = vec![TokenStream::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(p) if p.as_char() == ',' => entries.push(TokenStream::new()),
            _ => token.to_tokens(entries.last_mut().expect("never empty")),
        }
    }
    entries.retain(|entry| !entry.is_empty());
    entries
}

fn join_commas(entries: Vec<TokenStream>) -> TokenStream {
    let mut out = TokenStream::new();
    for (i, entry) in entries.into_iter().enumerate() {
        if i > 0 {
            out.extend([TokenTree::Punct(Punct::new(',', Spacing::Alone))]);
        }
        out.extend(entry);
    }
    out
}
