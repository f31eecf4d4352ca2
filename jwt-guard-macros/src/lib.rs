//! The `#[require_token]` attribute of [jwt-guard](https://docs.rs/jwt-guard).
//!
//! Depend on `jwt-guard`, which re-exports this macro; its expansion names
//! hidden items of that crate. Every form of the attribute is documented on
//! [`macro@require_token`].

#![warn(unreachable_pub)]

mod args;
mod expand;
mod handler;

use proc_macro2::TokenStream;
use quote::ToTokens as _;

#[doc = include_str!("../README.md")]
#[proc_macro_attribute]
pub fn require_token(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    require_token_impl(args.into(), item.into()).into()
}

/// Parse, check, expand. On any error the user's item is emitted unchanged
/// beside the errors, so they see only ours and not a cascade.
fn require_token_impl(args: TokenStream, item: TokenStream) -> TokenStream {
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
