//! The error collector: every mistake in an attribute is reported at once.
//!
//! As serde_derive's `Ctxt`, it must be checked: dropping it without
//! [`Ctxt::check`] panics, so no path can lose the errors it holds.
//!
//! Errors are found stage by stage (how the arguments are written, what
//! they mean, how they combine, the handler) but reported in the order of
//! the source, so the first message is about the first mistake written.

use std::cell::RefCell;
use std::fmt::Display;
use std::thread;

use proc_macro2::Span;
use quote::ToTokens;

/// Collects errors while the attribute is parsed and checked.
pub(crate) struct Ctxt {
    /// `None` once checked.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Adds an error.
    pub(crate) fn error(&self, error: syn::Error) {
        if let Some(errors) = self.errors.borrow_mut().as_mut() {
            errors.push(error);
        }
    }

    /// Adds an error at `span`.
    pub(crate) fn error_at(&self, span: Span, message: impl Display) {
        self.error(syn::Error::new(span, message));
    }

    /// Adds an error spanning every token of `tokens`, from the first to
    /// the last (`&self` whole, not only `&`).
    pub(crate) fn error_spanned(&self, tokens: impl ToTokens, message: impl Display) {
        self.error(syn::Error::new_spanned(tokens, message));
    }

    /// Every error collected, combined in the order of the source: by the
    /// line and column each starts at, and in the order they were found
    /// where those are equal or unknown.
    pub(crate) fn check(self) -> syn::Result<()> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
        // A combined error (a syntax error holds one) is taken apart, so each
        // of its messages finds its own place.
        let mut errors: Vec<syn::Error> = errors.into_iter().flatten().collect();
        errors.sort_by_key(|error| position(error.span()));
        let mut errors = errors.into_iter();
        let Some(mut all) = errors.next() else {
            return Ok(());
        };
        for error in errors {
            all.combine(error);
        }
        Err(all)
    }
}

/// Where `span` starts in its file, as (line, column); (0, 0) where that is
/// unknown (`quote!` spans outside the compiler).
pub(crate) fn position(span: Span) -> (usize, usize) {
    let start = span.start();
    (start.line, start.column)
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !thread::panicking() && self.errors.borrow().is_some() {
            panic!("jwt-guard-macros: an error collector was dropped without `check()`");
        }
    }
}

/// Every message of a combined error, one a line.
#[cfg(test)]
pub(crate) fn messages(error: &syn::Error) -> String {
    let messages: Vec<String> = error.clone().into_iter().map(|e| e.to_string()).collect();
    messages.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[should_panic(expected = "dropped without `check()`")]
    fn dropping_unchecked_panics() {
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "lost");
        drop(cx);
    }

    #[test]
    #[should_panic(expected = "dropped without `check()`")]
    fn dropping_unchecked_panics_without_errors() {
        drop(Ctxt::new());
    }

    #[test]
    fn a_panic_elsewhere_is_not_hidden() {
        let result = std::panic::catch_unwind(|| {
            let _cx = Ctxt::new();
            panic!("the first panic");
        });
        let payload = result.err().unwrap();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"the first panic"));
    }

    #[test]
    fn check_returns_every_error_in_the_order_found_when_positions_are_equal() {
        let cx = Ctxt::new();
        assert!(cx.check().is_ok());
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "first");
        cx.error(syn::Error::new(Span::call_site(), "second"));
        cx.error_at(Span::call_site(), "third");
        let all = cx.check().err().unwrap();
        assert_eq!(messages(&all), "first\nsecond\nthird");
    }

    /// Spans of a source text, which has line and column positions (the
    /// spans of `quote!` have none).
    fn spans(source: &str) -> Vec<Span> {
        let tokens: proc_macro2::TokenStream = source.parse().unwrap();
        tokens.into_iter().map(|token| token.span()).collect()
    }

    #[test]
    fn check_sorts_errors_by_position() {
        let spans = spans("first\nsecond third\n  fourth");
        let cx = Ctxt::new();
        cx.error_at(spans[3], "fourth");
        cx.error_at(spans[1], "second");
        cx.error_at(spans[2], "third");
        cx.error_at(spans[0], "first");
        let all = cx.check().err().unwrap();
        assert_eq!(messages(&all), "first\nsecond\nthird\nfourth");
    }

    #[test]
    fn a_combined_error_is_taken_apart() {
        let spans = spans("a b c");
        let cx = Ctxt::new();
        let mut combined = syn::Error::new(spans[0], "a");
        combined.combine(syn::Error::new(spans[2], "c"));
        cx.error(combined);
        cx.error_at(spans[1], "b");
        let all = cx.check().err().unwrap();
        assert_eq!(messages(&all), "a\nb\nc");
    }

    #[test]
    fn a_spanned_error_starts_at_its_first_token() {
        let tokens: proc_macro2::TokenStream = "x &self".parse().unwrap();
        let receiver: proc_macro2::TokenStream = tokens.clone().into_iter().skip(1).collect();
        let cx = Ctxt::new();
        cx.error_spanned(&receiver, "receiver");
        cx.error_at(tokens.into_iter().next().unwrap().span(), "x");
        let all = cx.check().err().unwrap();
        assert_eq!(messages(&all), "x\nreceiver");
        let error = all.into_iter().nth(1).unwrap();
        let (start, end) = (error.span().start(), error.span().end());
        assert_eq!((start.column, end.column), (2, 7), "`&self` whole");
    }
}
