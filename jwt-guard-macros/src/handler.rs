//! Reading the handler's signature: is it an `async fn` without `self`, and
//! which path parameters do its `Path` extractors bind.

use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{FnArg, Ident, ItemFn, Pat, PathArguments, Type};

use super::args::{Args, PathCheck};
use super::ctxt::Ctxt;

/// axum implements `Handler` for up to 16 extractors.
const MAX_EXTRACTORS: usize = 16;

/// A check the compiler makes for us: the `Path<T>` struct has this field.
pub(crate) struct FieldCheck {
    pub(crate) ty: Type,
    /// The field, spanned on the attribute's string; raw (`r#type`) when
    /// the name is a keyword.
    pub(crate) field: Ident,
}

/// How the handler's `Path` extractor reads a parameter, mirrored by the
/// runtime's `Binding`: the guard checks the value the handler receives.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Binding {
    /// A field of a struct: by name.
    Name,
    /// Element `index` of an extractor taking `of` parameters.
    Position { index: usize, of: usize },
}

/// What the expansion needs to know of the handler.
#[derive(Default)]
pub(crate) struct Handler {
    pub(crate) field_checks: Vec<FieldCheck>,
    /// One per `args.path` entry, in order.
    pub(crate) bindings: Vec<Binding>,
}

/// Types that deserialize from one path segment.
const SCALARS: &[&str] = &[
    "String", "str", "Cow", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8",
    "i16", "i32", "i64", "i128", "isize", "f32", "f64", "Uuid", "Box", "Arc",
];

/// Types that take every parameter but cannot name one for the guard.
const COLLECTIONS: &[&str] = &["Vec", "HashMap", "BTreeMap", "IndexMap", "VecDeque"];

/// The names a handler's `Path` extractors bind, and how.
#[derive(Default)]
struct Bound {
    names: Vec<(String, Binding)>,
    /// `Path<Struct>` bound whole: its fields are checked by the compiler.
    structs: Vec<Type>,
    /// Names bound to several parameters at once, which the guard cannot
    /// compare with a claim.
    wholes: Vec<(String, Whole)>,
}

/// A name bound to more than one path parameter.
enum Whole {
    /// `Path(p): Path<(A, B)>`: a tuple of `of` parameters.
    Tuple { of: usize },
    /// `Path(v): Path<Vec<String>>` and other collections.
    Collection,
}

pub(crate) fn check(item: &ItemFn, args: &Args, cx: &Ctxt) -> Handler {
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        cx.error_at(
            sig.fn_token.span,
            "`#[require_token]` needs an `async fn`: axum handlers are async; write `async fn`",
        );
    }
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        cx.error_spanned(
            receiver,
            "`#[require_token]` goes on a free `async fn` handler, not on a method taking `self`: \
             move it out of the `impl` block and take what it needs as extractors, \
             e.g. `State(state): State<AppState>`",
        );
    }
    if sig.inputs.len() >= MAX_EXTRACTORS {
        // From the first extractor the guard leaves no room for to the last.
        let over: Vec<&FnArg> = sig.inputs.iter().skip(MAX_EXTRACTORS - 1).collect();
        cx.error_spanned(
            quote::quote!(#(#over)*),
            format!(
                "too many extractors: axum handlers take at most {MAX_EXTRACTORS} and \
                 `#[require_token]` adds one, so a guarded handler takes at most {}, and this \
                 one takes {}; group some of them in a tuple, \
                 e.g. `(State(db), Query(page)): (State<Db>, Query<Page>)`",
                MAX_EXTRACTORS - 1,
                sig.inputs.len(),
            ),
        );
    }

    let mut bound = Bound::default();
    for input in &sig.inputs {
        let FnArg::Typed(arg) = input else { continue };
        if args.optional.is_some() && is_token(&arg.ty) {
            cx.error_at(
                arg.ty.span(),
                "with `optional` the token may be absent: take `Option<Token>` instead of `Token`",
            );
        }
        let Some(inner) = path_extractor_type(&arg.ty) else {
            continue;
        };
        let pattern = match &*arg.pat {
            Pat::TupleStruct(tuple) if tuple.elems.len() == 1 => &tuple.elems[0],
            other => other,
        };
        bind(pattern, inner, &mut bound);
    }

    let mut handler = Handler::default();
    for check in &args.path {
        let param = check.param.value();
        let mut found = bound.names.iter().filter(|(name, _)| *name == param);
        match (found.next(), found.next()) {
            (Some(&(_, binding)), None) => handler.bindings.push(binding),
            (Some(_), Some(_)) => cx.error_at(
                check.param.span(),
                format!(
                    "`{param}` is bound by more than one `Path` extractor: bind it once, \
                     so that the guard checks the value the handler uses"
                ),
            ),
            (None, _) => {
                // A name that is not an identifier is already reported.
                let Some(ident) = &check.param_ident else {
                    continue;
                };
                if let Some((_, whole)) = bound.wholes.iter().find(|(name, _)| *name == param) {
                    whole_error(check, whole, cx);
                } else if let Some(ty) = bound.structs.first()
                    && let Some(field) = field_name(ident)
                {
                    handler.field_checks.push(FieldCheck {
                        ty: ty.clone(),
                        field,
                    });
                    handler.bindings.push(Binding::Name);
                } else {
                    unbound_error(check, &bound.names, cx);
                }
            }
        }
    }
    handler
}

