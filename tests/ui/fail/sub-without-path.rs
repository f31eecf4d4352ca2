use jwt_guard::{Token, require_token};

#[require_token(sub = "username")]
async fn handler(token: Token) -> String {
    token.sub().to_owned()
}

fn main() {}
