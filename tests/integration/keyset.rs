//! Key sets: one key signs, several verify, each chosen by `kid`; rotation,
//! retirement, the published JWK Set and its route, and the
//! verified-signature cache.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use jwt_guard::{InvalidToken, TokenKind, TokenManager, TokenManagerBuilder};
use serde_json::{Value, json};

use crate::common::*;
use crate::forge::{claims, sign_raw};

/// A manager that signs with `ec256` as `2026-11`; `ec256b`'s public key
/// (`2026-05`) and `rsa` (`rsa-1`) only verify.
fn rotated() -> TokenManagerBuilder {
    builder_es("ec256", "2026-11")
        .verify_key_pem("2026-05", Algorithm::ES256, key("ec256b-public"))
        .verify_key_pem("rsa-1", Algorithm::RS256, key("rsa-public"))
}

fn builder_es(name: &str, kid: &str) -> TokenManagerBuilder {
    TokenManager::builder()
        .issuer("test")
        .clock(TestClock::new())
        .es256_pem(
            key(&format!("{name}-private")),
            key(&format!("{name}-public")),
        )
        .key_id(kid)
}

/// Alice's valid claims signed by `private` with `header`.
fn signed(header: Value, private: &str, alg: Algorithm) -> String {
    let key = match alg {
        Algorithm::RS256 => EncodingKey::from_rsa_pem(&key(private)).unwrap(),
        _ => EncodingKey::from_ec_pem(&key(private)).unwrap(),
    };
    sign_raw(&header.to_string(), &claims("alice").to_string(), &key, alg)
}

fn header(alg: &str, kid: Option<&str>) -> Value {
    match kid {
        Some(kid) => json!({ "alg": alg, "typ": "JWT", "kid": kid }),
        None => json!({ "alg": alg, "typ": "JWT" }),
    }
}

#[tokio::test]
async fn issued_tokens_name_their_key_and_every_configured_key_verifies() {
    let manager = rotated().build().unwrap();
    let issued = manager.access_token("alice").sign().unwrap();
    let header = crate::forge::header_json(issued.as_str());
    assert_eq!(
        header,
        json!({ "alg": "ES256", "typ": "JWT", "kid": "2026-11" })
    );

    let app = me_app(&manager);
    get_with(&app, "/me", issued.as_str())
        .await
        .assert_ok("alice");
    // A token of the previous key, and one of the RSA key, each by its kid.
    let old = signed(
        header_of("ES256", "2026-05"),
        "ec256b-private",
        Algorithm::ES256,
    );
    get_with(&app, "/me", &old).await.assert_ok("alice");
    let rsa = signed(header_of("RS256", "rsa-1"), "rsa-private", Algorithm::RS256);
    get_with(&app, "/me", &rsa).await.assert_ok("alice");
}

fn header_of(alg: &str, kid: &str) -> Value {
    header(alg, Some(kid))
}

#[tokio::test]
async fn the_kid_alone_chooses_the_key_and_the_key_alone_its_algorithm() {
    let manager = rotated().build().unwrap();
    let app = me_app(&manager);
    let cases = [
        // An unknown kid: no other key is tried, even the one that signed.
        (
            header_of("ES256", "2026-12"),
            "ec256-private",
            Algorithm::ES256,
            InvalidToken::UnknownKey,
        ),
        // No kid, in a set of three keys: nothing to choose by.
        (
            header("ES256", None),
            "ec256-private",
            Algorithm::ES256,
            InvalidToken::UnknownKey,
        ),
        // The old key's kid on a token of the current key.
        (
            header_of("ES256", "2026-05"),
            "ec256-private",
            Algorithm::ES256,
            InvalidToken::Signature,
        ),
        // The RSA key's kid with an ES256 token: the key's algorithm wins.
        (
            header_of("ES256", "rsa-1"),
            "ec256-private",
            Algorithm::ES256,
            InvalidToken::Algorithm,
        ),
        // The EC key's kid with an RS256 token.
        (
            header_of("RS256", "2026-05"),
            "rsa-private",
            Algorithm::RS256,
            InvalidToken::Algorithm,
        ),
    ];
    for (header, private, alg, expected) in cases {
        let token = signed(header.clone(), private, alg);
        get_with(&app, "/me", &token).await.refused(expected, &[]);
    }
}

