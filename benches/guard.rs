//! What the guard costs, measured side by side:
//!
//! - `issue/*`, `verify/*`: signing and verifying, per algorithm family;
//! - `decode_HS256/*`, `decode_RS256/*`: the guard's full path (find the
//!   token in the request, verify, check the requirement) and its verify
//!   alone, against a bare `jsonwebtoken::decode` of the same token with its
//!   key and validation prepared once;
//! - `router/*`: a `#[require_token]` handler against an unguarded one,
//!   through an axum Router;
//! - `transport/*`: a POST through an axum Router with the token in the
//!   `Authorization` header, against the same POST with the token in a
//!   cookie, which adds the origin and CSRF checks;
//! - `signature_cache_RS256/*`, `signature_cache_ES256/*`: `verify` with the
//!   verified-signature cache off, on for a token seen once (`cold`: the
//!   cache is emptied before each call, which costs more than the first
//!   sight of a token does), and on for a repeated token (`warm`).
//!
//! Every other group verifies with the cache off: they measure the
//! signature check itself.
//!
//! `cargo bench --bench guard`; see BENCHMARKS.md for results.

// `criterion_group!` generates undocumented functions.
#![allow(missing_docs)]

use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::Router;
use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::{Request, header};
use axum::routing::{get, post};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_guard::{Location, Token, TokenKind, TokenManager, require_token};
use serde::Deserialize;
use tower::ServiceExt as _;

const SECRET: &str = "a benchmark secret of at least thirty-two bytes";

fn key(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn managers() -> Vec<(&'static str, TokenManager)> {
    let b = || TokenManager::builder().issuer("bench").signature_cache(0);
    vec![
        ("HS256", b().hs256(SECRET).build().unwrap()),
        (
            "RS256",
            b().rs256_pem(key("rsa-private"), key("rsa-public"))
                .build()
                .unwrap(),
        ),
        (
            "PS256",
            b().ps256_pem(key("rsa-private"), key("rsa-public"))
                .build()
                .unwrap(),
        ),
        (
            "ES256",
            b().es256_pem(key("ec256-private"), key("ec256-public"))
                .build()
                .unwrap(),
        ),
        (
            "EdDSA",
            b().ed25519_pem(key("ed25519-private"), key("ed25519-public"))
                .build()
                .unwrap(),
        ),
    ]
}

/// The in-memory revocation store answers at once: one poll finishes.
fn now<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => unreachable!("nothing here waits"),
    }
}

fn token(manager: &TokenManager) -> String {
    manager
        .access_token("alice")
        .claim("tenant", "acme")
        .sign()
        .unwrap()
        .into_string()
}

fn issue(c: &mut Criterion) {
    let mut group = c.benchmark_group("issue");
    for (alg, manager) in managers() {
        group.bench_function(alg, |b| {
            b.iter(|| manager.access_token(black_box("alice")).sign().unwrap());
        });
    }
    group.finish();
}

fn verify(c: &mut Criterion) {
    let mut group = c.benchmark_group("verify");
    for (alg, manager) in managers() {
        let token = token(&manager);
        group.bench_function(alg, |b| {
            b.iter(|| now(manager.verify(black_box(&token), TokenKind::Access)).unwrap());
        });
    }
    group.finish();
}

/// What a hand-written extractor typically decodes into.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Claims {
    sub: String,
    jti: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    iss: String,
    #[serde(rename = "type")]
    kind: String,
    fresh: bool,
    tenant: String,
}

fn decode_comparison(c: &mut Criterion) {
    for (alg, manager) in managers()
        .into_iter()
        .filter(|(a, _)| ["HS256", "RS256"].contains(a))
    {
        let token = token(&manager);
        let (algorithm, key) = if alg == "HS256" {
            (
                Algorithm::HS256,
                DecodingKey::from_secret(SECRET.as_bytes()),
            )
        } else {
            (
                Algorithm::RS256,
                DecodingKey::from_rsa_pem(&key("rsa-public")).unwrap(),
            )
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&["bench"]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        let bearer = format!("Bearer {token}");

        let mut group = c.benchmark_group(format!("decode_{alg}"));
        group.bench_function("jsonwebtoken_decode", |b| {
            b.iter(|| {
                jsonwebtoken::decode::<Claims>(black_box(&token), &key, &validation).unwrap()
            });
        });
        group.bench_function("jwt_guard_verify", |b| {
            b.iter(|| now(manager.verify(black_box(&token), TokenKind::Access)).unwrap());
        });
        group.bench_function("jwt_guard_full_guard", |b| {
            b.iter_batched(
                || {
                    let (mut parts, ()) = Request::get("/")
                        .header(header::AUTHORIZATION, &bearer)
                        .body(())
                        .unwrap()
                        .into_parts();
                    parts.extensions.insert(manager.clone());
                    parts
                },
                |mut parts| now(Token::from_request_parts(&mut parts, &())).unwrap(),
                BatchSize::SmallInput,
            );
        });
        group.finish();
    }
}

#[require_token]
async fn guarded() -> &'static str {
    "hello"
}

