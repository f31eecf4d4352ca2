use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::require_token;

#[derive(serde::Deserialize)]
struct Params {
    r#type: String,
}

// The struct's field is `r#type`; the route's parameter, `type`.
#[require_token(path(kind = "type"))]
async fn handler(Path(params): Path<Params>) -> String {
    params.r#type
}

fn main() {
    let _app: Router = Router::new().route("/kinds/{type}", get(handler));
}
