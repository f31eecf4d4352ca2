//! Compile-time diagnostics of `#[require_token]`: every mistake is a
//! spanned error saying what to write instead; every form compiles.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
