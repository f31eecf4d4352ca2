use axum::extract::Path;
use jwt_guard::require_token;

#[derive(serde::Deserialize)]
struct Params {
    id: u64,
}

#[require_token(sub = "username")]
async fn handler(Path(params): Path<Params>) -> String {
    params.id.to_string()
}

fn main() {}
