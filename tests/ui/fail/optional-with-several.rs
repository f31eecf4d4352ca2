use jwt_guard::{Token, require_token};

// One error, at `optional`, naming each requirement in the order written.
#[require_token(claims(tenant = "acme"), optional, scope("posts:write"), override(admin = true))]
async fn handler(token: Option<Token>) -> String {
    token.map(|t| t.sub().to_owned()).unwrap_or_default()
}

fn main() {}