/// Records what `pattern`, the inside of a `Path<ty>`, binds.
fn bind(pattern: &Pat, ty: &Type, bound: &mut Bound) {
    let pattern = strip(pattern);
    match ty {
        Type::Paren(paren) => bind(pattern, &paren.elem, bound),
        Type::Group(group) => bind(pattern, &group.elem, bound),
        // `Path((a, b))`: by position, as axum reads a tuple.
        Type::Tuple(tuple) => {
            let of = tuple.elems.len();
            let Pat::Tuple(elems) = pattern else {
                if let Some(name) = ident_of(pattern) {
                    bound.wholes.push((name, Whole::Tuple { of }));
                }
                return;
            };
            let rest = elems
                .elems
                .iter()
                .position(|p| matches!(strip(p), Pat::Rest(_)));
            let count = elems.elems.len();
            for (i, elem) in elems.elems.iter().enumerate() {
                // Elements after `..` count from the end.
                let index = match rest {
                    Some(r) if i > r => of.checked_sub(count - i),
                    Some(r) if i == r => None,
                    _ => Some(i),
                };
                if let (Some(index), Some(name)) = (index, ident_of(elem)) {
                    bound.names.push((name, Binding::Position { index, of }));
                }
            }
        }
        _ if is_one_of(ty, SCALARS) => {
            if let Some(name) = ident_of(pattern) {
                bound
                    .names
                    .push((name, Binding::Position { index: 0, of: 1 }));
            }
        }
        _ if is_one_of(ty, COLLECTIONS) => {
            if let Some(name) = ident_of(pattern) {
                bound.wholes.push((name, Whole::Collection));
            }
        }
        // A struct of named parameters.
        _ => match pattern {
            Pat::Ident(_) => bound.structs.push(ty.clone()),
            Pat::Struct(strukt) => {
                for field in &strukt.fields {
                    if let syn::Member::Named(name) = &field.member {
                        bound.names.push((name.unraw().to_string(), Binding::Name));
                    }
                }
            }
            _ => {}
        },
    }
}

/// `name` as a field of a struct: raw if it is a keyword (`r#type`); `None`
/// for the names no field can have (`self`, `Self`, `super`, `crate`).
fn field_name(name: &Ident) -> Option<Ident> {
    let text = name.to_string();
    if syn::parse_str::<Ident>(&text).is_ok() {
        Some(name.clone())
    } else if matches!(text.as_str(), "self" | "Self" | "super" | "crate" | "_") {
        None
    } else {
        Some(Ident::new_raw(&text, name.span()))
    }
}

/// A pattern without the `(..)`, `&` and `: T` around it.
fn strip(pat: &Pat) -> &Pat {
    match pat {
        Pat::Paren(paren) => strip(&paren.pat),
        Pat::Reference(reference) => strip(&reference.pat),
        Pat::Type(typed) => strip(&typed.pat),
        other => other,
    }
}

