use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::__private::{Binding, Requirement};
use jwt_guard::require_token;

// `r#type` binds the route's `{type}`.
#[require_token(path(team = "type"))]
async fn handler(Path(r#type): Path<String>) -> String {
    r#type
}

// The guard compares the value the handler receives.
const _: () = assert!(matches!(
    <__jwt_guard_handler as Requirement>::SPEC.path[0].binding,
    Binding::Position { index: 0, of: 1 }
));

fn main() {
    let _app: Router = Router::new().route("/teams/{type}", get(handler));
}
