//! Behaviour of guarded handlers, driven through real axum Routers.

#![allow(unreachable_pub)]

mod algorithms;
mod attacks;
mod common;
mod config;
mod extractors;
mod forms;
mod order;
mod properties;
mod revocation;
mod transport;
