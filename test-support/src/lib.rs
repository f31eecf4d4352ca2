//! Helpers shared by jwt-guard's integration tests (`tests/`) and the blog
//! example's tests (`examples/blog/tests/`): requests sent through a real
//! `Router` and their replies read whole, a clock the tests move by hand, the
//! handler most test apps guard, revocation stores that fail or record, and
//! real `redis-server` processes.
//!
//! What belongs to one suite (its secret, its manager, its keys) stays with
//! that suite.

mod clock;
mod handlers;
mod http;
mod redis;
mod store;

pub use clock::TestClock;
pub use handlers::{RAN_HEADER, Ran, me, me_app};
pub use http::{Lines, Reply, get_with, read, req, request, send};
pub use redis::{RedisCluster, RedisServer};
pub use store::{Call, FailingStore, RecordingStore};
