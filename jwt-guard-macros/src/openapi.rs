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
/// `#[utoipa::path(..)]` of `item`. A path that declares `security` keeps
/// its own; a response the path declares for 401 or 403 is kept.
pub(crate) fn document(item: &mut ItemFn, args: &Args) {
    for attr in &mut item.attrs {
        let Meta::List(list) = &mut attr.meta else {
            continue;
        };
        let segments: Vec<String> = list
            .path
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if segments != ["utoipa", "path"] {
            continue;
        }
        list.tokens = rewrite(list.tokens.clone(), args);
    }
}

fn rewrite(tokens: TokenStream, args: &Args) -> TokenStream {
    let mut entries = split_commas(tokens);
    if !entries.iter().any(|entry| starts_with(entry, "security")) {
        entries.push(security(args));
    }
    let responses = responses(args);
    match entries
        .iter_mut()
        .find(|entry| starts_with(entry, "responses"))
    {
        Some(entry) => add_responses(entry, responses),
        None if !responses.is_empty() => {
            let responses = join_commas(responses.into_iter().map(|(_, r)| r).collect());
            entries.push(quote!(responses(#responses)));
        }
        None => {}
    }
    join_commas(entries)
}

/// `security(("bearer" = [..]), ("oauth2" = [..]))`: one alternative per
/// scheme the token may come by, each with the OAuth2 scopes of
/// `scope("..")`; `()` first when the token is optional. A refresh token in
/// the header is `bearer` alone: what the OAuth2 flow keeps is an access
/// token. Without
/// `location(..)` the manager's locations apply, which the macro cannot
/// see: the header's schemes stand for them.
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
fn responses(args: &Args) -> Vec<(u16, TokenStream)> {
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
    let mut out = vec![(401, response(401, &unauthorized))];
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
        let forbidden = format!(
            "The token is valid but lacks what this operation requires: {} \
             (RFC 6750 `insufficient_scope`).",
            needs.join(", ")
        );
        out.push((403, response(403, &forbidden)));
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

/// Appends to `responses(..)` each of ours whose status it does not list.
fn add_responses(entry: &mut TokenStream, ours: Vec<(u16, TokenStream)>) {
    let mut tokens: Vec<TokenTree> = entry.clone().into_iter().collect();
    let Some(TokenTree::Group(group)) = tokens.get(1) else {
        return;
    };
    if group.delimiter() != Delimiter::Parenthesis {
        return;
    }
    let declared = declared_statuses(group.stream());
    let mut inner = split_commas(group.stream());
    inner.extend(
        ours.into_iter()
            .filter(|(status, _)| !declared.contains(status))
            .map(|(_, tokens)| tokens),
    );
    let mut rebuilt = Group::new(Delimiter::Parenthesis, join_commas(inner));
    rebuilt.set_span(group.span());
    tokens[1] = TokenTree::Group(rebuilt);
    *entry = tokens.into_iter().collect();
}

/// The statuses `responses(..)` declares, written `status = 401`,
/// `status = "401"` or `status = StatusCode::UNAUTHORIZED`.
fn declared_statuses(responses: TokenStream) -> Vec<u16> {
    let mut statuses = Vec::new();
    for tuple in responses {
        let TokenTree::Group(tuple) = tuple else {
            continue;
        };
        let tokens: Vec<TokenTree> = tuple.stream().into_iter().collect();
        for (i, token) in tokens.iter().enumerate() {
            let TokenTree::Ident(ident) = token else {
                continue;
            };
            if ident != "status" {
                continue;
            }
            let value: String = tokens
                .iter()
                .skip(i + 2)
                .take_while(|t| !matches!(t, TokenTree::Punct(p) if p.as_char() == ','))
                .map(ToString::to_string)
                .collect();
            let value = value.trim_matches('"');
            let status = match value.rsplit("::").next().unwrap_or(value) {
                "UNAUTHORIZED" => Some(401),
                "FORBIDDEN" => Some(403),
                other => other.parse().ok(),
            };
            statuses.extend(status);
        }
    }
    statuses
}

fn starts_with(entry: &TokenStream, name: &str) -> bool {
    matches!(entry.clone().into_iter().next(), Some(TokenTree::Ident(ident)) if ident == name)
}

/// The entries of a comma-separated list, at the top level.
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
