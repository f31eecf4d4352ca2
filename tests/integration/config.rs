//! Configuration: environment variables, start-up errors naming the
//! setting, the error handler, and server misconfiguration (500, never open).

use std::collections::HashMap;

use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::get;
use jwt_guard::{Location, TokenManager, TokenManagerBuilder, require_token};

use crate::common::*;

fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |name| map.get(name).cloned()
}

/// As long as the SHA-384 hash, the shortest HS384 accepts.
const SECRET_48: &str = "an HS384 test secret, as long as its hash: 48 B.";

#[require_token(sub = "username")]
async fn user(Path(username): Path<String>) -> String {
    username
}

#[tokio::test]
async fn from_env_reads_every_setting() {
    let manager = TokenManagerBuilder::from_env_with(env(&[
        ("JWT_GUARD_SECRET", SECRET_48),
        ("JWT_GUARD_ALGORITHM", "HS384"),
        ("JWT_GUARD_ISSUER", "env-api"),
        ("JWT_GUARD_AUDIENCE", "env-clients"),
        ("JWT_GUARD_ACCESS_TTL", "5m"),
        ("JWT_GUARD_LOCATIONS", "cookie, header"),
        ("JWT_GUARD_REALM", "env realm"),
    ]))
    .unwrap()
    .build()
    .unwrap();
    let token = manager.access_token("alice").sign().unwrap();
    assert_eq!(token.expires_in(), 300);
    let verified = manager
        .verify(token.as_str(), jwt_guard::TokenKind::Access)
        .await
        .unwrap();
    assert_eq!(verified.claim::<String>("iss").as_deref(), Some("env-api"));
    assert_eq!(
        verified.claim::<String>("aud").as_deref(),
        Some("env-clients")
    );
    let reply = send(&me_app(&manager), req("/me", None)).await;
    assert_eq!(reply.challenge(), Some(r#"Bearer realm="env realm""#));
    let debug = format!("{manager:?}");
    assert!(
        debug.contains("HS384") && debug.contains("[Cookie, Header]"),
        "{debug}"
    );
}

#[test]
fn from_env_errors_name_the_variable() {
    let cases: [(&[(&str, &str)], &str); 7] = [
        (&[], "key"),
        (&[("JWT_GUARD_SECRET", "short")], "JWT_GUARD_SECRET"),
        (
            &[
                ("JWT_GUARD_SECRET", SECRET),
                ("JWT_GUARD_ALGORITHM", "none"),
            ],
            "JWT_GUARD_ALGORITHM",
        ),
        (
            &[
                ("JWT_GUARD_SECRET", SECRET),
                ("JWT_GUARD_ACCESS_TTL", "soon"),
            ],
            "JWT_GUARD_ACCESS_TTL",
        ),
        (
            &[
                ("JWT_GUARD_SECRET", SECRET),
                ("JWT_GUARD_LOCATIONS", "header,body"),
            ],
            "JWT_GUARD_LOCATIONS",
        ),
        (
            &[("JWT_GUARD_ALGORITHM", "RS256")],
            "JWT_GUARD_PRIVATE_KEY_FILE",
        ),
        (
            &[
                ("JWT_GUARD_ALGORITHM", "RS256"),
                ("JWT_GUARD_PRIVATE_KEY_FILE", "/nonexistent/key.pem"),
                ("JWT_GUARD_PUBLIC_KEY_FILE", "/nonexistent/key.pub"),
            ],
            "JWT_GUARD_PRIVATE_KEY_FILE",
        ),
    ];
    for (vars, setting) in cases {
        check(vars, setting);
    }
    // Values that read well but are out of range name the variable too, not
    // the builder setting; absurd numbers are errors, never a wrap-around.
    for (var, value) in [
        ("JWT_GUARD_LEEWAY", "10m"),
        ("JWT_GUARD_LOCATIONS", "header,header"),
        ("JWT_GUARD_ACCESS_TTL", "400d"),
        ("JWT_GUARD_ACCESS_TTL", "0"),
        ("JWT_GUARD_REFRESH_TTL", "99999999999999999999d"),
        ("JWT_GUARD_REFRESH_TTL", "213503982334601d"),
        ("JWT_GUARD_REFRESH_TTL", "18446744073709551615"),
        ("JWT_GUARD_MAX_TOKEN_BYTES", "100"),
        ("JWT_GUARD_KEY_ID", "key\"1"),
    ] {
        check(&[("JWT_GUARD_SECRET", SECRET), (var, value)], var);
    }
}

#[track_caller]
fn check(vars: &[(&str, &str)], setting: &str) {
    {
        let err = TokenManagerBuilder::from_env_with(env(vars))
            .and_then(TokenManagerBuilder::build)
            .unwrap_err();
        assert_eq!(err.setting(), setting, "{err}");
        assert!(!err.to_string().contains(SECRET));
    }
}

#[test]
fn from_env_reads_pem_files() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys");
    let private = format!("{dir}/ec256-private.pem");
    let public = format!("{dir}/ec256-public.pem");
    let manager = TokenManagerBuilder::from_env_with(env(&[
        ("JWT_GUARD_ALGORITHM", "ES256"),
        ("JWT_GUARD_PRIVATE_KEY_FILE", &private),
        ("JWT_GUARD_PUBLIC_KEY_FILE", &public),
        ("JWT_GUARD_KEY_ID", "2026-11"),
    ]))
    .unwrap()
    .build()
    .unwrap();
    let token = manager.access_token("a").sign().unwrap();
    let header = token.as_str().split('.').next().unwrap();
    use base64::Engine as _;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<serde_json::Value>(&header).unwrap(),
        serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": "2026-11"})
    );
}

