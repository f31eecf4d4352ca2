//! Arbitrary text as `#[require_token(...)]` arguments: the attribute's
//! parser, checks and code generation must never panic.
#![no_main]

use std::str::FromStr;

use libfuzzer_sys::fuzz_target;

#[path = "../../jwt-guard-macros/src/args.rs"]
#[allow(dead_code)]
mod args;
#[path = "../../jwt-guard-macros/src/expand.rs"]
mod expand;
#[path = "../../jwt-guard-macros/src/handler.rs"]
mod handler;

const HANDLERS: &[&str] = &[
    "async fn h() {}",
    "async fn h(Path(username): Path<String>, token: Token) -> String { username }",
    "async fn h(Path((a, b)): Path<(String, u64)>, t: Option<Token>) {}",
    "async fn h(Path(p): Path<Params>) {}",
    "fn h(&self) {}",
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(tokens) = proc_macro2::TokenStream::from_str(text) else {
        return;
    };
    for source in HANDLERS {
        let item: syn::ItemFn = syn::parse_str(source).expect("a valid handler");
        let mut errors = args::Errors::default();
        let Ok(parsed) = args::Args::parse(tokens.clone(), &mut errors) else {
            continue;
        };
        parsed.validate(&mut errors);
        let handler = handler::check(&item, &parsed, &mut errors);
        if errors.finish().is_ok() {
            let _ = expand::expand(item, &parsed, &handler);
        }
    }
});
