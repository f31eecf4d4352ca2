//! Arbitrary text as `#[require_token(...)]` arguments: the attribute's
//! parser, checks and code generation must never panic.
//!
//! This calls the macro's own entry point, `require_token_impl`, so what is
//! fuzzed is exactly what the compiler runs.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;

#[path = "../../jwt-guard-macros/src/implementation.rs"]
mod implementation;

const HANDLERS: &[&str] = &[
    "async fn h() {}",
    "async fn h(Path(username): Path<String>, token: Token) -> String { username }",
    "async fn h(Path((a, b)): Path<(String, u64)>, t: Option<Token>) {}",
    "async fn h(Path(p): Path<Params>) {}",
    "fn h(&self) {}",
    "struct NotAHandler;",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(args) = proc_macro2::TokenStream::from_str(text) else {
        return;
    };
    for source in HANDLERS {
        let item = proc_macro2::TokenStream::from_str(source).expect("a valid handler");
        let _ = implementation::require_token_impl(args.clone(), item);
    }
});
