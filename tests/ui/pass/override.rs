use axum::Router;
use axum::routing::get;
use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(sub = "username", override(admin = true))]
async fn handler(Path(username): Path<String>) -> String {
    username
}

fn main() {
    let _app: Router = Router::new().route("/users/{username}", get(handler));
}
