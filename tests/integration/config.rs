//! Configuration: environment variables, start-up errors naming the
//! setting, the error handler, and server misconfiguration (500, never open).

use std::collections::HashMap;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use jwt_guard::{
    AuthError, InvalidToken, Location, TokenKind, TokenManager, TokenManagerBuilder, require_token,
};
use serde_json::json;

use crate::common::*;
use crate::forge::header_json;

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
async fn user(Path(username): Path<String>) -> Ran<String> {
    Ran(username)
}

/// A manager read from `vars`, on a clock the test moves.
fn from_env(vars: &[(&str, &str)], clock: &TestClock) -> TokenManager {
    TokenManagerBuilder::from_env_with(env(vars))
        .unwrap()
        .clock(clock.clone())
        .build()
        .unwrap()
}

#[tokio::test]
async fn from_env_reads_every_setting() {
    let clock = TestClock::new();
    let manager = from_env(
        &[
            ("JWT_GUARD_SECRET", SECRET_48),
            ("JWT_GUARD_ALGORITHM", "HS384"),
            ("JWT_GUARD_KEY_ID", "2026-11"),
            ("JWT_GUARD_ISSUER", "env-api"),
            ("JWT_GUARD_AUDIENCE", "env-clients"),
            ("JWT_GUARD_ACCESS_TTL", "5m"),
            ("JWT_GUARD_REFRESH_TTL", "2h"),
            ("JWT_GUARD_LEEWAY", "45s"),
            ("JWT_GUARD_LOCATIONS", "cookie, header"),
            ("JWT_GUARD_REALM", "env realm"),
            ("JWT_GUARD_MAX_TOKEN_BYTES", "4096"),
        ],
        &clock,
    );
    let token = manager.access_token("alice").sign().unwrap();
    let refresh = manager.refresh_token("alice").sign().unwrap();
    assert_eq!((token.expires_in(), refresh.expires_in()), (300, 7200));
    assert_eq!(
        header_json(token.as_str()),
        json!({"alg": "HS384", "typ": "JWT", "kid": "2026-11"})
    );
    let verified = manager
        .verify(token.as_str(), TokenKind::Access)
        .await
        .unwrap();
    assert_eq!(verified.claim::<String>("iss").as_deref(), Some("env-api"));
    assert_eq!(
        verified.claim::<String>("aud").as_deref(),
        Some("env-clients")
    );
    let app = me_app(&manager);
    send(&app, req("/me", None))
        .await
        .assert_refused("env realm", AuthError::Missing, &[]);
    // The cookie is read first, the header second.
    let bob = manager.access_token("bob").sign().unwrap();
    let request = Request::get("/me")
        .header(
            header::COOKIE,
            format!("__Host-access_token={}", token.as_str()),
        )
        .header(header::AUTHORIZATION, format!("Bearer {}", bob.as_str()))
        .body(Body::empty())
        .unwrap();
    send(&app, request).await.assert_ok("alice");
    // The leeway: 44 s past `exp` is still valid, 45 s is not.
    clock.advance(Duration::from_secs(300 + 44));
    get_with(&app, "/me", token.as_str())
        .await
        .assert_ok("alice");
    clock.advance(Duration::from_secs(1));
    get_with(&app, "/me", token.as_str()).await.assert_refused(
        "env realm",
        InvalidToken::Expired,
        &[token.as_str()],
    );
}

#[test]
fn every_duration_suffix() {
    let clock = TestClock::new();
    for (value, seconds) in [
        ("90", 90),
        ("90s", 90),
        ("15m", 900),
        ("12h", 43_200),
        ("2d", 172_800),
        (" 7m ", 420),
    ] {
        let manager = from_env(
            &[
                ("JWT_GUARD_SECRET", SECRET),
                ("JWT_GUARD_REFRESH_TTL", value),
            ],
            &clock,
        );
        let refresh = manager.refresh_token("alice").sign().unwrap();
        assert_eq!(refresh.expires_in(), seconds, "{value:?}");
    }
    for value in ["90 s", "1w", "-1", "m", "1.5h", "15M"] {
        check(
            &[("JWT_GUARD_SECRET", SECRET), ("JWT_GUARD_LEEWAY", value)],
            "JWT_GUARD_LEEWAY",
        );
    }
}

