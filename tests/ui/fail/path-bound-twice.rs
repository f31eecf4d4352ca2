use axum::extract::Path;
use jwt_guard::require_token;

#[derive(serde::Deserialize)]
struct Params {
    username: String,
}

#[require_token(sub = "username")]
async fn handler(
    Path(username): Path<String>,
    Path(Params { username: name, .. }): Path<Params>,
) -> String {
    username + &name
}

fn main() {}
