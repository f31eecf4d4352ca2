//! Every algorithm family round-trips; keys are checked at build time, and
//! a token never verifies under a key of another algorithm.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jwt_guard::{InvalidToken, TokenKind, TokenManager, TokenManagerBuilder};

use crate::common::*;
use crate::forge::header_json;

fn families() -> Vec<(&'static str, TokenManagerBuilder)> {
    let b = || {
        TokenManager::builder()
            .issuer("test")
            .clock(TestClock::new())
    };
    let pem: [(&str, Setter, &str); 9] = [
        ("RS256", |b, k, p| b.rs256_pem(k, p), "rsa"),
        ("RS384", |b, k, p| b.rs384_pem(k, p), "rsa"),
        ("RS512", |b, k, p| b.rs512_pem(k, p), "rsa"),
        ("PS256", |b, k, p| b.ps256_pem(k, p), "rsa"),
        ("PS384", |b, k, p| b.ps384_pem(k, p), "rsa"),
        ("PS512", |b, k, p| b.ps512_pem(k, p), "rsa"),
        ("ES256", |b, k, p| b.es256_pem(k, p), "ec256"),
        ("ES384", |b, k, p| b.es384_pem(k, p), "ec384"),
        ("EdDSA", |b, k, p| b.ed25519_pem(k, p), "ed25519"),
    ];
    let mut all = vec![
        ("HS256", b().hs256(SECRET)),
        ("HS384", b().hs384(SECRET.repeat(2))),
        ("HS512", b().hs512(SECRET.repeat(2))),
    ];
    for (alg, set, file) in pem {
        all.push((
            alg,
            set(
                b(),
                key(&format!("{file}-private")),
                key(&format!("{file}-public")),
            ),
        ));
    }
    all
}

#[tokio::test]
async fn every_family_round_trips() {
    let managers: Vec<(&str, TokenManager)> = families()
        .into_iter()
        .map(|(alg, b)| (alg, b.build().unwrap_or_else(|e| panic!("{alg}: {e}"))))
        .collect();
    for (alg, manager) in &managers {
        let token = access(manager, "alice");
        assert_eq!(header_json(&token)["alg"], *alg);
        get_with(&me_app(manager), "/me", &token)
            .await
            .assert_ok("alice");
        let verified = manager.verify(&token, TokenKind::Access).await.unwrap();
        assert_eq!(verified.sub(), "alice");

        // No other manager accepts it: the algorithm is pinned to the key.
        for (other_alg, other) in &managers {
            if other_alg == alg {
                continue;
            }
            get_with(&me_app(other), "/me", &token)
                .await
                .refused(InvalidToken::Algorithm, &[&token]);
        }
    }
}

#[tokio::test]
async fn rsa_keys_up_to_8192_bits_round_trip() {
    // The signature is as long as the modulus: 1024 bytes at 8192 bits.
    for bits in ["", "3072", "4096", "8192"] {
        for (alg, set) in [
            ("RS512", (|b, k, p| b.rs512_pem(k, p)) as Setter),
            ("PS256", |b, k, p| b.ps256_pem(k, p)),
        ] {
            let manager = set(
                builder_without_key(),
                key(&format!("rsa{bits}-private")),
                key(&format!("rsa{bits}-public")),
            )
            .build()
            .unwrap_or_else(|e| panic!("{alg} rsa{bits}: {e}"));
            let token = access(&manager, "alice");
            let signature = URL_SAFE_NO_PAD
                .decode(token.rsplit('.').next().unwrap())
                .unwrap();
            let bytes = if bits.is_empty() {
                2048
            } else {
                bits.parse().unwrap()
            } / 8;
            assert_eq!(signature.len(), bytes, "{alg} rsa{bits}");
            get_with(&me_app(&manager), "/me", &token)
                .await
                .assert_ok("alice");
        }
    }
}

fn builder_without_key() -> TokenManagerBuilder {
    TokenManager::builder()
        .issuer("test")
        .clock(TestClock::new())
}

