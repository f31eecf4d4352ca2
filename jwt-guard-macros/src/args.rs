//! The attribute grammar: `#[require_token(...)]` arguments parsed into a
//! typed [`Args`] that keeps its source tokens for spans. Syntax only: what
//! the arguments mean is checked in `validate.rs`, and no code is generated
//! here.
//!
//! Every argument is one row of [`ARGS`] and one parse function; the row's
//! name and form also make the unknown-argument message and its suggestion.

use proc_macro2::{Span, TokenStream};
use syn::ext::IdentExt as _;
use syn::parse::{ParseBuffer, ParseStream, Parser as _};
use syn::{Ident, LitBool, LitStr, Token};

use super::ctxt::Ctxt;

/// A literal of the attribute, as written.
#[derive(Clone)]
pub(crate) enum Value {
    Bool(LitBool),
    Int(i64, Span),
    Str(LitStr),
}

/// `key = literal`, inside `scope(..)`, `claims(..)` or `override(..)`.
pub(crate) struct Entry {
    /// Unraw'd, as every name read by [`parse_name`].
    pub(crate) key: Ident,
    pub(crate) value: Value,
}

/// `sub = "p"` or one entry of `path(claim = "p")`.
pub(crate) struct PathCheck {
    /// The claim, such as `sub`; unraw'd.
    pub(crate) claim: Ident,
    /// The path parameter as written.
    pub(crate) param: LitStr,
    /// The path parameter as an identifier, spanned on the literal; `None`
    /// when the string is not one.
    pub(crate) param_ident: Option<Ident>,
}

/// A keyword of the attribute with its entries.
pub(crate) struct Group<T> {
    pub(crate) keyword: Ident,
    pub(crate) entries: Vec<T>,
}

/// `scope(..)`, in one of its two forms.
pub(crate) enum Scope {
    /// `scope(key = value, ..)`: entries of the token's scope map.
    Map(Group<Entry>),
    /// `scope("a:b", ..)`: entries of the token's OAuth2 scope string.
    Strings(Group<LitStr>),
}

/// Where `location(..)` reads the token.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Location {
    Header,
    Cookie,
    Query,
}

/// Every argument of one attribute.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) refresh: Option<Ident>,
    pub(crate) fresh: Option<Ident>,
    pub(crate) optional: Option<Ident>,
    /// `sub = ".."` and the entries of `path(..)`, in the order written.
    pub(crate) path: Vec<PathCheck>,
    /// The `sub` of `sub = ".."`, the first if it is repeated.
    pub(crate) sub_keyword: Option<Ident>,
    pub(crate) path_keyword: Option<Ident>,
    pub(crate) scope: Option<Scope>,
    pub(crate) claims: Option<Group<Entry>>,
    pub(crate) overrides: Option<Group<Entry>>,
    pub(crate) locations: Option<Group<(Location, Ident)>>,
}

