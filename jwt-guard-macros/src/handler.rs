//! Reading the handler's signature: is it an `async fn` without `self`, and
//! which path parameters do its `Path` extractors bind.

use syn::spanned::Spanned as _;
use syn::{FnArg, Ident, ItemFn, Pat, PathArguments, Type};

use super::args::{Args, PathCheck};
use super::ctxt::Ctxt;

/// axum implements `Handler` for up to 16 extractors.
const MAX_EXTRACTORS: usize = 16;

/// A check the compiler makes for us: the `Path<T>` struct has this field.
pub(crate) struct FieldCheck {
    pub(crate) ty: Type,
    pub(crate) field: Ident,
}

/// What the expansion needs to know of the handler.
#[derive(Default)]
pub(crate) struct Handler {
    pub(crate) field_checks: Vec<FieldCheck>,
}

/// Types that deserialize from one path segment; a `Path<T>` of anything
/// else is taken for a struct of named parameters.
const SCALARS: &[&str] = &[
    "String", "str", "Cow", "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8",
    "i16", "i32", "i64", "i128", "isize", "f32", "f64", "Uuid", "Box", "Arc", "Vec", "HashMap",
    "BTreeMap",
];

pub(crate) fn check(item: &ItemFn, args: &Args, cx: &Ctxt) -> Handler {
    let sig = &item.sig;
    if sig.asyncness.is_none() {
        cx.error_at(
            sig.fn_token.span,
            "`#[require_token]` needs an `async fn`: axum handlers are async; write `async fn`",
        );
    }
    if let Some(FnArg::Receiver(receiver)) = sig.inputs.first() {
        cx.error_at(
            receiver.span(),
            "`#[require_token]` goes on a free `async fn` handler, not on a method taking `self`",
        );
    }
    if sig.inputs.len() >= MAX_EXTRACTORS {
        cx.error_at(
            sig.inputs.span(),
            "axum handlers take at most 16 extractors and `#[require_token]` adds one: \
             group some of them into a struct",
        );
    }

    let mut bound: Vec<Ident> = Vec::new();
    let mut structs: Vec<Type> = Vec::new();
    for input in &sig.inputs {
        let FnArg::Typed(arg) = input else { continue };
        if args.optional.is_some() && is_bare_token(&arg.ty) {
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
        let is_struct = is_struct_type(inner);
        match pattern {
            Pat::Ident(ident) if is_struct => {
                bound.push(ident.ident.clone());
                structs.push(inner.clone());
            }
            other => collect_bindings(other, &mut bound),
        }
    }

    let mut handler = Handler::default();
    for check in &args.path {
        // A name that is not an identifier is already reported.
        let Some(param) = &check.param_ident else {
            continue;
        };
        if bound.contains(param) {
            continue;
        }
        if let Some(ty) = structs.first() {
            handler.field_checks.push(FieldCheck {
                ty: ty.clone(),
                field: param.clone(),
            });
            continue;
        }
        unbound_error(check, &bound, cx);
    }
    handler
}

fn unbound_error(check: &PathCheck, bound: &[Ident], cx: &Ctxt) {
    let name = check.param.value();
    let mut message = format!(
        "`{name}` is not a path parameter of this handler: take it with a `Path` extractor, \
         e.g. `Path({name}): Path<String>`"
    );
    if !bound.is_empty() {
        let names: Vec<String> = bound.iter().map(|b| format!("`{b}`")).collect();
        message.push_str(&format!(" (its `Path` binds {})", names.join(", ")));
    }
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

fn is_struct_type(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| !SCALARS.iter().any(|s| segment.ident == s))
}

fn is_bare_token(ty: &Type) -> bool {
    last_segment(ty).is_some_and(|segment| segment.ident == "Token" && segment.arguments.is_none())
}

fn collect_bindings(pat: &Pat, out: &mut Vec<Ident>) {
    match pat {
        Pat::Ident(ident) => out.push(ident.ident.clone()),
        Pat::Tuple(tuple) => tuple.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::TupleStruct(tuple) => tuple.elems.iter().for_each(|p| collect_bindings(p, out)),
        Pat::Struct(strukt) => strukt
            .fields
            .iter()
            .for_each(|field| collect_bindings(&field.pat, out)),
        Pat::Reference(reference) => collect_bindings(&reference.pat, out),
        Pat::Type(typed) => collect_bindings(&typed.pat, out),
        Pat::Paren(paren) => collect_bindings(&paren.pat, out),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
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
        cx.check().map_err(|e| e.to_string())?;
        Ok(handler)
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
}