#[tokio::test]
async fn the_defaults() {
    // Only a secret: access tokens live 15 minutes, refresh tokens 30 days,
    // the leeway is 30 s, tokens are read from the header, and the realm is
    // "api".
    let clock = TestClock::new();
    // No key by default: the program decides (the blog generates one).
    assert!(
        !TokenManagerBuilder::from_env_with(env(&[]))
            .unwrap()
            .has_key()
    );
    let manager = from_env(&[("JWT_GUARD_SECRET", SECRET)], &clock);
    assert!(builder().has_key());
    let token = manager.access_token("alice").sign().unwrap();
    let refresh = manager.refresh_token("alice").sign().unwrap();
    assert_eq!(
        (token.expires_in(), refresh.expires_in()),
        (15 * 60, 30 * 86_400)
    );
    assert_eq!(
        header_json(token.as_str()),
        json!({"alg": "HS256", "typ": "JWT"})
    );
    let app = me_app(&manager);
    send(&app, req("/me", None))
        .await
        .assert_refused("api", AuthError::Missing, &[]);
    let cookie = Request::get("/me")
        .header(
            header::COOKIE,
            format!("__Host-access_token={}", token.as_str()),
        )
        .body(Body::empty())
        .unwrap();
    send(&app, cookie)
        .await
        .assert_refused("api", AuthError::Missing, &[token.as_str()]);
    clock.advance(Duration::from_secs(15 * 60 + 29));
    get_with(&app, "/me", token.as_str())
        .await
        .assert_ok("alice");
    clock.advance(Duration::from_secs(1));
    get_with(&app, "/me", token.as_str()).await.assert_refused(
        "api",
        InvalidToken::Expired,
        &[token.as_str()],
    );
    // A realm of its own wins over the issuer.
    let realm = builder().realm("custom realm").build().unwrap();
    send(&me_app(&realm), req("/me", None))
        .await
        .assert_refused("custom realm", AuthError::Missing, &[]);
    // With an issuer, the realm is the issuer.
    let named = from_env(
        &[("JWT_GUARD_SECRET", SECRET), ("JWT_GUARD_ISSUER", "blog")],
        &clock,
    );
    send(&me_app(&named), req("/me", None))
        .await
        .assert_refused("blog", AuthError::Missing, &[]);
}

#[tokio::test]
async fn the_default_size_bound_is_8192_bytes() {
    // Tokens of exactly 8192 and 8193 bytes, from a manager of the same
    // secret that allows larger ones.
    let clock = TestClock::new();
    let default = from_env(&[("JWT_GUARD_SECRET", SECRET)], &clock);
    let issuer = TokenManager::builder()
        .hs256(SECRET)
        .max_token_bytes(64 * 1024)
        .clock(clock.clone())
        .build()
        .unwrap();
    let of_length = |bytes: usize| {
        (5000..7000)
            .map(|pad| {
                issuer
                    .access_token("alice")
                    .claim("pad", "x".repeat(pad))
                    .sign()
                    .unwrap()
                    .into_string()
            })
            .find(|token| token.len() == bytes)
            .unwrap_or_else(|| panic!("no token of {bytes} bytes"))
    };
    let app = me_app(&default);
    get_with(&app, "/me", &of_length(8192))
        .await
        .assert_ok("alice");
    let over = of_length(8193);
    get_with(&app, "/me", &over)
        .await
        .assert_refused("api", InvalidToken::TooLarge, &[&over]);
    // The variable moves the bound.
    let larger = from_env(
        &[
            ("JWT_GUARD_SECRET", SECRET),
            ("JWT_GUARD_MAX_TOKEN_BYTES", "8193"),
        ],
        &clock,
    );
    get_with(&me_app(&larger), "/me", &over)
        .await
        .assert_ok("alice");
}

