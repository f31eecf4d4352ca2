use axum::Extension;
use jwt_guard::require_token;

// axum takes 16 extractors; the guard is one of them.
#[require_token]
async fn handler(
    Extension(a): Extension<u8>,
    Extension(b): Extension<u16>,
    Extension(c): Extension<u32>,
    Extension(d): Extension<u64>,
    Extension(e): Extension<i8>,
    Extension(f): Extension<i16>,
    Extension(g): Extension<i32>,
    Extension(h): Extension<i64>,
    Extension(i): Extension<u128>,
    Extension(j): Extension<i128>,
    Extension(k): Extension<usize>,
    Extension(l): Extension<isize>,
    Extension(m): Extension<bool>,
    Extension(n): Extension<char>,
    Extension(o): Extension<String>,
    Extension(p): Extension<&'static str>,
) -> String {
    format!("{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}{m}{n}{o}{p}")
}

fn main() {}
