//! Tokens made by hand (base64, JSON text and raw signatures, not the
//! library's encoder), for the cases the library would never issue: the
//! attack suite, the limits and the property tests.

use std::time::UNIX_EPOCH;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use crate::common::*;

pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The time of every test manager's clock ([`TestClock::new`]), in
/// seconds: it never moves, so no case depends on when it runs.
pub fn now() -> u64 {
    use jwt_guard::Clock as _;
    TestClock::new()
        .now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid claims of an access token for `sub`, as a JSON object: fresh,
/// with the scope `{"admin": false}`. Made of constants, so a token signed
/// over them is the same bytes on every run, and so is its signature.
pub fn claims(sub: &str) -> Value {
    let now = now();
    json!({
        "iss": "test", "sub": sub, "iat": now, "nbf": now, "exp": now + 600,
        "jti": format!("hand-made-{sub}"), "type": "access", "fresh": true,
        "scope": {"admin": false},
    })
}

/// Alice's claims as JSON text, with each `(from, to)` of `replace`
/// applied once to the text.
pub fn claims_text(replace: &[(&str, &str)]) -> String {
    let mut text = claims("alice").to_string();
    for (from, to) in replace {
        assert!(text.contains(from), "{text} lacks {from}");
        text = text.replacen(from, to, 1);
    }
    text
}

pub fn signing_input(header: &str, payload: &str) -> String {
    format!("{}.{}", b64(header), b64(payload))
}

/// Signs `header.payload` (raw JSON text, kept byte for byte) with `key`.
pub fn sign_raw(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let input = signing_input(header, payload);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{signature}")
}

pub fn hs256(header: &str, payload: &str, secret: &[u8]) -> String {
    sign_raw(
        header,
        payload,
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
}

/// Signed with the test manager's own secret: only the header or claims
/// policy can refuse it.
pub fn genuine_hs(header: &str, payload: &str) -> String {
    hs256(header, payload, SECRET.as_bytes())
}

pub const HS_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Alice's valid claims with one claim set to `value`, signed with the
/// manager's own secret: only the claims policy can refuse it.
pub fn alice_with(name: &str, value: Value) -> String {
    let mut claims = claims("alice");
    claims[name] = value;
    genuine_hs(HS_HEADER, &claims.to_string())
}

/// Alice's valid claims without `name`, signed with the manager's secret.
pub fn alice_without(name: &str) -> String {
    let mut claims = claims("alice");
    claims.as_object_mut().unwrap().remove(name);
    genuine_hs(HS_HEADER, &claims.to_string())
}

pub fn with_signature(token: &str, signature: &str) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{signature}")
}

pub fn signature_bytes(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token.rsplit('.').next().unwrap())
        .unwrap()
}

/// A token's header, as JSON.
pub fn header_json(token: &str) -> Value {
    let header = token.split('.').next().unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap()
}