#[test]
fn from_env_errors_name_the_variable() {
    let ec_private = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/keys/ec256-private.pem");
    let cases: [(&[(&str, &str)], &str); 9] = [
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
        (
            &[
                ("JWT_GUARD_ALGORITHM", "ES256"),
                ("JWT_GUARD_PRIVATE_KEY_FILE", ec_private),
            ],
            "JWT_GUARD_PUBLIC_KEY_FILE",
        ),
        (
            &[
                ("JWT_GUARD_ALGORITHM", "ES256"),
                ("JWT_GUARD_PRIVATE_KEY_FILE", ec_private),
                ("JWT_GUARD_PUBLIC_KEY_FILE", "/nonexistent/key.pub"),
            ],
            "JWT_GUARD_PUBLIC_KEY_FILE",
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
        ("JWT_GUARD_MAX_TOKEN_BYTES", "lots"),
        ("JWT_GUARD_REFRESH_TTL", "1y"),
        ("JWT_GUARD_REFRESH_ROTATION", "maybe"),
        // Without the Redis URL, a staleness bound is a mistake.
        ("JWT_GUARD_REDIS_MAX_STALENESS", "1s"),
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

#[tokio::test]
async fn from_env_reads_pem_files() {
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
    .clock(TestClock::new())
    .build()
    .unwrap();
    let token = manager.access_token("a").sign().unwrap();
    assert_eq!(
        header_json(token.as_str()),
        json!({"alg": "ES256", "typ": "JWT", "kid": "2026-11"})
    );
    let verified = manager
        .verify(token.as_str(), TokenKind::Access)
        .await
        .unwrap();
    assert_eq!(verified.sub(), "a");
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

#[test]
fn the_ranges_of_the_settings_are_exact() {
    let minute = std::time::Duration::from_secs(60);
    let second = std::time::Duration::from_secs(1);
    let builds = |b: TokenManagerBuilder| b.build().map(|_| ()).map_err(|e| e.setting().to_owned());
    let refused = |setting: &str| Err(setting.to_owned());
    // The leeway: at most 5 minutes.
    assert_eq!(builds(builder().leeway(5 * minute)), Ok(()));
    assert_eq!(
        builds(builder().leeway(5 * minute + second)),
        refused("leeway")
    );
    let err = builder().leeway(6 * minute).build().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid jwt-guard setting `leeway`: must be at most 5 minutes"
    );
    assert_eq!(err.reason(), "must be at most 5 minutes");
    // `max_token_bytes`: 256 to 65536.
    for (bytes, verdict) in [
        (255, refused("max_token_bytes")),
        (256, Ok(())),
        (65_536, Ok(())),
        (65_537, refused("max_token_bytes")),
    ] {
        assert_eq!(builds(builder().max_token_bytes(bytes)), verdict, "{bytes}");
    }
}

#[require_token(scope(admin = true))]
async fn admin() -> Ran<&'static str> {
    Ran("admin")
}

#[require_token(fresh)]
async fn fresh() -> Ran<&'static str> {
    Ran("fresh")
}

/// The guarded routes of the error-handler tests.
fn guarded(manager: &TokenManager) -> Router {
    Router::new()
        .route("/me", get(me))
        .route("/admin", get(admin))
        .route("/fresh", get(fresh))
        .layer(manager.layer())
}

#[tokio::test]
async fn the_error_handler_keeps_the_status_and_the_challenge() {
    // The handler writes the body; the status it keeps, and the challenge
    // is the one a manager without a handler sends, word for word.
    let custom = |b: TokenManagerBuilder| {
        b.error_handler(|err| {
            (
                err.status(),
                format!("custom: {}", err.code().unwrap_or("none")),
            )
                .into_response()
        })
        .build()
        .unwrap()
    };
    let with_handler = guarded(&custom(builder()));
    let without = guarded(&manager());
    let user = access(&manager(), "alice");
    let mut forged = user.clone();
    forged.push('A');
    for (uri, token, body) in [
        ("/me", None, "custom: none"),
        ("/me", Some(&forged), "custom: invalid_token"),
        (
            "/fresh",
            Some(&user),
            "custom: insufficient_user_authentication",
        ),
        ("/admin", Some(&user), "custom: insufficient_scope"),
    ] {
        let reply = send(&with_handler, req(uri, token.map(String::as_str))).await;
        let default = send(&without, req(uri, token.map(String::as_str))).await;
        assert_eq!(
            (reply.status, reply.text.as_str(), reply.ran()),
            (default.status, body, false)
        );
        assert!(default.challenge().is_some());
        assert_eq!(reply.challenge(), default.challenge(), "{uri}");
    }
    // A server error carries no challenge, with a handler or without.
    let failing = custom(builder().revocation_store(FailingStore("down")));
    let reply = send(&guarded(&failing), req("/me", Some(&user))).await;
    assert_eq!(
        (
            reply.status.as_u16(),
            reply.text.as_str(),
            reply.challenge()
        ),
        (503, "custom: none", None)
    );
    // A 503 kept by the handler keeps its Retry-After.
    assert_eq!(reply.headers.get("retry-after").unwrap(), "1");
}

#[tokio::test]
async fn a_401_from_the_error_handler_keeps_the_challenge() {
    // A handler that answers every refusal 401 still sends the refusal's
    // challenge, as RFC 9110 §11.6.1 requires of a 401.
    let m = builder()
        .error_handler(|_| StatusCode::UNAUTHORIZED.into_response())
        .build()
        .unwrap();
    let user = access(&m, "alice");
    let reply = send(&guarded(&m), req("/admin", Some(&user))).await;
    assert_eq!(
        (reply.status, reply.challenge()),
        (
            StatusCode::UNAUTHORIZED,
            Some(
                r#"Bearer realm="test", error="insufficient_scope", error_description="token scope lacks `admin`", scope="admin""#
            )
        )
    );
}

#[tokio::test]
async fn an_error_handler_may_answer_otherwise() {
    // A challenge of its own is kept; a response of another status (a
    // browser sent to the login page) gets none.
    let m = builder()
        .error_handler(|err| {
            if err.code().is_none() {
                (
                    StatusCode::SEE_OTHER,
                    [(header::LOCATION, HeaderValue::from_static("/login"))],
                )
                    .into_response()
            } else {
                (
                    err.status(),
                    [(
                        header::WWW_AUTHENTICATE,
                        HeaderValue::from_static(r#"Bearer realm="own""#),
                    )],
                )
                    .into_response()
            }
        })
        .build()
        .unwrap();
    let app = me_app(&m);
    let reply = send(&app, req("/me", None)).await;
    assert_eq!(
        (
            reply.status,
            reply.challenge(),
            reply.headers.get(header::LOCATION)
        ),
        (
            StatusCode::SEE_OTHER,
            None,
            Some(&HeaderValue::from_static("/login"))
        )
    );
    let reply = send(&app, req("/me", Some("a.b.c"))).await;
    assert_eq!(
        (reply.status, reply.challenge()),
        (StatusCode::UNAUTHORIZED, Some(r#"Bearer realm="own""#))
    );
}

#[tokio::test]
async fn no_manager_is_a_500_never_a_pass() {
    let app = Router::new().route("/me", get(me));
    let token = access(&manager(), "alice");
    send(&app, req("/me", Some(&token))).await.refused(
        AuthError::Misconfigured(
            "no TokenManager: add `manager.layer()` to the router or call `manager.install()`",
        ),
        &[&token],
    );
}

#[tokio::test]
async fn a_route_without_the_named_parameter_is_a_500() {
    let m = manager();
    // The route names `{name}`; the handler asks for `{username}`.
    let app = Router::new()
        .route("/users/{name}", get(user))
        .layer(m.layer());
    let token = access(&m, "alice");
    get_with(&app, "/users/alice", &token).await.refused(
        AuthError::Misconfigured("the route has no parameter of the name the handler binds"),
        &[&token],
    );
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

#[tokio::test]
async fn refresh_rotation_is_read_from_the_environment() {
    for (value, single_use) in [("true", true), ("on", true), ("false", false), ("0", false)] {
        let manager = from_env(
            &[
                ("JWT_GUARD_SECRET", SECRET),
                ("JWT_GUARD_REFRESH_ROTATION", value),
            ],
            &TestClock::new(),
        );
        let refresh = manager.refresh_token("alice").sign().unwrap();
        let refresh = manager
            .verify(refresh.as_str(), TokenKind::Refresh)
            .await
            .unwrap();
        manager.rotate(&refresh).await.unwrap();
        let again = manager.rotate(&refresh).await;
        assert_eq!(again.is_err(), single_use, "{value}: {again:?}");
    }
    // Off by default.
    let manager = from_env(&[("JWT_GUARD_SECRET", SECRET)], &TestClock::new());
    assert!(format!("{manager:?}").contains("refresh_rotation: false"));
}

/// The Redis settings name their variable, and a Redis URL never fails open:
/// without the `redis` feature it is refused, not ignored.
#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_settings_name_their_variable() {
    for (vars, setting) in [
        (
            vec![("JWT_GUARD_REDIS_URL", "http://127.0.0.1/")],
            "JWT_GUARD_REDIS_URL",
        ),
        (
            vec![
                ("JWT_GUARD_REDIS_URL", "redis://127.0.0.1:1/"),
                ("JWT_GUARD_REDIS_MAX_STALENESS", "10ms"),
            ],
            "JWT_GUARD_REDIS_MAX_STALENESS",
        ),
        (
            vec![
                ("JWT_GUARD_REDIS_URL", "redis://127.0.0.1:1/"),
                ("JWT_GUARD_REDIS_MAX_STALENESS", "soon"),
            ],
            "JWT_GUARD_REDIS_MAX_STALENESS",
        ),
    ] {
        let mut vars = vars;
        vars.push(("JWT_GUARD_SECRET", SECRET));
        check(&vars, setting);
    }
}

/// A Redis URL outside a tokio runtime cannot start its store: an error at
/// start-up naming the variable.
#[cfg(feature = "redis")]
#[test]
fn a_redis_store_needs_a_runtime() {
    let err = TokenManagerBuilder::from_env_with(env(&[
        ("JWT_GUARD_SECRET", SECRET),
        ("JWT_GUARD_REDIS_URL", "redis://127.0.0.1:1/"),
    ]))
    .unwrap_err();
    assert_eq!(err.setting(), "JWT_GUARD_REDIS_URL");
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

/// Unreachable at start: guarded requests are refused (503) rather than
/// let through while the store has not loaded its replica.
#[cfg(feature = "redis")]
#[tokio::test]
async fn an_unreachable_redis_refuses_rather_than_lets_through() {
    // Port 1 on loopback: nothing listens there.
    let manager = TokenManagerBuilder::from_env_with(env(&[
        ("JWT_GUARD_SECRET", SECRET),
        ("JWT_GUARD_REDIS_URL", "redis://127.0.0.1:1/"),
    ]))
    .unwrap()
    .build()
    .unwrap();
    let token = manager.access_token("alice").sign().unwrap();
    get_with(&me_app(&manager), "/me", token.as_str())
        .await
        .assert_refused(
            manager.realm(),
            AuthError::StoreUnavailable,
            &[token.as_str()],
        );
    // A revocation cannot be kept: the caller learns it.
    let plain = TokenManager::builder().hs256(SECRET).build().unwrap();
    let verified = plain
        .verify(token.as_str(), TokenKind::Access)
        .await
        .unwrap();
    assert!(manager.revoke(&verified).await.is_err());
}