/// Claims as an independent verifier reads them.
#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    #[serde(rename = "type")]
    kind: String,
}

#[test]
fn tokens_verify_with_an_independent_implementation() {
    use jsonwebtoken::{Algorithm, DecodingKey, Validation};
    let public = |file: &str| key(&format!("{file}-public"));
    for (alg, builder) in families() {
        let manager = builder.build().unwrap();
        let token = access(&manager, "alice");
        let algorithm: Algorithm = alg.parse().unwrap();
        let key = match alg {
            "HS256" => DecodingKey::from_secret(SECRET.as_bytes()),
            "HS384" | "HS512" => DecodingKey::from_secret(SECRET.repeat(2).as_bytes()),
            "ES256" => DecodingKey::from_ec_pem(&public("ec256")).unwrap(),
            "ES384" => DecodingKey::from_ec_pem(&public("ec384")).unwrap(),
            "EdDSA" => DecodingKey::from_ed_pem(&public("ed25519")).unwrap(),
            _ => DecodingKey::from_rsa_pem(&public("rsa")).unwrap(),
        };
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&["test"]);
        // The tokens are dated by the managers' test clock, not the system's:
        // this test is about the signature and the claims' shape.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims = jsonwebtoken::decode::<Claims>(&token, &key, &validation)
            .unwrap_or_else(|e| panic!("{alg}: {e}"))
            .claims;
        assert_eq!(
            (claims.sub.as_str(), claims.kind.as_str()),
            ("alice", "access"),
            "{alg}"
        );
    }
}