async fn unguarded() -> &'static str {
    "hello"
}

fn router(c: &mut Criterion) {
    let manager = TokenManager::builder()
        .issuer("bench")
        .hs256(SECRET)
        .build()
        .unwrap();
    let bearer = format!("Bearer {}", token(&manager));
    let app = Router::new()
        .route("/guarded", get(guarded))
        .route("/unguarded", get(unguarded))
        .layer(manager.layer());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("router");
    for path in ["/unguarded", "/guarded"] {
        group.bench_function(&path[1..], |b| {
            b.iter(|| {
                let request = Request::get(path)
                    .header(header::AUTHORIZATION, &bearer)
                    .body(Body::empty())
                    .unwrap();
                let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
                assert!(response.status().is_success());
            });
        });
    }
    group.finish();
}

fn transport(c: &mut Criterion) {
    let manager = TokenManager::builder()
        .issuer("bench")
        .hs256(SECRET)
        .locations([Location::Header, Location::Cookie])
        .build()
        .unwrap();
    let issued = manager.access_token("alice").sign().unwrap();
    let bearer = format!("Bearer {}", issued.as_str());
    let cookies = format!(
        "__Host-access_token={}; __Host-csrf_access_token={}",
        issued.as_str(),
        issued.jti()
    );
    let app = Router::new()
        .route("/guarded", post(guarded))
        .layer(manager.layer());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("transport");
    let cases: [(&str, &[(header::HeaderName, &str)]); 2] = [
        (
            "header",
            &[
                (header::HOST, "api.example.com"),
                (header::ORIGIN, "https://api.example.com"),
                (header::AUTHORIZATION, &bearer),
            ],
        ),
        (
            "cookie_origin_csrf",
            &[
                (header::HOST, "api.example.com"),
                (header::ORIGIN, "https://api.example.com"),
                (header::COOKIE, &cookies),
                (
                    header::HeaderName::from_static("x-csrf-token"),
                    issued.jti(),
                ),
            ],
        ),
    ];
    for (name, headers) in cases {
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut request = Request::post("/guarded");
                for (name, value) in headers {
                    request = request.header(name, *value);
                }
                let request = request.body(Body::empty()).unwrap();
                let response = runtime.block_on(app.clone().oneshot(request)).unwrap();
                assert!(response.status().is_success());
            });
        });
    }
    group.finish();
}

fn signature_cache(c: &mut Criterion) {
    let rs = || {
        TokenManager::builder()
            .issuer("bench")
            .rs256_pem(key("rsa-private"), key("rsa-public"))
    };
    let es = || {
        TokenManager::builder()
            .issuer("bench")
            .es256_pem(key("ec256-private"), key("ec256-public"))
    };
    let pairs = [
        ("RS256", rs().signature_cache(0), rs()),
        ("ES256", es().signature_cache(0), es()),
    ];
    for (alg, off, on) in pairs {
        let (off, on) = (off.build().unwrap(), on.build().unwrap());
        let token = token(&on);
        let mut group = c.benchmark_group(format!("signature_cache_{alg}"));
        group.bench_function("off", |b| {
            b.iter(|| now(off.verify(black_box(&token), TokenKind::Access)).unwrap());
        });
        group.bench_function("cold", |b| {
            b.iter(|| {
                on.forget_signatures();
                now(on.verify(black_box(&token), TokenKind::Access)).unwrap()
            });
        });
        group.bench_function("warm", |b| {
            b.iter(|| now(on.verify(black_box(&token), TokenKind::Access)).unwrap());
        });
        group.finish();
    }
}

criterion_group!(
    benches,
    issue,
    verify,
    decode_comparison,
    router,
    transport,
    signature_cache
);
criterion_main!(benches);
