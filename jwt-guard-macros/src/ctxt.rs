//! The error collector: every mistake in an attribute is reported at once.
//!
//! As serde_derive's `Ctxt`, it must be checked: dropping it without
//! [`Ctxt::check`] panics, so no path can lose the errors it holds.

use std::cell::RefCell;
use std::fmt::Display;
use std::thread;

use proc_macro2::Span;

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

    /// Every error collected, combined in the order they were found.
    pub(crate) fn check(self) -> syn::Result<()> {
        let errors = self.errors.borrow_mut().take().unwrap_or_default();
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
    fn check_returns_every_error_in_order() {
        let cx = Ctxt::new();
        assert!(cx.check().is_ok());
        let cx = Ctxt::new();
        cx.error_at(Span::call_site(), "first");
        cx.error(syn::Error::new(Span::call_site(), "second"));
        cx.error_at(Span::call_site(), "third");
        let all = cx.check().err().unwrap();
        assert_eq!(messages(&all), "first\nsecond\nthird");
    }
}
