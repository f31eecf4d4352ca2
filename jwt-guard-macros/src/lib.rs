//! The `#[require_token]` attribute of [jwt-guard](https://docs.rs/jwt-guard).
//!
//! Depend on `jwt-guard`, which re-exports this macro; its expansion names
//! hidden items of that crate. Every form of the attribute is documented on
//! [`macro@require_token`].

#![warn(unreachable_pub)]

mod implementation;

#[doc = include_str!("../README.md")]
#[proc_macro_attribute]
pub fn require_token(
    args: proc_macro::TokenStream,
    item: proc_macro::TokenStream,
) -> proc_macro::TokenStream {
    implementation::require_token_impl(args.into(), item.into()).into()
}
