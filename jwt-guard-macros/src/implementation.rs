//! What `#[require_token]` does, on `proc_macro2` tokens: parse, validate,
//! expand.
//!
//! A proc-macro crate exports nothing but its macros, so this module is the
//! whole implementation and declares its own submodules: the fuzz target
//! includes this one file and calls the very function the macro calls.

#[path = "args.rs"]
mod args;
#[path = "ctxt.rs"]
mod ctxt;
#[path = "expand.rs"]
mod expand;
#[path = "handler.rs"]
mod handler;
#[path = "validate.rs"]
mod validate;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens as _;
use syn::ItemFn;

use args::Args;
use ctxt::Ctxt;
use handler::Handler;

/// Parse, validate, expand. On any error the user's item is emitted unchanged
/// beside the errors, so they see only ours and not a cascade.
pub(crate) fn require_token_impl(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let Ok(item_fn) = syn::parse2::<ItemFn>(item.clone()) else {
        cx.error_at(
            Span::call_site(),
            "`#[require_token]` goes on an `async fn` handler",
        );
        return with_errors(item, cx.check());
    };
    let checked = check(args, &item_fn, &cx);
    match (cx.check(), checked) {
        (Ok(()), Some((args, handler))) => expand::expand(item_fn, &args, &handler),
        (result, _) => with_errors(item_fn.into_token_stream(), result),
    }
}

/// Parses the arguments and checks them and the handler; `None` when a
/// syntax error stopped the parse.
fn check(args: TokenStream, item_fn: &ItemFn, cx: &Ctxt) -> Option<(Args, Handler)> {
    let (args, parsed) = Args::parse(args, cx);
    // The arguments read before a syntax error are checked all the same;
    // how they combine, and the handler, only once all of them are read.
    validate::arguments(&args, cx);
    if let Err(error) = parsed {
        cx.error(error);
        return None;
    }
    validate::combinations(&args, cx);
    let handler = handler::check(item_fn, &args, cx);
    Some((args, handler))
}

/// The user's item, followed by the errors if there are any.
fn with_errors(mut item: TokenStream, result: syn::Result<()>) -> TokenStream {
    if let Err(error) = result {
        item.extend(error.to_compile_error());
    }
    item
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    #[test]
    fn a_valid_attribute_expands() {
        let out = require_token_impl(
            quote!(fresh),
            quote!(
                async fn h() {}
            ),
        )
        .to_string();
        assert!(out.contains("struct __jwt_guard_h"), "{out}");
        assert!(!out.contains("compile_error"), "{out}");
    }

    #[test]
    fn errors_keep_the_handler_unchanged() {
        let out = require_token_impl(
            quote!(refersh, fresh, fresh),
            quote!(
                async fn h() {}
            ),
        );
        let out = out.to_string();
        assert!(out.starts_with("async fn h () { }"), "{out}");
        assert!(out.contains("unknown argument `refersh`"), "{out}");
        assert!(out.contains("duplicate argument `fresh`"), "{out}");
        assert!(!out.contains("__jwt_guard"), "{out}");
    }

    #[test]
    fn a_syntax_error_comes_after_the_mistakes_read_before_it() {
        let out = require_token_impl(
            quote!(claims(exp = 1), refresh, fresh, scope(x = 1.5)),
            quote!(
                fn h() {}
            ),
        );
        let out = out.to_string();
        let exp = out.find("`exp` cannot be required").unwrap();
        let floats = out.find("floats cannot be compared").unwrap();
        assert!(exp < floats, "{out}");
        // Neither how the arguments combine nor the handler is checked.
        assert!(!out.contains("never fresh"), "{out}");
        assert!(!out.contains("needs an `async fn`"), "{out}");
    }

    #[test]
    fn not_a_function_is_the_only_error() {
        let out = require_token_impl(
            quote!(refersh),
            quote!(
                struct S;
            ),
        )
        .to_string();
        assert!(out.starts_with("struct S ;"), "{out}");
        assert!(out.contains("goes on an `async fn` handler"), "{out}");
        assert!(!out.contains("refersh"), "{out}");
    }
}