#[tokio::test]
async fn rotating_keeps_old_tokens_until_the_old_key_goes() {
    // Before: the old key signs.
    let before = builder_es("ec256b", "2026-05").build().unwrap();
    let old = before.access_token("alice").sign().unwrap();
    // After the rotation: the new key signs, the old one still verifies.
    let after = builder_es("ec256", "2026-11")
        .verify_key_pem("2026-05", Algorithm::ES256, key("ec256b-public"))
        .build()
        .unwrap();
    let new = after.access_token("alice").sign().unwrap();
    let app = me_app(&after);
    get_with(&app, "/me", old.as_str()).await.assert_ok("alice");
    get_with(&app, "/me", new.as_str()).await.assert_ok("alice");
    // Tokens of the new key are unknown to a manager that predates it.
    get_with(&me_app(&before), "/me", new.as_str())
        .await
        .refused(InvalidToken::UnknownKey, &[]);

    // Retired at once, in this process: the old key's tokens are refused,
    // even those whose signature the cache remembers.
    assert!(after.cached_signatures() >= 2);
    assert!(after.retire_key("2026-05"));
    assert_eq!(after.cached_signatures(), 0);
    assert!(!after.retire_key("2026-05"), "retired already");
    assert!(!after.retire_key("2026-11"), "the signing key stays");
    assert!(!after.retire_key("nope"));
    get_with(&app, "/me", old.as_str())
        .await
        .refused(InvalidToken::UnknownKey, &[]);
    get_with(&app, "/me", new.as_str()).await.assert_ok("alice");
    assert_eq!(
        after.cached_signatures(),
        1,
        "remembered again after the clear"
    );
    // And it leaves the published set.
    let kids: Vec<_> = after.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].clone())
        .collect();
    assert_eq!(kids, [json!("2026-11")]);

    // Retired for good: restarted without it.
    let restarted = builder_es("ec256", "2026-11").build().unwrap();
    get_with(&me_app(&restarted), "/me", old.as_str())
        .await
        .refused(InvalidToken::UnknownKey, &[]);
}

#[tokio::test]
async fn hmac_secrets_rotate_too_and_are_never_published() {
    let old = builder().key_id("s1").build().unwrap();
    let token = access(&old, "alice");
    let new = TokenManager::builder()
        .issuer("test")
        .clock(TestClock::new())
        .hs256(generate())
        .key_id("s2")
        .verify_key_secret("s1", Algorithm::HS256, SECRET)
        .build()
        .unwrap();
    get_with(&me_app(&new), "/me", &token)
        .await
        .assert_ok("alice");
    assert_eq!(new.jwks(), json!({ "keys": [] }));
    assert_eq!(new.cached_signatures(), 0, "HMAC is cheaper than a lookup");
}

fn generate() -> String {
    jwt_guard::generate_secret()
}

#[tokio::test]
async fn a_manager_with_keys_that_only_verify_cannot_sign() {
    let issuer = builder_es("ec256", "2026-11").build().unwrap();
    let token = issuer.access_token("alice").sign().unwrap();
    let verifier = TokenManager::builder()
        .issuer("test")
        .clock(TestClock::new())
        .verify_key_pem("2026-11", Algorithm::ES256, key("ec256-public"))
        .build()
        .unwrap();
    get_with(&me_app(&verifier), "/me", token.as_str())
        .await
        .assert_ok("alice");
    let err = verifier.access_token("alice").sign().unwrap_err();
    assert!(matches!(err, jwt_guard::IssueError::NoSigningKey), "{err}");
    assert_eq!(
        err.to_string(),
        "this manager has no signing key: it only verifies"
    );
}

