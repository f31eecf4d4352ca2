use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::__private::{Binding, Requirement};
use jwt_guard::require_token;

// After `..`, elements count from the end: `user` is the third of three.
#[require_token(sub = "user")]
async fn handler(Path((.., user)): Path<(String, String, String)>) -> String {
    user
}

// The guard compares the value the handler receives.
const _: () = assert!(matches!(
    <__jwt_guard_handler as Requirement>::SPEC.path[0].binding,
    Binding::Position { index: 2, of: 3 }
));

fn main() {
    let _app: Router = Router::new().route("/orgs/{org}/teams/{team}/users/{user}", get(handler));
}