/// Reads one argument after its name; `Err` for a syntax error, which stops
/// the parse. Everything else is reported to the `Ctxt` and parsing goes on.
type ParseFn = fn(&mut Args, &Ident, ParseStream<'_>, &Ctxt) -> syn::Result<()>;

/// One argument of the attribute.
struct ArgDef {
    /// The name it is written with.
    name: &'static str,
    /// How it is written, for the list of what is expected.
    form: &'static str,
    parse: ParseFn,
}

/// Every argument, in the order the unknown-argument message lists them.
const ARGS: &[ArgDef] = &[
    ArgDef {
        name: "refresh",
        form: "`refresh`",
        parse: parse_refresh,
    },
    ArgDef {
        name: "fresh",
        form: "`fresh`",
        parse: parse_fresh,
    },
    ArgDef {
        name: "optional",
        form: "`optional`",
        parse: parse_optional,
    },
    ArgDef {
        name: "sub",
        form: "`sub = \"..\"`",
        parse: parse_sub,
    },
    ArgDef {
        name: "path",
        form: "`path(..)`",
        parse: parse_path,
    },
    ArgDef {
        name: "scope",
        form: "`scope(..)`",
        parse: parse_scope,
    },
    ArgDef {
        name: "claims",
        form: "`claims(..)`",
        parse: parse_claims,
    },
    ArgDef {
        name: "override",
        form: "`override(..)`",
        parse: parse_override,
    },
    ArgDef {
        name: "location",
        form: "`location(..)`",
        parse: parse_location,
    },
];

impl Args {
    /// Parses the attribute's arguments. Mistakes are reported to `cx` and
    /// parsing goes on, except for a syntax error: it stops the parse and is
    /// returned beside what was read before it.
    pub(crate) fn parse(tokens: TokenStream, cx: &Ctxt) -> (Self, syn::Result<()>) {
        let mut args = Args::default();
        let parsed = (|input: ParseStream<'_>| args.parse_all(input, cx)).parse2(tokens);
        (args, parsed)
    }

    fn parse_all(&mut self, input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<()> {
        while !input.is_empty() {
            let key = parse_name(input)?;
            match ARGS.iter().find(|arg| key == arg.name) {
                Some(arg) => (arg.parse)(self, &key, input, cx)?,
                None => skip_unknown(&key, input, cx)?,
            }
            if input.is_empty() {
                break;
            }
            input
                .parse::<Token![,]>()
                .map_err(|e| syn::Error::new(e.span(), "expected `,` between arguments"))?;
        }
        Ok(())
    }
}

impl<T> Group<T> {
    /// Takes in a repeated argument, already reported: its keyword, as for
    /// any argument written again, and its entries, so each is still checked.
    fn absorb(&mut self, later: Group<T>) {
        self.keyword = later.keyword;
        self.entries.extend(later.entries);
    }
}

/// Sets a list argument, or adds a repeated one to it.
fn put<T>(slot: &mut Option<Group<T>>, group: Group<T>) {
    match slot {
        Some(earlier) => earlier.absorb(group),
        None => *slot = Some(group),
    }
}

impl Scope {
    pub(crate) fn keyword(&self) -> &Ident {
        match self {
            Scope::Map(group) => &group.keyword,
            Scope::Strings(group) => &group.keyword,
        }
    }

    /// Takes in a repeated `scope(..)`, already reported. Every scope string
    /// is kept, as each is still checked. The keyword is the last map's, or
    /// else the first `scope`'s.
    fn absorb(&mut self, later: Scope) {
        match (&mut *self, later) {
            (Scope::Map(map), Scope::Map(more)) => map.absorb(more),
            (Scope::Strings(strings), Scope::Map(map)) => strings.keyword = map.keyword,
            (Scope::Strings(strings), Scope::Strings(more)) => strings.entries.extend(more.entries),
            (Scope::Map(map), Scope::Strings(more)) => {
                let keyword = map.keyword.clone();
                *self = Scope::Strings(Group {
                    keyword,
                    entries: more.entries,
                });
            }
        }
    }
}

/// The "expected one of .." list of every argument's form.
fn expected() -> String {
    let forms: Vec<&str> = ARGS.iter().map(|arg| arg.form).collect();
    format!("expected one of {}", forms.join(", "))
}

/// Reports an unknown argument and skips its value (`= ..` up to the next
/// comma, or a `(..)`), so the next argument still parses.
///
/// A misspelt argument is offered the argument it is close to. Otherwise a
/// bare word (`admin`) or a `key = literal` is most likely a value the
/// token must hold, and is offered as an entry of `scope(..)`.
fn skip_unknown(key: &Ident, input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<()> {
    let mut value = TokenStream::new();
    let has_value = input.peek(Token![=]);
    let has_list = input.peek(syn::token::Paren);
    if has_value {
        input.parse::<Token![=]>()?;
        while !input.is_empty() && !input.peek(Token![,]) {
            value.extend([input.parse::<proc_macro2::TokenTree>()?]);
        }
    } else if has_list {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    let suggestion = match closest(&key.to_string()) {
        Some(close) => Some(format!("`{close}`")),
        None if !has_value && !has_list => Some(format!("`scope({key} = true)`")),
        // Values the attribute takes: a bool, an integer or a string.
        None if has_value => match syn::parse2::<syn::Lit>(value) {
            Ok(syn::Lit::Bool(b)) => Some(b.value.to_string()),
            Ok(syn::Lit::Int(i)) => Some(i.to_string()),
            Ok(syn::Lit::Str(s)) => Some(quote::ToTokens::to_token_stream(&s).to_string()),
            _ => None,
        }
        .map(|lit| format!("`scope({key} = {lit})` or `claims({key} = {lit})`")),
        None => None,
    };
    let expected = expected();
    let message = match suggestion {
        Some(suggestion) => {
            format!("unknown argument `{key}`; did you mean {suggestion}? {expected}")
        }
        None => format!("unknown argument `{key}`; {expected}"),
    };
    cx.error_at(key.span(), message);
    Ok(())
}

fn parse_refresh(
    args: &mut Args,
    key: &Ident,
    input: ParseStream<'_>,
    cx: &Ctxt,
) -> syn::Result<()> {
    parse_flag(&mut args.refresh, key, input, cx)
}

fn parse_fresh(args: &mut Args, key: &Ident, input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<()> {
    parse_flag(&mut args.fresh, key, input, cx)
}

fn parse_optional(
    args: &mut Args,
    key: &Ident,
    input: ParseStream<'_>,
    cx: &Ctxt,
) -> syn::Result<()> {
    parse_flag(&mut args.optional, key, input, cx)
}

/// `refresh`, `fresh`, `optional`: a bare name.
fn parse_flag(
    slot: &mut Option<Ident>,
    key: &Ident,
    input: ParseStream<'_>,
    cx: &Ctxt,
) -> syn::Result<()> {
    if input.peek(Token![=]) || input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` takes no value: write `{key}`"),
        ));
    }
    // A repeated flag is reported at its second occurrence; what it means
    // is checked at its first.
    if slot.is_some() {
        cx.error_at(
            key.span(),
            format!("duplicate argument `{key}`; write it once"),
        );
    } else {
        *slot = Some(key.clone());
    }
    Ok(())
}

/// `sub = "p"`.
fn parse_sub(args: &mut Args, key: &Ident, input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<()> {
    if !input.peek(Token![=]) {
        return Err(syn::Error::new(
            key.span(),
            "`sub` names a path parameter: write `sub = \"username\"`",
        ));
    }
    input.parse::<Token![=]>()?;
    let param = parse_param(input, "sub")?;
    args.sub_keyword.get_or_insert_with(|| key.clone());
    add_path(args, key.clone(), param, cx);
    Ok(())
}

/// `path(claim = "p", ..)`.
fn parse_path(args: &mut Args, key: &Ident, input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<()> {
    let content = parenthesized(key, input, "path(user_id = \"id\")")?;
    if args.path_keyword.is_some() {
        cx.error_at(
            key.span(),
            "duplicate argument `path`; list every claim in one `path(..)`",
        );
    }
    args.path_keyword = Some(key.clone());
    let before = args.path.len();
    while !content.is_empty() {
        let claim = parse_name(&content)?;
        content.parse::<Token![=]>().map_err(|e| {
            syn::Error::new(e.span(), format!("write `{claim} = \"<path parameter>\"`"))
        })?;
        let param = parse_param(&content, &claim.to_string())?;
        add_path(args, claim, param, cx);
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    if args.path.len() == before {
        empty(
            key,
            "list each claim and the path parameter it must equal",
            "path(org_id = \"org\")",
            cx,
        );
    }
    Ok(())
}

fn add_path(args: &mut Args, claim: Ident, param: LitStr, cx: &Ctxt) {
    let claim_name = claim.to_string();
    if args.path.iter().any(|p| p.claim == claim_name) {
        let what = if claim_name == "sub" {
            "`sub`"
        } else {
            "this claim"
        };
        cx.error_at(
            claim.span(),
            format!("duplicate check of {what}: a claim can match one path parameter"),
        );
    }
    let name = param.value();
    let is_identifier = name != "_"
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    let param_ident = is_identifier.then(|| Ident::new(&name, param.span()));
    args.path.push(PathCheck {
        claim,
        param,
        param_ident,
    });
}

/// `scope(key = value, ..)` or `scope("a:b", ..)`.
fn parse_scope(args: &mut Args, key: &Ident, input: ParseStream<'_>, cx: &Ctxt) -> syn::Result<()> {
    let content = parenthesized(
        key,
        input,
        "scope(admin = true)` or `scope(\"posts:write\")",
    )?;
    if args.scope.is_some() {
        cx.error_at(
            key.span(),
            "duplicate argument `scope`; list every entry in one `scope(..)`",
        );
    }
    if content.peek(LitStr) {
        let mut strings = Group {
            keyword: key.clone(),
            entries: Vec::new(),
        };
        let read = parse_strings(&content, &mut strings.entries);
        // Strings read before a syntax error are kept: they are still checked.
        put_scope(args, Scope::Strings(strings));
        read
    } else {
        let entries = parse_entries(&content, "scope", cx)?;
        if entries.is_empty() {
            empty(
                key,
                "list what the token's scope must hold",
                "scope(admin = true)` or `scope(\"posts:write\")",
                cx,
            );
        }
        let map = Group {
            keyword: key.clone(),
            entries,
        };
        put_scope(args, Scope::Map(map));
        Ok(())
    }
}

/// The strings of `scope("a:b", ..)`, pushed as they are read.
fn parse_strings(content: ParseStream<'_>, strings: &mut Vec<LitStr>) -> syn::Result<()> {
    while !content.is_empty() {
        let entry: LitStr = content.parse().map_err(|e| {
            syn::Error::new(
                e.span(),
                "`scope(\"..\")` takes only strings; do not mix them with `key = value` entries",
            )
        })?;
        strings.push(entry);
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(())
}

fn put_scope(args: &mut Args, scope: Scope) {
    match &mut args.scope {
        Some(earlier) => earlier.absorb(scope),
        None => args.scope = Some(scope),
    }
}

/// `claims(key = value, ..)`.
fn parse_claims(
    args: &mut Args,
    key: &Ident,
    input: ParseStream<'_>,
    cx: &Ctxt,
) -> syn::Result<()> {
    let entries = parse_entry_list(
        key,
        input,
        "list the claims the token must hold",
        "claims(tenant = \"acme\")",
        cx,
    )?;
    put_entry_list(&mut args.claims, key, entries, cx);
    Ok(())
}

/// `override(key = value, ..)`.
fn parse_override(
    args: &mut Args,
    key: &Ident,
    input: ParseStream<'_>,
    cx: &Ctxt,
) -> syn::Result<()> {
    let entries = parse_entry_list(
        key,
        input,
        "list what a token holds to skip the other checks",
        "override(admin = true)",
        cx,
    )?;
    put_entry_list(&mut args.overrides, key, entries, cx);
    Ok(())
}

/// The entries of `claims(..)` or `override(..)`, at least one.
fn parse_entry_list(
    key: &Ident,
    input: ParseStream<'_>,
    what: &str,
    example: &str,
    cx: &Ctxt,
) -> syn::Result<Vec<Entry>> {
    let content = parenthesized(key, input, example)?;
    let entries = parse_entries(&content, &key.to_string(), cx)?;
    if entries.is_empty() {
        empty(key, what, example, cx);
    }
    Ok(entries)
}

/// Reports a list argument written with nothing in it: `what` to list in
/// it, and an `example`.
fn empty(key: &Ident, what: &str, example: &str, cx: &Ctxt) {
    cx.error_at(
        key.span(),
        format!("`{key}()` is empty: {what}, e.g. `{example}`"),
    );
}

fn put_entry_list(slot: &mut Option<Group<Entry>>, key: &Ident, entries: Vec<Entry>, cx: &Ctxt) {
    if slot.is_some() {
        cx.error_at(
            key.span(),
            format!("duplicate argument `{key}`; list every entry in one `{key}(..)`"),
        );
    }
    put(
        slot,
        Group {
            keyword: key.clone(),
            entries,
        },
    );
}

/// `location(header, cookie, query)`.
fn parse_location(
    args: &mut Args,
    key: &Ident,
    input: ParseStream<'_>,
    cx: &Ctxt,
) -> syn::Result<()> {
    let content = parenthesized(key, input, "location(header, cookie)")?;
    let mut entries: Vec<(Location, Ident)> = Vec::new();
    let mut written = 0;
    while !content.is_empty() {
        written += 1;
        let ident = parse_name(&content)?;
        let location = match ident.to_string().as_str() {
            "header" => Some(Location::Header),
            "cookie" => Some(Location::Cookie),
            "query" => Some(Location::Query),
            other => {
                cx.error_at(
                    ident.span(),
                    format!("unknown location `{other}`; expected `header`, `cookie` or `query`"),
                );
                None
            }
        };
        if let Some(location) = location {
            if entries.iter().any(|(l, _)| *l == location) {
                cx.error_at(ident.span(), format!("duplicate location `{ident}`"));
            }
            entries.push((location, ident));
        }
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    if written == 0 {
        empty(
            key,
            "list where the token is read, among `header`, `cookie` and `query`",
            "location(cookie)",
            cx,
        );
    }
    if args.locations.is_some() {
        cx.error_at(key.span(), "duplicate argument `location`");
    }
    put(
        &mut args.locations,
        Group {
            keyword: key.clone(),
            entries,
        },
    );
    Ok(())
}

/// A name of the attribute: an argument, a key, a claim or a location. It
/// may be a keyword (`type`, `override`) and is unraw'd (`r#type` is
/// `type`), so that every check, message and generated string sees the
/// name the token holds.
fn parse_name(input: ParseStream<'_>) -> syn::Result<Ident> {
    input.call(Ident::parse_any).map(|name| name.unraw())
}

fn parenthesized<'a>(
    key: &Ident,
    input: ParseStream<'a>,
    example: &str,
) -> syn::Result<ParseBuffer<'a>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            format!("`{key}` takes a list: write `{example}`"),
        ));
    }
    let content;
    syn::parenthesized!(content in input);
    Ok(content)
}

fn parse_param(input: ParseStream<'_>, what: &str) -> syn::Result<LitStr> {
    if input.peek(LitStr) {
        return input.parse();
    }
    let span = input.span();
    Err(syn::Error::new(
        span,
        format!("expected the path parameter's name as a string: write `{what} = \"username\"`"),
    ))
}

fn parse_entries(content: ParseStream<'_>, group: &str, cx: &Ctxt) -> syn::Result<Vec<Entry>> {
    let mut entries: Vec<Entry> = Vec::new();
    while !content.is_empty() {
        let key = parse_name(content)?;
        content.parse::<Token![=]>().map_err(|e| {
            syn::Error::new(
                e.span(),
                format!("write `{key} = <value>` inside `{group}(..)`"),
            )
        })?;
        let value = parse_value(content)?;
        if entries.iter().any(|e| e.key == key) {
            cx.error_at(
                key.span(),
                format!("duplicate key `{key}` in `{group}(..)`"),
            );
        }
        entries.push(Entry { key, value });
        if !content.is_empty() {
            content.parse::<Token![,]>()?;
        }
    }
    Ok(entries)
}

const VALUE_KINDS: &str = "expected `true`, `false`, an integer or a string literal";

fn parse_value(input: ParseStream<'_>) -> syn::Result<Value> {
    let negative = input.peek(Token![-]);
    if negative {
        input.parse::<Token![-]>()?;
    }
    let lit: syn::Lit = input
        .parse()
        .map_err(|e| syn::Error::new(e.span(), VALUE_KINDS))?;
    match lit {
        syn::Lit::Bool(b) if !negative => Ok(Value::Bool(b)),
        syn::Lit::Str(s) if !negative => Ok(Value::Str(s)),
        syn::Lit::Int(i) => {
            if !i.suffix().is_empty() {
                return Err(syn::Error::new(
                    i.span(),
                    "write the integer without a suffix",
                ));
            }
            let digits = if negative {
                format!("-{}", i.base10_digits())
            } else {
                i.base10_digits().to_owned()
            };
            let value = digits.parse::<i64>().map_err(|_| {
                syn::Error::new(
                    i.span(),
                    format!(
                        "integer out of range: values are 64-bit signed integers, from {} to {}",
                        i64::MIN,
                        i64::MAX
                    ),
                )
            })?;
            Ok(Value::Int(value, i.span()))
        }
        syn::Lit::Float(f) => Err(syn::Error::new(
            f.span(),
            "floats cannot be compared exactly; use a bool, an integer or a string",
        )),
        other => Err(syn::Error::new(other.span(), VALUE_KINDS)),
    }
}

/// The argument nearest to a misspelling, if it is near enough.
fn closest(name: &str) -> Option<&'static str> {
    ARGS.iter()
        .map(|arg| (levenshtein(name, arg.name), arg.name))
        .filter(|(d, k)| *d <= 2 && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::super::ctxt::messages;
    use super::*;
    use quote::quote;

    /// Parses, and returns every message if there is any.
    fn parse(tokens: TokenStream) -> Result<Args, String> {
        let cx = Ctxt::new();
        let (args, parsed) = Args::parse(tokens, &cx);
        if let Err(error) = parsed {
            cx.error(error);
        }
        cx.check().map(|()| args).map_err(|e| messages(&e))
    }

    #[test]
    fn every_form_parses() {
        let args = parse(quote!(
            fresh, sub = "username", path(tenant = "org"), scope(admin = true, level = -2),
            claims(team = "core"), override(root = true), location(header, cookie),
        ))
        .unwrap();
        assert!(args.fresh.is_some());
        assert_eq!(args.path.len(), 2);
        assert_eq!(args.path[1].param_ident.as_ref().unwrap(), "org");
        let Some(Scope::Map(scope)) = args.scope else {
            panic!("a scope map")
        };
        assert!(matches!(scope.entries[1].value, Value::Int(-2, _)));
        assert_eq!(args.locations.unwrap().entries.len(), 2);
        let strings = parse(quote!(scope("posts:read", "posts:write"))).unwrap();
        let Some(Scope::Strings(strings)) = strings.scope else {
            panic!("scope strings")
        };
        assert_eq!(strings.entries.len(), 2);
    }

    #[test]
    fn mistakes_are_reported_together() {
        let err = parse(quote!(refersh, sub = "a", sub = "b", scope(x = 1.5)))
            .err()
            .unwrap();
        assert!(err.contains("floats"), "{err}");
        let err = parse(quote!(refersh, fresh, fresh)).err().unwrap();
        assert!(err.contains("did you mean `refresh`"), "{err}");
        let cx = Ctxt::new();
        let (args, parsed) = Args::parse(quote!(refersh, fresh, fresh), &cx);
        parsed.unwrap();
        assert!(args.fresh.is_some());
        let all = cx.check().err().unwrap();
        assert_eq!(all.into_iter().count(), 2);
    }

    #[test]
    fn list_mistakes() {
        for (tokens, needle) in [
            (
                quote!(scope()),
                "`scope()` is empty: list what the token's scope must hold, e.g. `scope(admin = true)` or `scope(\"posts:write\")`",
            ),
            (
                quote!(path()),
                "`path()` is empty: list each claim and the path parameter it must equal, e.g. `path(org_id = \"org\")`",
            ),
            (
                quote!(claims()),
                "`claims()` is empty: list the claims the token must hold, e.g. `claims(tenant = \"acme\")`",
            ),
            (
                quote!(override()),
                "`override()` is empty: list what a token holds to skip the other checks, e.g. `override(admin = true)`",
            ),
            (
                quote!(location()),
                "`location()` is empty: list where the token is read, among `header`, `cookie` and `query`, e.g. `location(cookie)`",
            ),
            (quote!(location(body)), "unknown location"),
            (
                quote!(claims(n = 9223372036854775808)),
                "integer out of range: values are 64-bit signed integers, from -9223372036854775808 to 9223372036854775807",
            ),
            (
                quote!(claims(n = -9223372036854775809)),
                "integer out of range",
            ),
        ] {
            let err = parse(tokens).err().unwrap();
            assert!(err.contains(needle), "{err} lacks {needle}");
        }
    }

    #[test]
    fn integers_at_the_bounds_of_i64() {
        let args = parse(quote!(claims(
            min = -9223372036854775808,
            max = 9223372036854775807
        )))
        .unwrap();
        let entries = args.claims.unwrap().entries;
        assert!(matches!(entries[0].value, Value::Int(i64::MIN, _)));
        assert!(matches!(entries[1].value, Value::Int(i64::MAX, _)));
    }

    #[test]
    fn a_syntax_error_keeps_what_was_read_before_it() {
        let cx = Ctxt::new();
        let (args, parsed) = Args::parse(quote!(fresh, path(a = "x", b = 1)), &cx);
        assert!(parsed.is_err());
        assert!(args.fresh.is_some());
        assert_eq!(args.path.len(), 1);
        let (args, parsed) = Args::parse(quote!(scope("a", "b", c = 1)), &cx);
        assert!(parsed.is_err());
        let Some(Scope::Strings(strings)) = args.scope else {
            panic!("scope strings")
        };
        assert_eq!(strings.entries.len(), 2);
        cx.check().unwrap();
    }

    #[test]
    fn raw_identifiers_are_read_unraw_d() {
        let args = parse(quote!(
            r#fresh, path(r#type = "kind"), scope(r#admin = true), claims(r#tenant = "acme"),
            override(r#root = true), location(r#cookie),
        ))
        .unwrap();
        assert!(args.fresh.is_some());
        assert_eq!(args.path[0].claim, "type");
        let Some(Scope::Map(scope)) = args.scope else {
            panic!("a scope map")
        };
        assert_eq!(scope.entries[0].key, "admin");
        assert_eq!(args.claims.unwrap().entries[0].key, "tenant");
        assert_eq!(args.overrides.unwrap().entries[0].key, "root");
        assert!(args.locations.unwrap().entries[0].0 == Location::Cookie);
    }

    #[test]
    fn a_raw_identifier_is_the_same_name() {
        for (tokens, needle) in [
            (
                quote!(claims(r#a = 1, a = 2)),
                "duplicate key `a` in `claims(..)`",
            ),
            (
                quote!(scope(admin = 1, r#admin = 2)),
                "duplicate key `admin` in `scope(..)`",
            ),
            (
                quote!(override(r#type = 1, r#type = 2)),
                "duplicate key `type` in `override(..)`",
            ),
            (
                quote!(sub = "a", path(r#sub = "b")),
                "duplicate check of `sub`",
            ),
            (
                quote!(path(r#org = "a", org = "b")),
                "duplicate check of this claim",
            ),
            (
                quote!(location(r#header, header)),
                "duplicate location `header`",
            ),
            (quote!(fresh, r#fresh), "duplicate argument `fresh`"),
            (
                quote!(r#refersh),
                "unknown argument `refersh`; did you mean `refresh`?",
            ),
        ] {
            let err = parse(tokens).err().unwrap();
            assert!(err.contains(needle), "{err} lacks {needle}");
            assert!(!err.contains("r#"), "{err}");
        }
    }

    #[test]
    fn path_parameters_that_are_not_identifiers_have_none() {
        for name in ["user-name", "r#type", "", "_", "1st", "naïve"] {
            let args = parse(quote!(sub = #name)).unwrap();
            assert!(args.path[0].param_ident.is_none(), "{name}");
        }
        let args = parse(quote!(sub = "_user1")).unwrap();
        assert_eq!(args.path[0].param_ident.as_ref().unwrap(), "_user1");
    }

    /// A written example of every argument of the table.
    fn example(name: &str) -> Option<TokenStream> {
        Some(match name {
            "refresh" => quote!(refresh),
            "fresh" => quote!(fresh),
            "optional" => quote!(optional),
            "sub" => quote!(sub = "username"),
            "path" => quote!(path(org_id = "org")),
            "scope" => quote!(scope(admin = true)),
            "claims" => quote!(claims(tenant = "acme")),
            "override" => quote!(override(admin = true)),
            "location" => quote!(location(cookie)),
            _ => return None,
        })
    }

    #[test]
    fn every_argument_of_the_table_parses() {
        for arg in ARGS {
            let tokens =
                example(arg.name).unwrap_or_else(|| panic!("no example of `{}`", arg.name));
            if let Err(err) = parse(tokens) {
                panic!("`{}`: {err}", arg.name);
            }
        }
    }

    #[test]
    fn the_table_lists_what_is_expected() {
        let forms: Vec<&str> = ARGS.iter().map(|arg| arg.form).collect();
        assert_eq!(expected(), format!("expected one of {}", forms.join(", ")));
        for arg in ARGS {
            assert!(
                arg.form.starts_with(&format!("`{}", arg.name)),
                "{}",
                arg.form
            );
            assert_eq!(closest(&format!("{}x", arg.name)), Some(arg.name));
        }
        let err = parse(quote!(refersh)).err().unwrap();
        assert_eq!(
            err,
            "unknown argument `refersh`; did you mean `refresh`? expected one of `refresh`, \
             `fresh`, `optional`, `sub = \"..\"`, `path(..)`, `scope(..)`, `claims(..)`, \
             `override(..)`, `location(..)`"
        );
        let err = parse(quote!(roles(admin))).err().unwrap();
        assert_eq!(err, format!("unknown argument `roles`; {}", expected()));
    }

    #[test]
    fn an_unknown_word_is_offered_as_a_scope_entry() {
        let err = parse(quote!(admin)).err().unwrap();
        assert_eq!(
            err,
            format!(
                "unknown argument `admin`; did you mean `scope(admin = true)`? {}",
                expected()
            )
        );
        let err = parse(quote!(fresh, tenant = "acme")).err().unwrap();
        assert!(
            err.contains("did you mean `scope(tenant = \"acme\")` or `claims(tenant = \"acme\")`?"),
            "{err}"
        );
        // A misspelt argument keeps its suggestion.
        let err = parse(quote!(refersh)).err().unwrap();
        assert!(err.contains("did you mean `refresh`?"), "{err}");
        let err = parse(quote!(scopes(admin = true))).err().unwrap();
        assert!(err.contains("did you mean `scope`?"), "{err}");
        let err = parse(quote!(level = -1)).err().unwrap();
        assert!(
            err.contains("did you mean `scope(level = -1)` or `claims(level = -1)`?"),
            "{err}"
        );
        // Neither a list nor a value the attribute does not take is guessed at.
        for tokens in [quote!(roles(admin)), quote!(level = 1.5), quote!(level = x)] {
            let err = parse(tokens).err().unwrap();
            assert!(!err.contains("did you mean"), "{err}");
        }
    }

    #[test]
    fn what_follows_an_unknown_argument_is_skipped() {
        let cx = Ctxt::new();
        let (args, parsed) = Args::parse(quote!(level = -1 x, roles(admin), admin, fresh), &cx);
        parsed.unwrap();
        assert!(args.fresh.is_some());
        let all = cx.check().err().unwrap();
        assert_eq!(all.into_iter().count(), 3);
        // A missing comma is still one.
        let cx = Ctxt::new();
        let (_, parsed) = Args::parse(quote!(admin fresh), &cx);
        assert_eq!(
            parsed.err().unwrap().to_string(),
            "expected `,` between arguments"
        );
        cx.check().err().unwrap();
    }

    #[test]
    fn typo_suggestions() {
        assert_eq!(closest("refersh"), Some("refresh"));
        assert_eq!(closest("scopes"), Some("scope"));
        assert_eq!(closest("admin"), None);
    }
}