#[test]
fn key_sets_are_checked_at_build() {
    let cases = [
        (
            rotated().verify_key_pem("2026-05", Algorithm::ES256, key("ec256-public")),
            "verify_key_pem",
            "the kid `2026-05` is given to two keys",
        ),
        (
            builder_es("ec256", "k").verify_key_pem("k", Algorithm::ES256, key("ec256b-public")),
            "verify_key_pem",
            "the kid `k` is given to two keys",
        ),
        (
            TokenManager::builder()
                .es256_pem(key("ec256-private"), key("ec256-public"))
                .verify_key_pem("old", Algorithm::ES256, key("ec256b-public")),
            "key_id",
            "the signing key needs a `kid` when other keys verify",
        ),
        (
            rotated().verify_key_pem("bad", Algorithm::ES256, key("rsa-public")),
            "verify_key_pem",
            "the public key is not a PEM EC key",
        ),
        (
            rotated().verify_key_pem("short", Algorithm::RS256, key("rsa1024-public")),
            "verify_key_pem",
            "RSA keys must be at least 2048 bits",
        ),
        (
            rotated().verify_key_pem("", Algorithm::ES256, key("ec256b-public")),
            "verify_key_pem",
            "a key id must not be empty",
        ),
        (
            rotated().verify_key_pem("a\"b", Algorithm::ES256, key("ec256b-public")),
            "verify_key_pem",
            "must not contain quotes",
        ),
        (
            rotated().verify_key_secret("s", Algorithm::HS256, "short"),
            "verify_key_secret",
            "HMAC secret is 5 bytes",
        ),
        (
            rotated().verify_key_secret("s", Algorithm::ES256, SECRET),
            "verify_key_secret",
            "ES256 takes a PEM key",
        ),
    ];
    for (builder, setting, needle) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.setting(), setting, "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
}

