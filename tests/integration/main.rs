//! Behaviour of guarded handlers, driven through real axum Routers.

mod algorithms;
mod attacks;
mod common;
mod config;
mod extractors;
mod forge;
mod forms;
mod keyset;
mod order;
mod paths;
mod properties;
mod responses;
mod revocation;
mod rotation;
mod transport;
mod validity;