#[test]
fn bad_settings_fail_at_build() {
    let cases: Vec<(TokenManagerBuilder, &str)> = vec![
        (TokenManager::builder(), "key"),
        (
            builder().leeway(std::time::Duration::from_secs(3600)),
            "leeway",
        ),
        (
            builder().access_ttl(std::time::Duration::ZERO),
            "access_ttl",
        ),
        (
            builder().refresh_ttl(std::time::Duration::ZERO),
            "refresh_ttl",
        ),
        (builder().locations([]), "locations"),
        (
            builder().locations([Location::Header, Location::Header]),
            "locations",
        ),
        (builder().max_token_bytes(10), "max_token_bytes"),
        (builder().issuer(""), "issuer"),
    ];
    for (builder, setting) in cases {
        assert_eq!(builder.build().unwrap_err().setting(), setting);
    }
}

#[tokio::test]
async fn the_error_handler_replaces_the_response() {
    let m = builder()
        .error_handler(|err| {
            (
                err.status(),
                format!("custom: {}", err.code().unwrap_or("none")),
            )
                .into_response()
        })
        .build()
        .unwrap();
    let app = me_app(&m);
    let reply = send(&app, req("/me", None)).await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (StatusCode::UNAUTHORIZED, "custom: none")
    );
    let reply = send(&app, req("/me", Some("a.b.c"))).await;
    assert_eq!(
        (reply.status, reply.text.as_str()),
        (StatusCode::UNAUTHORIZED, "custom: invalid_token")
    );
}

#[tokio::test]
async fn no_manager_is_a_500_never_a_pass() {
    let app = Router::new().route("/me", get(me));
    let reply = send(&app, req("/me", Some(&access(&manager(), "alice")))).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.challenge(), None);
    assert_eq!(reply.error().0, "server_error");
}

#[tokio::test]
async fn a_route_without_the_named_parameter_is_a_500() {
    let m = manager();
    // The route names `{name}`; the handler asks for `{username}`.
    let app = Router::new()
        .route("/users/{name}", get(user))
        .layer(m.layer());
    let reply = get_with(&app, "/users/alice", &access(&m, "alice")).await;
    assert_eq!(reply.status, 500);
    assert_eq!(reply.challenge(), None);
}

#[test]
fn issuing_refuses_reserved_claims_and_bad_scopes() {
    let m = manager();
    for name in ["sub", "exp", "type", "scope", "fresh", "jti"] {
        let err = m.access_token("a").claim(name, 1).sign().unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
    assert!(
        m.access_token("a")
            .scope(serde_json::json!([1]))
            .sign()
            .is_err()
    );
    assert!(m.access_token("a").scope(true).sign().is_err());
}
