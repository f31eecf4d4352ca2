//! What `#[require_token]` does, on `proc_macro2` tokens: parse, check,
//! expand.
//!
//! A proc-macro crate exports nothing but its macros, so this module is the
//! whole implementation and declares its own submodules: the fuzz target
//! includes this one file and calls the very function the macro calls.

#[path = "args.rs"]
mod args;
#[path = "expand.rs"]
mod expand;
#[path = "handler.rs"]
mod handler;

use proc_macro2::TokenStream;
use quote::ToTokens as _;

/// Parse, check, expand. On any error the user's item is emitted unchanged
/// beside the errors, so they see only ours and not a cascade.
pub(crate) fn require_token_impl(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = args::Errors::default();
    let parsed = args::Args::parse(args, &mut errors);
    let item_fn = match syn::parse2::<syn::ItemFn>(item.clone()) {
        Ok(item_fn) => item_fn,
        Err(_) => {
            let error = syn::Error::new(
                proc_macro2::Span::call_site(),
                "`#[require_token]` goes on an `async fn` handler",
            );
            let mut out = item;
            out.extend(error.to_compile_error());
            return out;
        }
    };
    let args = match parsed {
        Ok(args) => Some(args),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let handler = args.as_ref().map(|args| {
        args.validate(&mut errors);
        handler::check(&item_fn, args, &mut errors)
    });
    match (errors.finish(), args, handler) {
        (Ok(()), Some(args), Some(handler)) => expand::expand(item_fn, &args, &handler),
        (result, _, _) => {
            let mut out = item_fn.into_token_stream();
            if let Err(error) = result {
                out.extend(error.to_compile_error());
            }
            out
        }
    }
}