#[test]
fn key_sets_from_the_environment() {
    let dir = std::env::temp_dir().join(format!("jwt-guard-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("2026-05.pem"), key("ec256b-public")).unwrap();
    std::fs::write(dir.join("2025-11.pem"), key("ec256-public")).unwrap();
    std::fs::write(dir.join("notes.txt"), "not a key").unwrap();
    let private = format!(
        "{}/tests/keys/ec256-private.pem",
        env!("CARGO_MANIFEST_DIR")
    );
    let public = format!("{}/tests/keys/ec256-public.pem", env!("CARGO_MANIFEST_DIR"));
    let dir_text = dir.display().to_string();
    let env = |extra: &'static [(&'static str, &'static str)]| {
        let dir_text = dir_text.clone();
        let (private, public) = (private.clone(), public.clone());
        move |name: &str| match name {
            "JWT_GUARD_ALGORITHM" => Some("ES256".to_owned()),
            "JWT_GUARD_PRIVATE_KEY_FILE" => Some(private.clone()),
            "JWT_GUARD_PUBLIC_KEY_FILE" => Some(public.clone()),
            "JWT_GUARD_KEY_ID" => Some("2026-11".to_owned()),
            "JWT_GUARD_VERIFY_KEYS" => Some(dir_text.clone()),
            _ => extra
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned()),
        }
    };
    let manager = TokenManagerBuilder::from_env_with(env(&[]))
        .unwrap()
        .build()
        .unwrap();
    let kids: Vec<_> = manager.jwks()["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(kids, ["2026-11", "2025-11", "2026-05"]);

    // A list of files works too; a verify-only manager needs no pair.
    let list = format!(
        "{},{}",
        dir.join("2026-05.pem").display(),
        dir.join("2025-11.pem").display()
    );
    let only = TokenManagerBuilder::from_env_with(|name: &str| match name {
        "JWT_GUARD_ALGORITHM" => Some("ES256".to_owned()),
        "JWT_GUARD_VERIFY_KEYS" => Some(list.clone()),
        _ => None,
    })
    .unwrap()
    .build()
    .unwrap();
    assert_eq!(only.jwks()["keys"].as_array().unwrap().len(), 2);
    assert!(only.access_token("alice").sign().is_err());

    // Mistakes name the variable.
    for (lookup, needle) in [
        (
            Box::new(|name: &str| match name {
                "JWT_GUARD_VERIFY_KEYS" => Some("/nonexistent/a.pem".to_owned()),
                "JWT_GUARD_ALGORITHM" => Some("ES256".to_owned()),
                _ => None,
            }) as Box<dyn Fn(&str) -> Option<String>>,
            "cannot read `/nonexistent/a.pem`",
        ),
        (
            Box::new(|name: &str| match name {
                "JWT_GUARD_VERIFY_KEYS" => Some("/tmp/a.pem".to_owned()),
                "JWT_GUARD_SECRET" => Some(SECRET.to_owned()),
                _ => None,
            }),
            "holds public keys, which HS256 does not take",
        ),
        (
            Box::new(env(&[("JWT_GUARD_SIGNATURE_CACHE", "many")])),
            "must be a whole number of tokens",
        ),
    ] {
        let err = TokenManagerBuilder::from_env_with(lookup).unwrap_err();
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    let err = TokenManagerBuilder::from_env_with(env(&[("JWT_GUARD_SIGNATURE_CACHE", "many")]))
        .unwrap_err();
    assert_eq!(err.setting(), "JWT_GUARD_SIGNATURE_CACHE");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_jwks_has_public_members_only_and_verifies_with_another_library() {
    let manager = TokenManager::builder()
        .clock(TestClock::new())
        .rs256_pem(key("rsa-private"), key("rsa-public"))
        .key_id("rsa-1")
        .verify_key_pem("ec-1", Algorithm::ES384, key("ec384-public"))
        .verify_key_pem("ed-1", Algorithm::EdDSA, key("ed25519-public"))
        .build()
        .unwrap();
    let jwks = manager.jwks();
    let keys = jwks["keys"].as_array().unwrap();
    let members = |k: &Value| {
        let mut names: Vec<_> = k.as_object().unwrap().keys().cloned().collect();
        names.sort();
        names
    };
    assert_eq!(members(&keys[0]), ["alg", "e", "kid", "kty", "n", "use"]);
    assert_eq!(
        members(&keys[1]),
        ["alg", "crv", "kid", "kty", "use", "x", "y"]
    );
    assert_eq!(members(&keys[2]), ["alg", "crv", "kid", "kty", "use", "x"]);
    assert_eq!(
        (
            &keys[0]["kty"],
            &keys[0]["alg"],
            &keys[0]["e"],
            &keys[0]["use"]
        ),
        (
            &json!("RSA"),
            &json!("RS256"),
            &json!("AQAB"),
            &json!("sig")
        )
    );
    assert_eq!(
        (&keys[1]["crv"], &keys[1]["alg"]),
        (&json!("P-384"), &json!("ES384"))
    );
    assert_eq!(
        (&keys[2]["kty"], &keys[2]["crv"]),
        (&json!("OKP"), &json!("Ed25519"))
    );
    // No private member, and nothing of the private key's text.
    let text = jwks.to_string();
    for private in ["\"d\"", "\"p\"", "\"q\"", "\"dp\"", "\"k\""] {
        assert!(!text.contains(private), "{text}");
    }
    for line in key_lines("rsa-private") {
        assert!(!text.contains(&line));
    }
    // Another library reads the set and verifies the manager's token.
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(jwks.clone()).unwrap();
    let jwk = set.find("rsa-1").unwrap();
    let token = manager.access_token("alice").sign().unwrap();
    let mut validation = Validation::new(Algorithm::RS256);
    validation.validate_exp = false;
    validation.required_spec_claims.clear();
    let data = jsonwebtoken::decode::<Value>(
        token.as_str(),
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap();
    assert_eq!(data.claims["sub"], "alice");
}

#[tokio::test]
async fn the_jwks_route_serves_the_set_with_caching_headers() {
    let manager = rotated().build().unwrap();
    let app: Router = Router::new().merge(manager.jwks_router());
    let get = |etag: Option<&str>| {
        let mut request = Request::get(jwt_guard::JWKS_PATH);
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.body(Body::empty()).unwrap()
    };
    let reply = send(&app, get(None)).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "application/jwk-set+json");
    assert_eq!(reply.headers["cache-control"], "public, max-age=300");
    assert_eq!(reply.json(), manager.jwks());
    let etag = reply.headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");

    // Revalidation: the same set is not sent again.
    let again = send(&app, get(Some(&etag))).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.text.is_empty());
    assert_eq!(again.headers["etag"], etag.as_str());
    let weak = send(&app, get(Some(&format!("\"x\", W/{etag}")))).await;
    assert_eq!(weak.status, StatusCode::NOT_MODIFIED);
    let other = send(&app, get(Some("\"other\""))).await;
    assert_eq!(other.status, StatusCode::OK);

    // The same keys give the same tag on another instance; a retired key
    // changes the set and its tag.
    let twin = rotated().build().unwrap();
    let twin_app: Router = Router::new().merge(twin.jwks_router());
    assert_eq!(
        send(&twin_app, get(None)).await.headers["etag"],
        etag.as_str()
    );
    assert!(manager.retire_key("rsa-1"));
    let changed = send(&app, get(Some(&etag))).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_eq!(changed.json()["keys"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn the_cache_skips_only_the_signature() {
    let clock = TestClock::new();
    let manager = builder_es("ec256", "k1")
        .clock(clock.clone())
        .access_ttl(std::time::Duration::from_secs(60))
        .leeway(std::time::Duration::ZERO)
        .build()
        .unwrap();
    let app = me_app(&manager);
    let token = manager.access_token("alice").sign().unwrap();
    assert_eq!(manager.cached_signatures(), 0);
    get_with(&app, "/me", token.as_str())
        .await
        .assert_ok("alice");
    assert_eq!(manager.cached_signatures(), 1);
    get_with(&app, "/me", token.as_str())
        .await
        .assert_ok("alice");
    assert_eq!(manager.cached_signatures(), 1);

    // Another byte anywhere is another token: not a hit, and refused.
    let text = token.as_str();
    let at = text.len() - 10;
    let swap = if &text[at..=at] == "A" { "B" } else { "A" };
    let flipped = format!("{}{swap}{}", &text[..at], &text[at + 1..]);
    get_with(&app, "/me", &flipped)
        .await
        .refused(InvalidToken::Signature, &[]);
    let longer = format!("{text}A");
    assert_ne!(get_with(&app, "/me", &longer).await.status, StatusCode::OK);

    // Revocation and kind are checked on every hit.
    get_with(&refresh_app(&manager), "/refresh", text)
        .await
        .refused(
            InvalidToken::WrongKind {
                expected: TokenKind::Refresh,
            },
            &[],
        );
    let verified = manager.verify(text, TokenKind::Access).await.unwrap();
    manager.revoke(&verified).await.unwrap();
    get_with(&app, "/me", text)
        .await
        .refused(InvalidToken::Revoked, &[]);

    // Time too: at its `exp` the token is refused and forgotten.
    let other = manager.access_token("bob").sign().unwrap();
    get_with(&app, "/me", other.as_str()).await.assert_ok("bob");
    assert_eq!(manager.cached_signatures(), 2);
    clock.advance(std::time::Duration::from_secs(60));
    get_with(&app, "/me", other.as_str())
        .await
        .refused(InvalidToken::Expired, &[]);
    assert_eq!(manager.cached_signatures(), 1, "bob's token is forgotten");
}

#[tokio::test]
async fn the_cache_is_bounded_and_can_be_turned_off() {
    let manager = builder_es("ec256", "k1")
        .signature_cache(32)
        .build()
        .unwrap();
    for i in 0..100 {
        let token = manager.access_token(format!("user{i}")).sign().unwrap();
        manager
            .verify(token.as_str(), TokenKind::Access)
            .await
            .unwrap();
    }
    let held = manager.cached_signatures();
    assert!((16..=32).contains(&held), "{held}");

    let off = builder_es("ec256", "k1")
        .signature_cache(0)
        .build()
        .unwrap();
    let token = off.access_token("alice").sign().unwrap();
    off.verify(token.as_str(), TokenKind::Access).await.unwrap();
    assert_eq!(off.cached_signatures(), 0);
}

#[test]
fn debug_shows_key_ids_never_keys() {
    let manager = rotated().build().unwrap();
    let debug = format!("{manager:?}");
    assert!(
        debug.contains("kid: Some(\"2026-05\")") && debug.contains("[redacted]"),
        "{debug}"
    );
    for line in key_lines("ec256-private")
        .iter()
        .chain(&key_lines("ec256b-public"))
    {
        assert!(!debug.contains(line.as_str()), "{debug}");
    }
}