/// The name a pattern binds a whole value to, raw identifiers unraw'd.
fn ident_of(pat: &Pat) -> Option<String> {
    match strip(pat) {
        Pat::Ident(ident) if ident.subpat.is_none() => Some(ident.ident.unraw().to_string()),
        _ => None,
    }
}

fn unbound_error(check: &PathCheck, bound: &[(String, Binding)], cx: &Ctxt) {
    let name = check.param.value();
    let mut message = format!(
        "`{name}` is not a path parameter of this handler: take it with a `Path` extractor, \
         e.g. `Path({name}): Path<String>`"
    );
    if !bound.is_empty() {
        let names: Vec<String> = bound.iter().map(|(b, _)| format!("`{b}`")).collect();
        message.push_str(&format!(" (its `Path` binds {})", names.join(", ")));
    }
    cx.error_at(check.param.span(), message);
}

/// `p` names several parameters at once, which no claim can equal.
fn whole_error(check: &PathCheck, whole: &Whole, cx: &Ctxt) {
    let name = check.param.value();
    let message = match whole {
        Whole::Tuple { of } => {
            let names: Vec<String> = (b'a'..=b'z')
                .cycle()
                .take(*of)
                .map(|c| char::from(c).to_string())
                .collect();
            format!(
                "`{name}` is the whole tuple of {of} path parameters, not one of them: \
                 destructure it, e.g. `Path(({}))`, and name the element the claim must equal",
                names.join(", ")
            )
        }
        Whole::Collection => format!(
            "`{name}` holds every path parameter, not one of them: take them as a tuple, \
             e.g. `Path((org, user)): Path<(String, String)>`, and name the element the claim \
             must equal"
        ),
    };
    cx.error_at(check.param.span(), message);
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(path) if path.qself.is_none() => path.path.segments.last(),
        _ => None,
    }
}

/// `T` of a `Path<T>` (any path ending in `Path`).
fn path_extractor_type(ty: &Type) -> Option<&Type> {
    let segment = last_segment(ty)?;
    if segment.ident != "Path" {
        return None;
    }
    let PathArguments::AngleBracketed(generics) = &segment.arguments else {
        return None;
    };
    generics.args.iter().find_map(|arg| match arg {
        syn::GenericArgument::Type(ty) => Some(ty),
        _ => None,
    })
}

fn is_one_of(ty: &Type, names: &[&str]) -> bool {
    last_segment(ty).is_some_and(|segment| names.iter().any(|s| segment.ident == s))
}

/// A type named `Token` (any path ending in it, without generics).
pub(crate) fn is_token(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| segment.ident == "Token" && segment.arguments.is_none())
}