#[test]
fn keys_are_checked_at_build() {
    let cases: Vec<(&str, TokenManagerBuilder, &str)> = vec![
        (
            "hs256",
            TokenManager::builder().hs256("short"),
            "at least 32 bytes",
        ),
        (
            "hs512",
            TokenManager::builder().hs512(""),
            "at least 64 bytes",
        ),
        (
            "hs256",
            TokenManager::builder().hs256([7u8; 31]),
            "HMAC secret is 31 bytes; HS256 needs at least 32 bytes",
        ),
        // As long as the hash (RFC 7518 §3.2): 48 bytes for HS384, 64 for HS512.
        (
            "hs384",
            TokenManager::builder().hs384([7u8; 47]),
            "HMAC secret is 47 bytes; HS384 needs at least 48 bytes",
        ),
        (
            "hs512",
            TokenManager::builder().hs512([7u8; 63]),
            "HMAC secret is 63 bytes; HS512 needs at least 64 bytes",
        ),
        (
            "rs256_pem",
            TokenManager::builder().rs256_pem(key("ec256-private"), key("ec256-public")),
            "not a PEM RSA key",
        ),
        (
            "es256_pem",
            TokenManager::builder().es256_pem(key("ec384-private"), key("ec384-public")),
            "the private key does not fit ES256, which takes an EC key on P-256 (prime256v1) in PKCS#8 (",
        ),
        (
            "rs256_pem",
            TokenManager::builder().rs256_pem(key("rsa-private"), key("rsa2-public")),
            "not a pair",
        ),
        (
            "rs256_pem",
            TokenManager::builder().rs256_pem(key("rsa1024-private"), key("rsa1024-public")),
            "at least 2048 bits; this one has 1024",
        ),
        (
            "rs256_pem",
            TokenManager::builder().rs256_pem(key("rsa8448-private"), key("rsa8448-public")),
            "at most 8192 bits; this one has 8448",
        ),
        (
            "ed25519_pem",
            TokenManager::builder().ed25519_pem(b"not a pem", key("ed25519-public")),
            "not a PEM Ed25519 key",
        ),
        (
            "es384_pem",
            TokenManager::builder().es384_pem(key("ec384-private"), b"not a pem"),
            "the public key is not a PEM EC key",
        ),
        (
            "es384_pem",
            TokenManager::builder().es384_pem(key("ec256-private"), key("ec256-public")),
            "the private key does not fit ES384, which takes an EC key on P-384 (secp384r1) in PKCS#8 (",
        ),
        (
            "rs256_pem",
            TokenManager::builder()
                .hs256(SECRET)
                .rs256_pem(key("rsa-private"), key("rsa-public")),
            "already set by `hs256`",
        ),
    ];
    // A `kid` travels unescaped in token headers.
    let mut cases = cases;
    for kid in ["k\"1", "k\\1", "k\n1", "k\u{7f}1"] {
        cases.push((
            "key_id",
            TokenManager::builder().hs256(SECRET).key_id(kid),
            "must not contain quotes, backslashes or control characters",
        ));
    }
    for (setting, builder, needle) in cases {
        let err = builder.build().unwrap_err();
        assert_eq!(err.setting(), setting, "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    // A secret exactly as long as the hash is enough; a plain `kid` is fine.
    assert!(
        TokenManager::builder()
            .hs256(SECRET)
            .key_id("2026-11 key-1.a_b")
            .build()
            .is_ok()
    );
    assert!(TokenManager::builder().hs256([7u8; 32]).build().is_ok());
    assert!(TokenManager::builder().hs384([7u8; 48]).build().is_ok());
    assert!(TokenManager::builder().hs512([7u8; 64]).build().is_ok());
    // Weak secrets are allowed only when asked for, for tests.
    assert!(
        TokenManager::builder()
            .hs256("short")
            .allow_weak_secret(true)
            .build()
            .is_ok()
    );
}

/// What must never be printed of a family's key: the HMAC secret, or
/// every line of the private PEM's body; as text and as bytes.
fn key_material(alg: &str) -> Vec<String> {
    let file = match alg {
        "HS256" => return as_text_and_bytes(SECRET.as_bytes()),
        "HS384" | "HS512" => return as_text_and_bytes(SECRET.repeat(2).as_bytes()),
        "ES256" => "ec256",
        "ES384" => "ec384",
        "EdDSA" => "ed25519",
        _ => "rsa",
    };
    let mut material = key_lines(&format!("{file}-private"));
    material.extend(as_text_and_bytes(&key(&format!("{file}-private"))));
    material
}

/// `bytes` as text, and its first bytes as a derived `Debug` of a
/// `Vec<u8>` would print them (`116, 101, 115, …`).
fn as_text_and_bytes(bytes: &[u8]) -> Vec<String> {
    let listed = format!("{:?}", &bytes[..12]);
    vec![
        String::from_utf8_lossy(bytes).into_owned(),
        listed.trim_matches(['[', ']']).to_owned(),
    ]
}

#[tokio::test]
async fn debug_redacts_every_kind_of_key() {
    for (alg, builder) in families() {
        let material = key_material(alg);
        assert!(!material.is_empty());
        let builder_debug = format!("{builder:?}");
        assert!(
            builder_debug.starts_with("TokenManagerBuilder { issuer: Some(\"test\")")
                && builder_debug.contains("key: Some(\""),
            "{builder_debug}"
        );
        let manager = builder.build().unwrap();
        let manager_debug = format!("{manager:?}");
        assert!(
            manager_debug.contains(&format!("alg: \"{alg}\""))
                && manager_debug.contains("[redacted]"),
            "{manager_debug}"
        );
        let issued = manager.access_token("alice").sign().unwrap();
        let verified = manager
            .verify(issued.as_str(), TokenKind::Access)
            .await
            .unwrap();
        let printed = [
            builder_debug,
            manager_debug,
            format!("{issued:?}"),
            format!("{verified:?}"),
        ];
        for (text, line) in printed
            .iter()
            .flat_map(|t| material.iter().map(move |l| (t, l)))
        {
            assert!(!text.contains(line.as_str()), "{alg}: {text}");
        }
        // Nor the token, which is a bearer credential.
        let signature = issued.as_str().rsplit('.').next().unwrap();
        for text in &printed {
            assert!(!text.contains(signature), "{alg}: {text}");
        }
    }
}
