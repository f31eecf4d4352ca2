use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use jwt_guard::__private::{Binding, Requirement};
use jwt_guard::require_token;

#[derive(serde::Deserialize)]
struct Params {
    user: String,
    id: u64,
}

// A destructured struct binds its fields by name.
#[require_token(sub = "user")]
async fn handler(Path(Params { user, .. }): Path<Params>) -> String {
    user
}

// A field bound to another name is still read by its own.
#[require_token(sub = "user")]
async fn renamed(Path(Params { user: name, id }): Path<Params>) -> String {
    format!("{name} {id}")
}

// The guard compares the value the handler receives: a field, by name.
const _: () = assert!(matches!(
    <__jwt_guard_handler as Requirement>::SPEC.path[0].binding,
    Binding::Name
));
const _: () = assert!(matches!(
    <__jwt_guard_renamed as Requirement>::SPEC.path[0].binding,
    Binding::Name
));

fn main() {
    let _app: Router = Router::new()
        .route("/users/{user}/posts/{id}", get(handler))
        .route("/renamed/{user}/posts/{id}", get(renamed));
}
