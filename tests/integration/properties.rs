//! Property tests: no input makes the verifier panic or pass, and inputs
//! close to a genuine token reach the code under test and are refused for
//! the reason the specification gives.

use std::future::Future;

use axum::body::Body;
use axum::http::{HeaderValue, Request, header};
use jwt_guard::{AuthError, InvalidRequest, InvalidToken, TokenKind, TokenManager};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

use crate::common::*;
use crate::forge::*;

fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(future)
}

/// The `sub` of `token` if the manager accepts it as an access token.
fn verify(manager: &TokenManager, token: &str) -> Result<String, AuthError> {
    block_on(manager.verify(token, TokenKind::Access)).map(|t| t.sub().to_owned())
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        "\\PC{0,4}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,4}", inner, 0..4)
                .prop_map(|members| Value::Object(members.into_iter().collect())),
        ]
    })
}

/// The members the verifier refuses, however the header is otherwise made.
const REFUSED: [&str; 5] = ["crit", "b64", "zip", "cty", "enc"];

/// A JOSE header object: an `alg` (mostly the key's own, so the signature
/// and claims code runs), and members with names the verifier reads,
/// refuses or skips, each with any JSON value.
fn jose_header() -> impl Strategy<Value = Map<String, Value>> {
    let alg = prop_oneof![
        6 => Just(json!("HS256")),
        1 => prop::sample::select(vec!["HS384", "HS512", "RS256", "none", "", "hs256", "HS256 "])
            .prop_map(Value::from),
        1 => json_value(),
    ];
    let known = prop::sample::select(vec![
        "typ", "kid", "jwk", "jku", "x5u", "x5c", "x5t", "crit", "b64", "zip", "cty", "enc",
    ])
    .prop_map(str::to_owned);
    let name = prop_oneof![3 => "[a-z]{1,5}", 1 => known];
    // A string `kid` and a long member are rare among random members: give
    // them their own chance, so the `kid` check and the size bound run.
    let kid = prop::option::weighted(0.15, "[ -~]{0,8}");
    let pad = prop::option::weighted(0.15, 420..560usize);
    (
        alg,
        prop::collection::btree_map(name, json_value(), 0..4),
        kid,
        pad,
    )
        .prop_map(|(alg, members, kid, pad)| {
            let mut header: Map<String, Value> = members.into_iter().collect();
            header.insert("alg".to_owned(), alg);
            if let Some(kid) = kid {
                header.insert("kid".to_owned(), kid.into());
            }
            if let Some(pad) = pad {
                header.insert("pad".to_owned(), "x".repeat(pad).into());
            }
            header
        })
}

/// What the verifier must answer to `header` (as `text`) over valid claims
/// signed with the manager's key: RFC 7515 §4 as SECURITY.md reads it.
fn expected(header: &Map<String, Value>, text: &str) -> Result<String, AuthError> {
    let refuse = |reason: InvalidToken| Err(AuthError::InvalidToken(reason));
    if text.len() > 512 {
        return refuse(InvalidToken::TooLarge);
    }
    let kid = header.get("kid");
    if header.keys().any(|name| REFUSED.contains(&name.as_str()))
        || !header["alg"].is_string()
        || kid.is_some_and(|kid| !kid.is_string())
    {
        return refuse(InvalidToken::Header);
    }
    if kid.is_some() {
        // The `kid` chooses the key, and the test manager's has none.
        return refuse(InvalidToken::UnknownKey);
    }
    if header["alg"] != "HS256" {
        return refuse(InvalidToken::Algorithm);
    }
    Ok("alice".to_owned())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_pass(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let manager = manager();
        let text = String::from_utf8_lossy(&bytes);
        prop_assert!(verify(&manager, &text).is_err());
    }

    #[test]
    fn arbitrary_three_part_tokens_never_pass(
        header in "[A-Za-z0-9_-]{0,60}",
        payload in "[A-Za-z0-9_-]{0,200}",
        signature in "[A-Za-z0-9_-]{0,90}",
    ) {
        let manager = manager();
        let token = format!("{header}.{payload}.{signature}");
        prop_assert!(verify(&manager, &token).is_err());
    }

    #[test]
    fn every_header_is_read_as_the_specification_says(header in jose_header()) {
        let manager = manager();
        let text = Value::Object(header.clone()).to_string();
        let token = genuine_hs(&text, &claims("alice").to_string());
        prop_assert_eq!(verify(&manager, &token), expected(&header, &text), "{}", text);
    }
}

/// Whether a token changed at `at` to `byte` was refused where it must
/// be: before any claim is read. A change in the payload is caught by the
/// signature alone (a `.` added or removed leaves no three parts); a change in
/// the header or the signature by their own checks or the signature's.
fn refused_before_the_claims(genuine: &str, at: usize, byte: u8, error: &AuthError) -> bool {
    let header = genuine.find('.').unwrap();
    let signature = genuine.rfind('.').unwrap();
    let AuthError::InvalidToken(reason) = error else {
        return false;
    };
    // A `.` added or taken away: not three parts.
    if byte == b'.' || at == header || at == signature {
        return *reason == InvalidToken::Malformed;
    }
    if (header..signature).contains(&at) {
        return *reason == InvalidToken::Signature;
    }
    matches!(
        reason,
        InvalidToken::Malformed
            | InvalidToken::Header
            | InvalidToken::Algorithm
            | InvalidToken::UnknownKey
            | InvalidToken::Signature
    )
}

#[test]
fn every_single_byte_change_is_refused_before_the_claims() {
    // Every position of a genuine token, every other byte value: ASCII
    // through `verify`, the rest (which no `&str` can hold at one byte)
    // through the `Authorization` header, where it is a malformed request
    // before the token is even read.
    let manager = manager();
    let genuine = access(&manager, "alice");
    assert_eq!(verify(&manager, &genuine), Ok("alice".to_owned()));
    let app = me_app(&manager);
    block_on(async {
        for at in 0..genuine.len() {
            for byte in 0..=u8::MAX {
                let mut bytes = genuine.clone().into_bytes();
                if bytes[at] == byte {
                    continue;
                }
                bytes[at] = byte;
                if byte.is_ascii() {
                    let tampered = String::from_utf8(bytes).unwrap();
                    let error = manager
                        .verify(&tampered, TokenKind::Access)
                        .await
                        .unwrap_err();
                    assert!(
                        refused_before_the_claims(&genuine, at, byte, &error),
                        "byte {byte:#04x} at {at}: {error:?}"
                    );
                } else {
                    let mut value = b"Bearer ".to_vec();
                    value.extend_from_slice(&bytes);
                    let request = Request::get("/me")
                        .header(
                            header::AUTHORIZATION,
                            HeaderValue::from_bytes(&value).unwrap(),
                        )
                        .body(Body::empty())
                        .unwrap();
                    send(&app, request)
                        .await
                        .refused(InvalidRequest::BadHeader, &[&genuine]);
                }
            }
        }
    });
}
