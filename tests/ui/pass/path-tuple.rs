use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::__private::{Binding, Requirement};
use jwt_guard::require_token;

// `sub` is compared with the second of the route's two parameters.
#[require_token(sub = "user")]
async fn handler(Path((org, user)): Path<(String, String)>) -> String {
    org + &user
}

// The guard compares the value the handler receives.
const _: () = assert!(matches!(
    <__jwt_guard_handler as Requirement>::SPEC.path[0].binding,
    Binding::Position { index: 1, of: 2 }
));

fn main() {
    let _app: Router = Router::new().route("/orgs/{org}/users/{user}", get(handler));
}
