use jwt_guard::{Token, require_token};

#[require_token(fresh, optional)]
async fn handler(token: Option<Token>) -> String {
    token.map(|t| t.sub().to_owned()).unwrap_or_default()
}

fn main() {}
