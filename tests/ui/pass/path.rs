use axum::Router;
use axum::routing::get;
use axum::extract::Path;
use jwt_guard::require_token;

#[require_token(path(org = "org_id", sub = "user"))]
async fn handler(Path((org_id, user)): Path<(String, String)>) -> String {
    org_id + &user
}

fn main() {
    let _app: Router = Router::new().route("/orgs/{org_id}/users/{user}", get(handler));
}
