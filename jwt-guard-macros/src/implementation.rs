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
    fn every_generated_name_is_unraw_d() {
        let out = require_token_impl(
            quote!(
                sub = "user", path(r#team = "kind"), scope(r#admin = true),
                claims(r#tenant = "acme"), override(r#root = true), location(r#cookie),
            ),
            quote!(
                async fn h(Path((user, r#kind)): Path<(String, String)>) {}
            ),
        )
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        for name in ["team", "kind", "admin", "tenant", "root"] {
            assert!(out.contains(&format!("\"{name}\"")), "{name}: {out}");
        }
        let generated = &out[..out.find("async fn h").unwrap()];
        assert!(!generated.contains("r#"), "{generated}");
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

    /// Runs the macro on a source text holding the attribute and its item,
    /// so that spans have positions as in the compiler (those of `quote!`
    /// have none), and returns the messages in the order they are emitted.
    fn messages_of(source: &str) -> Vec<String> {
        let tokens: TokenStream = source.parse().unwrap();
        let mut item: syn::Item = syn::parse2(tokens).unwrap();
        let attrs = match &mut item {
            syn::Item::Fn(f) => &mut f.attrs,
            syn::Item::Struct(s) => &mut s.attrs,
            _ => panic!("a fn or a struct"),
        };
        let attr = attrs.remove(0);
        let args = match attr.meta {
            syn::Meta::List(list) => list.tokens,
            _ => TokenStream::new(),
        };
        compile_errors(require_token_impl(args, item.into_token_stream()))
    }

    /// The message of every `compile_error!` in an expansion, in order.
    fn compile_errors(tokens: TokenStream) -> Vec<String> {
        let tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        let mut messages = Vec::new();
        for window in tokens.windows(3) {
            if let [
                proc_macro2::TokenTree::Ident(ident),
                proc_macro2::TokenTree::Punct(_),
                proc_macro2::TokenTree::Group(group),
            ] = window
                && ident == "compile_error"
            {
                let message: syn::LitStr = syn::parse2(group.stream()).unwrap();
                messages.push(message.value());
            }
        }
        messages
    }

    /// Where each needle is found among `messages`, in order.
    fn positions(messages: &[String], needles: &[&str]) -> Vec<usize> {
        needles
            .iter()
            .map(|needle| {
                messages
                    .iter()
                    .position(|m| m.contains(needle))
                    .unwrap_or_else(|| panic!("no `{needle}` in {messages:#?}"))
            })
            .collect()
    }

    #[test]
    fn errors_come_in_the_order_of_the_source() {
        // Found in another order: the duplicate while reading, the reserved
        // claim when checking each argument, the contradiction last.
        let messages = messages_of(
            "#[require_token(claims(exp = 1), refresh, fresh, fresh)]\n\
             fn h() {}",
        );
        assert_eq!(messages.len(), 4, "{messages:#?}");
        assert_eq!(
            positions(
                &messages,
                &[
                    "`exp` cannot be required",
                    "never fresh",
                    "duplicate argument `fresh`",
                    "needs an `async fn`",
                ]
            ),
            [0, 1, 2, 3],
            "{messages:#?}"
        );
    }

    #[test]
    fn a_syntax_error_keeps_the_mistakes_read_before_it() {
        let messages = messages_of(
            "#[require_token(claims(exp = 1), refresh, fresh, scope(x = 1.5), claims(iat = 1))]\n\
             fn h() {}",
        );
        assert_eq!(
            positions(&messages, &["`exp` cannot be required", "floats cannot"]),
            [0, 1],
            "{messages:#?}"
        );
        // Neither what comes after it, nor how the arguments combine, nor the
        // handler is checked.
        assert_eq!(messages.len(), 2, "{messages:#?}");
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