/// `T` of an `Option<T>` whose `T` is named `Token`.
pub(crate) fn option_of_token(ty: &Type) -> Option<&Type> {
    let segment = last_segment(ty)?;
    if segment.ident != "Option" {
        return None;
    }
    let PathArguments::AngleBracketed(generics) = &segment.arguments else {
        return None;
    };
    match generics.args.iter().collect::<Vec<_>>().as_slice() {
        [syn::GenericArgument::Type(inner)] if is_token(inner) => Some(inner),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ctxt::messages;
    use super::*;
    use quote::quote;

    fn run(
        attr: proc_macro2::TokenStream,
        item: proc_macro2::TokenStream,
    ) -> Result<Handler, String> {
        let cx = Ctxt::new();
        let (args, parsed) = Args::parse(attr, &cx);
        parsed.unwrap();
        let item: ItemFn = syn::parse2(item).unwrap();
        let handler = check(&item, &args, &cx);
        cx.check().map_err(|e| messages(&e))?;
        Ok(handler)
    }

    /// Every message of a handler that does not pass.
    fn fails(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> String {
        match run(attr, item) {
            Ok(_) => panic!("passes"),
            Err(err) => err,
        }
    }

    #[test]
    fn path_bindings_are_found() {
        run(
            quote!(sub = "username"),
            quote!(
                async fn h(Path(username): Path<String>) {}
            ),
        )
        .unwrap();
        run(
            quote!(sub = "b"),
            quote!(
                async fn h(Path((a, b)): Path<(String, u32)>) {}
            ),
        )
        .unwrap();
        run(
            quote!(sub = "user"),
            quote!(
                async fn h(axum::extract::Path(Params { user, .. }): axum::extract::Path<Params>) {}
            ),
        )
        .unwrap();
        let handler = run(
            quote!(sub = "user"),
            quote!(
                async fn h(Path(p): Path<Params>) {}
            ),
        )
        .unwrap();
        assert_eq!(handler.field_checks.len(), 1);
        assert_eq!(handler.field_checks[0].field, "user");
    }

    /// The binding of each path check, in the order written.
    fn bindings(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> Vec<Binding> {
        match run(attr, item) {
            Ok(handler) => handler.bindings,
            Err(err) => panic!("{err}"),
        }
    }

    const fn at(index: usize, of: usize) -> Binding {
        Binding::Position { index, of }
    }

    #[test]
    fn each_shape_of_path_binds_as_axum_reads_it() {
        // A scalar: the route's one parameter.
        assert_eq!(
            bindings(
                quote!(sub = "user"),
                quote!(
                    async fn h(Path(user): Path<String>) {}
                ),
            ),
            [at(0, 1)]
        );
        // A tuple: by position.
        assert_eq!(
            bindings(
                quote!(sub = "user"),
                quote!(
                    async fn h(Path((org, user)): Path<(String, String)>) {}
                ),
            ),
            [at(1, 2)]
        );
        // Checks written in the reverse order of the tuple.
        assert_eq!(
            bindings(
                quote!(path(a = "y", b = "x")),
                quote!(
                    async fn h(Path((x, y)): Path<(String, u64)>) {}
                ),
            ),
            [at(1, 2), at(0, 2)]
        );
        // `..` first, last, in the middle: elements after it count from the end.
        assert_eq!(
            bindings(
                quote!(sub = "user"),
                quote!(
                    async fn h(Path((.., user)): Path<(String, String, String)>) {}
                ),
            ),
            [at(2, 3)]
        );
        assert_eq!(
            bindings(
                quote!(sub = "org"),
                quote!(
                    async fn h(Path((org, ..)): Path<(String, String, String)>) {}
                ),
            ),
            [at(0, 3)]
        );
        assert_eq!(
            bindings(
                quote!(path(org_id = "org", sub = "user")),
                quote!(
                    async fn h(Path((org, .., user)): Path<(String, u8, u8, String)>) {}
                ),
            ),
            [at(0, 4), at(3, 4)]
        );
        assert_eq!(
            bindings(
                quote!(path(a = "b", c = "d")),
                quote!(
                    async fn h(Path((_, b, .., d, _)): Path<(u8, u8, u8, u8, u8, u8)>) {}
                ),
            ),
            [at(1, 6), at(4, 6)]
        );
        // Patterns around the name: `ref`, `mut`, `&`, a type, parentheses.
        assert_eq!(
            bindings(
                quote!(path(a = "x", b = "y")),
                quote!(
                    async fn h(Path((ref x, (mut y))): Path<(String, String)>) {}
                ),
            ),
            [at(0, 2), at(1, 2)]
        );
        // A raw identifier binds the name it holds.
        assert_eq!(
            bindings(
                quote!(path(team = "type")),
                quote!(
                    async fn h(Path(r#type): Path<String>) {}
                ),
            ),
            [at(0, 1)]
        );
        assert_eq!(
            bindings(
                quote!(sub = "type"),
                quote!(
                    async fn h(Path((org, r#type)): Path<(String, String)>) {}
                ),
            ),
            [at(1, 2)]
        );
        // A struct: by name, destructured (a field renamed is still read by
        // its name) or whole.
        for item in [
            quote!(
                async fn h(Path(Params { user, .. }): Path<Params>) {}
            ),
            quote!(
                async fn h(Path(Params { user: u, .. }): Path<Params>) {}
            ),
            quote!(
                async fn h(Path(params): Path<Params>) {}
            ),
        ] {
            assert_eq!(bindings(quote!(sub = "user"), item), [Binding::Name]);
        }
    }

    #[test]
    fn a_field_named_by_a_keyword_is_raw() {
        let handler = run(
            quote!(path(kind = "type")),
            quote!(
                async fn h(Path(p): Path<Params>) {}
            ),
        )
        .unwrap();
        assert_eq!(handler.field_checks[0].field, "r#type");
        for name in ["self", "Self", "super", "crate"] {
            let err = fails(
                quote!(sub = #name),
                quote!(
                    async fn h(Path(p): Path<Params>) {}
                ),
            );
            assert!(
                err.contains("is not a path parameter of this handler"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_method_is_reported_at_its_whole_receiver() {
        let cx = Ctxt::new();
        let item: ItemFn = syn::parse_str("async fn h(&'a mut self) {}").unwrap();
        check(&item, &Args::default(), &cx);
        let error = cx.check().err().unwrap();
        assert!(error.to_string().contains("not on a method taking `self`"));
        // The compiler cannot join spans on stable: it underlines from the
        // span of the error's first token to that of its last, which must be
        // `&` and `self`, not the one span of a single token.
        let tokens: Vec<_> = error.to_compile_error().into_iter().collect();
        let first = tokens.first().unwrap().span();
        let last = tokens.last().unwrap().span();
        assert_eq!((first.start().column, first.end().column), (11, 12), "`&`");
        assert_eq!((last.start().column, last.end().column), (19, 23), "`self`");
    }

    #[test]
    fn signature_mistakes() {
        let err = run(
            quote!(),
            quote!(
                fn h() {}
            ),
        )
        .err()
        .unwrap();
        assert!(err.contains("needs an `async fn`"), "{err}");
        let err = run(
            quote!(sub = "username"),
            quote!(
                async fn h(Path(id): Path<u64>) {}
            ),
        )
        .err()
        .unwrap();
        assert!(err.contains("its `Path` binds `id`"), "{err}");
        let err = run(
            quote!(optional),
            quote!(
                async fn h(t: Token) {}
            ),
        )
        .err()
        .unwrap();
        assert!(err.contains("Option<Token>"), "{err}");
    }

    #[test]
    fn a_name_bound_to_several_parameters_is_not_one() {
        let err = fails(
            quote!(sub = "p"),
            quote!(
                async fn h(Path(p): Path<(String, String)>) {}
            ),
        );
        assert_eq!(
            err,
            "`p` is the whole tuple of 2 path parameters, not one of them: destructure it, \
             e.g. `Path((a, b))`, and name the element the claim must equal"
        );
        let err = fails(
            quote!(path(org = "p")),
            quote!(
                async fn h(Path(ref p): Path<(String, u64, String)>) {}
            ),
        );
        assert!(err.contains("e.g. `Path((a, b, c))`"), "{err}");
        let err = fails(
            quote!(sub = "all"),
            quote!(
                async fn h(Path(all): Path<Vec<String>>) {}
            ),
        );
        assert!(err.starts_with("`all` holds every path parameter"), "{err}");
    }

    #[test]
    fn a_name_bound_twice_is_refused() {
        let err = fails(
            quote!(sub = "user"),
            quote!(
                async fn h(
                    Path(user): Path<String>,
                    Path(Params { user: name, .. }): Path<Params>,
                ) {
                }
            ),
        );
        assert!(
            err.starts_with("`user` is bound by more than one `Path` extractor"),
            "{err}"
        );
    }

    #[test]
    fn axum_takes_sixteen_extractors_and_the_guard_is_one() {
        let inputs = |n: usize| -> Vec<proc_macro2::TokenStream> {
            (0..n)
                .map(|i| {
                    let name = quote::format_ident!("e{i}");
                    quote!(#name: Extension<u8>)
                })
                .collect()
        };
        let fifteen = inputs(15);
        run(quote!(), quote!(async fn h(#(#fifteen),*) {})).unwrap();
        let sixteen = inputs(16);
        let err = fails(quote!(), quote!(async fn h(#(#sixteen),*) {}));
        assert_eq!(
            err,
            "too many extractors: axum handlers take at most 16 and `#[require_token]` adds one, \
             so a guarded handler takes at most 15, and this one takes 16; group some of them in \
             a tuple, e.g. `(State(db), Query(page)): (State<Db>, Query<Page>)`"
        );
    }
}
