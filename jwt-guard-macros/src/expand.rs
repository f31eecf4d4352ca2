//! Code generation from the checked arguments: a marker type carrying the
//! requirement as constant data, and the guard injected as the handler's
//! first extractor. Nothing here can fail.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{FnArg, ItemFn, LitStr, parse_quote_spanned};

use super::args::{Args, Entry, Location, Scope, Value};
use super::handler::{Binding, Handler, is_token, option_of_token};

pub(crate) fn expand(mut item: ItemFn, args: &Args, handler: &Handler) -> TokenStream {
    let marker = format_ident!("__jwt_guard_{}", item.sig.ident);
    let vis = &item.vis;
    let private = quote!(::jwt_guard::__private);

    let kind = if args.refresh.is_some() {
        quote!(#private::TokenKind::Refresh)
    } else {
        quote!(#private::TokenKind::Access)
    };
    let fresh = args.fresh.is_some();
    let optional = args.optional.is_some();
    let locations = match &args.locations {
        Some(group) => {
            let names = group.entries.iter().map(|(location, ident)| {
                let variant = match location {
                    Location::Header => quote_spanned!(ident.span()=> Header),
                    Location::Cookie => quote_spanned!(ident.span()=> Cookie),
                    Location::Query => quote_spanned!(ident.span()=> Query),
                };
                quote!(#private::Location::#variant)
            });
            quote!(::core::option::Option::Some(&[#(#names),*]))
        }
        None => quote!(::core::option::Option::None),
    };
    // Every path check has its binding, or the handler check reported why
    // not and expansion is never reached; a path check is never dropped.
    if handler.bindings.len() != args.path.len() {
        return quote! {
            ::core::compile_error!("`#[require_token]`: a path check has no binding; please report this");
        };
    }
    let path = args
        .path
        .iter()
        .zip(&handler.bindings)
        .map(|(check, binding)| {
            let claim = check.claim.unraw().to_string();
            let param = check.param.value();
            let binding = match binding {
                Binding::Name => quote!(#private::Binding::Name),
                Binding::Position { index, of } => {
                    quote!(#private::Binding::Position { index: #index, of: #of })
                }
            };
            quote!(#private::PathCheck { claim: #claim, param: #param, binding: #binding })
        });
    let entries = |entries: &[Entry]| {
        let entries = entries.iter().map(|entry| {
            let key = entry.key.unraw().to_string();
            let value = match &entry.value {
                Value::Bool(b) => quote!(#private::Lit::Bool(#b)),
                Value::Int(n, span) => {
                    let mut lit = Literal::i64_suffixed(*n);
                    lit.set_span(*span);
                    quote!(#private::Lit::Int(#lit))
                }
                Value::Str(s) => quote!(#private::Lit::Str(#s)),
            };
            quote!((#key, #value))
        });
        quote!(&[#(#entries),*])
    };
    let (scope, scope_strings): (&[Entry], &[LitStr]) = match &args.scope {
        Some(Scope::Map(map)) => (&map.entries, &[]),
        Some(Scope::Strings(strings)) => (&[], &strings.entries),
        None => (&[], &[]),
    };
    let scope = entries(scope);
    let claims = entries(args.claims.as_ref().map_or(&[], |g| g.entries.as_slice()));
    let overrides = entries(
        args.overrides
            .as_ref()
            .map_or(&[], |g| g.entries.as_slice()),
    );

    // `Path<Struct>` parameters: the compiler proves the field exists. A
    // missing one is its error E0609, at the attribute's string: "no field
    // `user` on type `Params`", with the fields the struct has. No message
    // of ours can replace it: a macro cannot see the struct, and a trait
    // cannot tell whether a field exists.
    let field_checks = handler.field_checks.iter().map(|check| {
        let ty = &check.ty;
        let field = &check.field;
        quote_spanned! {field.span()=>
            const _: () = {
                #[allow(
                    dead_code,
                    clippy::no_effect_underscore_binding,
                    clippy::needless_pass_by_value
                )]
                fn __jwt_guard_has_field(params: #ty) {
                    let _ = &params.#field;
                }
            };
        }
    });

    // `Token` and `Option<Token>` arguments read what this guard accepted,
    // never another check of the request: `GuardedToken(token, _):
    // GuardedToken<Marker, Token>`, the binding unchanged for the body.
    let mut token_checks = Vec::new();
    for input in &mut item.sig.inputs {
        let FnArg::Typed(arg) = input else { continue };
        let (wrapper, token_ty) = if is_token(&arg.ty) {
            (quote!(GuardedToken), (*arg.ty).clone())
        } else if let Some(inner) = option_of_token(&arg.ty) {
            (quote!(GuardedOption), inner.clone())
        } else {
            continue;
        };
        let span = arg.ty.span();
        let pat = &arg.pat;
        *arg.pat = parse_quote_spanned! {span=>
            #private::#wrapper(#pat, _)
        };
        *arg.ty = parse_quote_spanned! {span=>
            #private::#wrapper<#marker, #token_ty>
        };
        token_checks.push(quote_spanned! {token_ty.span()=>
            const _: () = {
                fn __jwt_guard_is_token<T: #private::IsToken>() {}
                let _ = __jwt_guard_is_token::<#token_ty>;
            };
        });
    }

    let guard = syn::Ident::new("__jwt_guard", Span::mixed_site());
    let guard_arg: FnArg = parse_quote_spanned! {Span::mixed_site()=>
        #guard: #private::Guard<#marker>
    };
    item.sig.inputs.insert(0, guard_arg);

    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl #private::Requirement for #marker {
            const SPEC: &'static #private::Spec = &#private::Spec {
                kind: #kind,
                fresh: #fresh,
                optional: #optional,
                locations: #locations,
                path: &[#(#path),*],
                claims: #claims,
                scope: #scope,
                scope_strings: &[#(#scope_strings),*],
                overrides: #overrides,
            };
        }

        #(#field_checks)*

        #(#token_checks)*

        #item
    }
}
