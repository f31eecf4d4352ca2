use axum::Router;
use axum::routing::get;
use axum::extract::Path;
use jwt_guard::require_token;

#[derive(serde::Deserialize)]
struct Params {
    username: String,
}

#[require_token(sub = "username")]
async fn handler(Path(params): Path<Params>) -> String {
    params.username
}

fn main() {
    let _app: Router = Router::new().route("/users/{username}", get(handler));
}
