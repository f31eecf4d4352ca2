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
#[cfg(feature = "utoipa")]
#[path = "openapi.rs"]
mod openapi;
#[path = "validate.rs"]
mod validate;

use proc_macro2::TokenStream;
use quote::ToTokens as _;
use syn::{Item, ItemFn};

use args::Args;
use ctxt::Ctxt;
use handler::Handler;

/// Parse, validate, expand. On any error the user's item is emitted unchanged
/// beside the errors, so they see only ours and not a cascade.
pub(crate) fn require_token_impl(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let Ok(item_fn) = syn::parse2::<ItemFn>(item.clone()) else {
        not_a_function(&item, &cx);
        return with_errors(item, cx.check());
    };
    let checked = check(args, &item_fn, &cx);
    match (cx.check(), checked) {
        (Ok(()), Some((args, handler))) => {
            #[cfg(feature = "utoipa")]
            let item_fn = {
                let mut item_fn = item_fn;
                openapi::document(&mut item_fn, &args);
                item_fn
            };
            expand::expand(item_fn, &args, &handler)
        }
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

/// Reports an item that is not a function, at its keyword and name
/// (`struct Handler`), not at the attribute. Its arguments are not read.
fn not_a_function(item: &TokenStream, cx: &Ctxt) {
    let (head, what) = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(s)) => (pair(&s.struct_token, &s.ident), "a struct"),
        Ok(Item::Enum(e)) => (pair(&e.enum_token, &e.ident), "an enum"),
        Ok(Item::Union(u)) => (pair(&u.union_token, &u.ident), "a union"),
        Ok(Item::Trait(t)) => (pair(&t.trait_token, &t.ident), "a trait"),
        Ok(Item::Impl(i)) => (pair(&i.impl_token, &i.self_ty), "an `impl` block"),
        Ok(Item::Mod(m)) => (pair(&m.mod_token, &m.ident), "a module"),
        Ok(Item::Type(t)) => (pair(&t.type_token, &t.ident), "a type alias"),
        Ok(Item::Const(c)) => (pair(&c.const_token, &c.ident), "a constant"),
        Ok(Item::Static(s)) => (pair(&s.static_token, &s.ident), "a static"),
        Ok(Item::Use(u)) => (u.use_token.into_token_stream(), "a `use` declaration"),
        Ok(Item::Macro(m)) => (m.mac.path.into_token_stream(), "a macro invocation"),
        // A function without a body, or anything else: its first token
        // after its attributes.
        _ => {
            let head = match syn::parse2::<syn::TraitItemFn>(item.clone()) {
                Ok(f) => f.sig.into_token_stream(),
                Err(_) => first_token(item),
            };
            (head, "this item")
        }
    };
    cx.error_spanned(
        head,
        format!("`#[require_token]` goes on an `async fn` handler, not on {what}"),
    );
}

/// The tokens of `a` then `b`, for an error spanning from one to the other.
fn pair(a: &impl quote::ToTokens, b: &impl quote::ToTokens) -> TokenStream {
    let mut tokens = a.to_token_stream();
    b.to_tokens(&mut tokens);
    tokens
}

/// The first token of an item after its outer attributes; none (the error
/// is then at the attribute) when there is no such token.
fn first_token(item: &TokenStream) -> TokenStream {
    let mut tokens = item.clone().into_iter().peekable();
    while let Some(proc_macro2::TokenTree::Punct(pound)) = tokens.peek() {
        if pound.as_char() != '#' {
            break;
        }
        tokens.next();
        tokens.next();
    }
    tokens.next().into_token_stream()
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
                async fn r#match(Path((user, r#kind)): Path<(String, String)>) {}
            ),
        )
        .to_string();
        assert!(!out.contains("compile_error"), "{out}");
        for name in ["team", "kind", "admin", "tenant", "root"] {
            assert!(out.contains(&format!("\"{name}\"")), "{name}: {out}");
        }
        assert!(out.contains("struct __jwt_guard_match"), "{out}");
        let generated = &out[..out.find("async fn r#match").unwrap()];
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

    /// Where the first error of a source text starts and ends, as
    /// (line, column) pairs.
    fn first_error_span(source: &str) -> ((usize, usize), (usize, usize)) {
        let tokens: TokenStream = source.parse().unwrap();
        let mut tokens: Vec<proc_macro2::TokenTree> = tokens.into_iter().collect();
        // `#[require_token]` and the item after it.
        let item: TokenStream = tokens.drain(2..).collect();
        let out: Vec<proc_macro2::TokenTree> = require_token_impl(TokenStream::new(), item)
            .into_iter()
            .collect();
        let at = out
            .windows(2)
            .position(|w| matches!(&w[0], proc_macro2::TokenTree::Ident(i) if i == "compile_error"))
            .unwrap();
        let (start, end) = (out[at].span().start(), out[at + 2].span().end());
        ((start.line, start.column), (end.line, end.column))
    }

    #[test]
    fn not_a_function_is_reported_at_the_item() {
        for (source, start, end) in [
            ("#[require_token]\npub struct Handler;", (2, 4), (2, 18)),
            (
                "#[require_token]\n#[derive(Clone)] enum E { A }",
                (2, 17),
                (2, 23),
            ),
            ("#[require_token]\nimpl Api {}", (2, 0), (2, 8)),
            ("#[require_token]\nasync fn h(&self);", (2, 0), (2, 17)),
            ("#[require_token]\nextern \"C\" {}", (2, 0), (2, 6)),
        ] {
            assert_eq!(first_error_span(source), (start, end), "{source}");
        }
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
        assert!(
            out.contains("goes on an `async fn` handler, not on a struct"),
            "{out}"
        );
        assert!(!out.contains("refersh"), "{out}");
    }
}
