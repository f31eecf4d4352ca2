//! The guarded handler most test apps need, and the mark every test
//! handler puts on its reply so a test can tell that it ran.

use axum::Router;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jwt_guard::{Token, TokenManager, require_token};

/// The response header [`Ran`] sets: present only on a reply the handler
/// itself produced.
pub const RAN_HEADER: &str = "x-test-handler-ran";

/// A handler's reply, marked so that [`Reply::ran`](crate::Reply::ran)
/// tells a reply the handler produced from a refusal before it: every test
/// handler returns its answer in `Ran`.
///
/// A refusal helper that finds no mark knows the handler never ran; a
/// positive control that finds it knows the handler marks its replies, so
/// the first check cannot pass by accident.
#[derive(Debug, Clone)]
pub struct Ran<T>(pub T);

impl<T: IntoResponse> IntoResponse for Ran<T> {
    fn into_response(self) -> Response {
        let mut response = self.0.into_response();
        response
            .headers_mut()
            .insert(RAN_HEADER, HeaderValue::from_static("1"));
        response
    }
}

/// `#[require_token]`: any valid access token; answers with its `sub`.
#[require_token]
pub async fn me(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

/// A Router serving [`me`] on `/me` with `manager`'s layer.
pub fn me_app(manager: &TokenManager) -> Router {
    Router::new().route("/me", get(me)).layer(manager.layer())
}
