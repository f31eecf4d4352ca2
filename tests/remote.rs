//! Tokens of other issuers (feature `remote`), against identity providers
//! served in this process on 127.0.0.1: discovery documents and JWK Sets
//! over real HTTP, and tokens minted by another library (jsonwebtoken)
//! shaped like Keycloak's, Auth0's and Entra ID's access tokens.
//!
//! Its own test binary: the feature's dependencies stay out of the others.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use jwt_guard::{
    AuthError, ConfigError, InvalidToken, Issuer, Token, TokenKind, TokenManager,
    TokenManagerBuilder, require_token,
};
use jwt_guard_test_support::{Ran, Reply, TestClock, get_with, me_app};
use serde_json::{Value, json};
use tokio::net::TcpListener;

const AUDIENCE: &str = "my-api";

fn pem(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A signing key of an identity provider: its kid, algorithm and private key.
#[derive(Clone)]
struct IdpKey {
    kid: &'static str,
    alg: Algorithm,
    private: &'static str,
}

const fn key(kid: &'static str, alg: Algorithm, private: &'static str) -> IdpKey {
    IdpKey { kid, alg, private }
}

const RSA_A: IdpKey = key("rsa-a", Algorithm::RS256, "rsa-private");
const RSA_B: IdpKey = key("rsa-b", Algorithm::RS256, "rsa2-private");
const EC_A: IdpKey = key("ec-a", Algorithm::ES256, "ec256-private");
const EC_B: IdpKey = key("ec-b", Algorithm::ES256, "ec256b-private");
const ED_A: IdpKey = key("ed-a", Algorithm::EdDSA, "ed25519-private");

impl IdpKey {
    fn encoding(&self) -> EncodingKey {
        match self.alg {
            Algorithm::RS256 => EncodingKey::from_rsa_pem(&pem(self.private)).unwrap(),
            Algorithm::EdDSA => EncodingKey::from_ed_pem(&pem(self.private)).unwrap(),
            _ => EncodingKey::from_ec_pem(&pem(self.private)).unwrap(),
        }
    }

    /// The public JWK, as another library writes it.
    fn jwk(&self) -> Value {
        let mut jwk = Jwk::from_encoding_key(&self.encoding(), self.alg).unwrap();
        jwk.common.key_id = Some(self.kid.to_owned());
        serde_json::to_value(jwk).unwrap()
    }

    fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.to_owned());
        jsonwebtoken::encode(&header, claims, &self.encoding()).unwrap()
    }
}

/// One tenant of the in-process identity provider, under `/{tenant}`.
#[derive(Default)]
struct Tenant {
    /// The `issuer` its discovery document names; `None` for the right one.
    issuer_override: Option<String>,
    /// The members of its JWK Set.
    keys: Vec<Value>,
    /// The `Cache-Control` of its JWK Set.
    cache_control: Option<String>,
    /// Raw bytes served as the JWK Set instead, when set.
    body: Option<Vec<u8>>,
    /// Never answers.
    hang: bool,
    /// Answers after this long.
    delay: Option<Duration>,
}

#[derive(Default)]
struct IdpState {
    tenants: Mutex<std::collections::HashMap<String, Tenant>>,
    discovery_fetches: AtomicUsize,
    jwks_fetches: AtomicUsize,
    down: AtomicBool,
}

/// Identity providers served on 127.0.0.1: discovery documents at
/// `/{tenant}/.well-known/openid-configuration` and JWK Sets at
/// `/{tenant}/keys`.
struct Idp {
    addr: std::net::SocketAddr,
    state: Arc<IdpState>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Idp {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let idp = Self {
            addr: listener.local_addr().unwrap(),
            state: Arc::default(),
            server: Mutex::default(),
        };
        idp.serve(listener);
        idp
    }

    fn serve(&self, listener: TcpListener) {
        let app = Router::new()
            .route("/{tenant}/.well-known/openid-configuration", get(discovery))
            .route("/{tenant}/keys", get(jwks))
            .with_state((Arc::clone(&self.state), self.base()));
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        *self.server.lock().unwrap() = Some(server);
    }

    fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn issuer(&self, tenant: &str) -> String {
        format!("{}/{tenant}", self.base())
    }

    fn jwks_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/keys", self.base())
    }

    fn tenant(&self, name: &str, edit: impl FnOnce(&mut Tenant)) {
        edit(
            self.state
                .tenants
                .lock()
                .unwrap()
                .entry(name.to_owned())
                .or_default(),
        );
    }

    fn publish(&self, name: &str, keys: &[&IdpKey]) {
        self.tenant(name, |t| t.keys = keys.iter().map(|k| k.jwk()).collect());
    }

    fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }

    fn discovery_fetches(&self) -> usize {
        self.state.discovery_fetches.load(Ordering::SeqCst)
    }

    /// Down: nothing listens, and connections kept alive get 503s.
    fn stop(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        if let Some(server) = self.server.lock().unwrap().take() {
            server.abort();
        }
    }

    async fn restart(&self) {
        self.state.down.store(false, Ordering::SeqCst);
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.serve(listener);
    }
}

type IdpApp = (Arc<IdpState>, String);

async fn discovery(State((state, base)): State<IdpApp>, Path(tenant): Path<String>) -> Response {
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    state.discovery_fetches.fetch_add(1, Ordering::SeqCst);
    let issuer = state
        .tenants
        .lock()
        .unwrap()
        .get(&tenant)
        .and_then(|t| t.issuer_override.clone())
        .unwrap_or_else(|| format!("{base}/{tenant}"));
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{base}/{tenant}/keys"),
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
    }))
    .into_response()
}

async fn jwks(State((state, _)): State<IdpApp>, Path(tenant): Path<String>) -> Response {
    if state.down.load(Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    let (keys, cache_control, body, hang, delay) = {
        let tenants = state.tenants.lock().unwrap();
        let Some(t) = tenants.get(&tenant) else {
            return StatusCode::NOT_FOUND.into_response();
        };
        (
            t.keys.clone(),
            t.cache_control.clone(),
            t.body.clone(),
            t.hang,
            t.delay,
        )
    };
    if hang {
        tokio::time::sleep(Duration::from_secs(3600)).await;
    }
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(cc) = cache_control {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_str(&cc).unwrap());
    }
    let body = body.unwrap_or_else(|| json!({ "keys": keys }).to_string().into_bytes());
    (headers, body).into_response()
}

fn now() -> u64 {
    use jwt_guard::Clock as _;
    TestClock::new()
        .now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A Keycloak access token's claims (realm `acme`).
/// The `sub` of [`keycloak_claims`].
const KC_SUB: &str = "f47ac10b-58cc-4372-a567-0e02b2c3d479";

/// Asserts that `token` passes the handler at `path` as Keycloak's user.
async fn accepted(app: &Router, path: &str, token: &str) {
    get_with(app, path, token).await.assert_ok(KC_SUB);
}

fn keycloak_claims(iss: &str, scope: &str) -> Value {
    let now = now();
    json!({
        "exp": now + 300, "iat": now, "auth_time": now - 10,
        "jti": "onrtac:5bd1c7e2-5c5c-4d7a-9b1e-1f1f5b8e4a11",
        "iss": iss, "aud": [AUDIENCE, "account"],
        "sub": KC_SUB, "typ": "Bearer", "azp": "acme-web",
        "sid": "9c2f4a0e-8a3b-4f5e-bb1d-6d0e2a7c9f10", "acr": "1",
        "allowed-origins": ["https://app.acme.example"],
        "realm_access": { "roles": ["offline_access", "uma_authorization", "writer"] },
        "resource_access": { "account": { "roles": ["manage-account"] } },
        "scope": scope, "email_verified": true, "preferred_username": "alice",
        "email": "alice@acme.example",
    })
}

/// An Auth0 access token's claims: no `jti`, `iss` with a trailing slash.
fn auth0_claims(iss: &str, scope: &str) -> Value {
    let now = now();
    json!({
        "iss": iss, "sub": "auth0|64f1c2e9a1b2c3d4e5f60718",
        "aud": [AUDIENCE, format!("{iss}userinfo")],
        "iat": now, "exp": now + 86_400, "scope": scope, "azp": "Zx9kQ2",
        "permissions": ["posts:write"],
    })
}

/// An Entra ID (v2.0) access token's claims: `scp`, no `jti`, `uti`.
fn entra_claims(iss: &str, scp: &str) -> Value {
    let now = now();
    json!({
        "aud": AUDIENCE, "iss": iss, "iat": now, "nbf": now, "exp": now + 3_900,
        "aio": "AWQAm/8TAAAA", "azp": "6e74172b-be56-4843-9ff4-e66a39bb12e3", "azpacr": "0",
        "name": "Alice", "oid": "00000000-0000-0000-66f3-3332eca7ea81",
        "preferred_username": "alice@contoso.example", "rh": "0.AR8AAAAAAAAAAAA.",
        "scp": scp, "sub": "AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ",
        "tid": "9188040d-6c67-4c5b-b112-36a304b66dad", "uti": "fqiBqXLPj0eQa82S-IYFAA",
        "ver": "2.0",
    })
}

#[require_token(scope("posts:write"))]
async fn write(token: Token) -> Ran<String> {
    Ran(token.sub().to_owned())
}

#[require_token(sub = "username")]
async fn own(Path(username): Path<String>) -> Ran<String> {
    Ran(username)
}

#[require_token(fresh)]
async fn fresh() -> Ran<&'static str> {
    Ran("fresh")
}

#[require_token(refresh)]
async fn refresh() -> Ran<&'static str> {
    Ran("refresh")
}

fn app(manager: &TokenManager) -> Router {
    Router::new()
        .route("/me", get(jwt_guard_test_support::me))
        .route("/write", get(write))
        .route("/users/{username}", get(own))
        .route("/fresh", get(fresh))
        .route("/refresh", get(refresh))
        .layer(manager.layer())
}

/// The realm of the managers here: they have no issuer of their own.
const REALM: &str = "api";

fn verifier() -> TokenManagerBuilder {
    TokenManager::builder()
        .audience(AUDIENCE)
        .clock(TestClock::new())
}

fn refused(reply: &Reply, expected: impl Into<AuthError>) {
    reply.assert_refused(REALM, expected, &[]);
}

#[tokio::test]
async fn keycloak_auth0_and_entra_tokens_verify_with_their_own_keys() {
    let idp = Idp::start().await;
    idp.publish("realms-acme", &[&RSA_A]);
    idp.publish("auth0", &[&EC_A]);
    // Entra's set: RSA keys without `alg`, with certificate members.
    idp.tenant("entra", |t| {
        let mut jwk = RSA_B.jwk();
        let jwk = jwk.as_object_mut().unwrap();
        jwk.remove("alg");
        jwk.insert("use".into(), "sig".into());
        jwk.insert("x5t".into(), "nOo3ZDrODXEK1jKWhXslHR_KXEg".into());
        jwk.insert("x5c".into(), json!(["MIIDBTCCAe2gAwIBAgIQ"]));
        t.keys = vec![Value::Object(jwk.clone())];
    });
    let keycloak = idp.issuer("realms-acme");
    let auth0 = format!("{}/auth0/", idp.base());
    let entra = format!("{}/entra/v2.0", idp.base());
    idp.tenant("auth0", |t| t.issuer_override = Some(auth0.clone()));
    let manager = verifier()
        .trust_issuer(Issuer::discover(&keycloak))
        .trust_issuer(Issuer::discover(&auth0))
        .trust_issuer(Issuer::jwks(&entra, idp.jwks_url("entra")))
        .build()
        .unwrap();
    let app = app(&manager);

    let kc = RSA_A.sign(&keycloak_claims(&keycloak, "openid profile posts:write"));
    accepted(&app, "/write", &kc).await;
    accepted(&app, &format!("/users/{KC_SUB}"), &kc).await;
    refused(
        &get_with(&app, "/users/bob", &kc).await,
        jwt_guard::Forbidden::PathMismatch {
            claim: "sub",
            param: "username",
        },
    );

    let a0 = EC_A.sign(&auth0_claims(&auth0, "openid posts:write"));
    get_with(&app, "/write", &a0)
        .await
        .assert_ok("auth0|64f1c2e9a1b2c3d4e5f60718");
    let ms = RSA_B.sign(&entra_claims(&entra, "posts:read posts:write"));
    get_with(&app, "/write", &ms)
        .await
        .assert_ok("AAAAAAAAAAAAAAAAAAAAAIkzqFVrSaSaFHy782bbtaQ");

    // Scope as an array (`scp`, as some providers write it), and a scope
    // that lacks the entry.
    let mut claims = auth0_claims(&auth0, "");
    claims.as_object_mut().unwrap().remove("scope");
    claims["scp"] = json!(["posts:read", "posts:write"]);
    get_with(&app, "/write", &EC_A.sign(&claims))
        .await
        .assert_ok("auth0|64f1c2e9a1b2c3d4e5f60718");
    let read_only = RSA_A.sign(&keycloak_claims(&keycloak, "openid posts:read"));
    refused(
        &get_with(&app, "/write", &read_only).await,
        jwt_guard::Forbidden::Scope {
            missing: vec!["posts:write"],
        },
    );

    // What a handler reads: mapped claims, the issuer's own claims as they are.
    let token = manager.verify(&kc, TokenKind::Access).await.unwrap();
    assert_eq!(token.trusted_issuer(), Some(keycloak.as_str()));
    assert_eq!(token.kind(), TokenKind::Access);
    assert!(!token.is_fresh());
    assert_eq!(token.sid(), Some("9c2f4a0e-8a3b-4f5e-bb1d-6d0e2a7c9f10"));
    assert_eq!(token.claim::<String>("azp").as_deref(), Some("acme-web"));
    assert_eq!(
        token.claim::<Value>("realm_access").unwrap()["roles"][2],
        "writer"
    );
    let debug = format!("{manager:?}");
    assert!(
        debug.contains(&format!(
            "trusted_issuers: [{keycloak:?}, {auth0:?}, {entra:?}]"
        )),
        "{debug}"
    );
    let ms_token = manager.verify(&ms, TokenKind::Access).await.unwrap();
    assert_eq!(ms_token.jti(), "");
    assert!(ms_token.scope().unwrap().contains("posts:read"));

    // Discovery once per discovered issuer, one JWK Set fetch per issuer.
    assert_eq!(idp.discovery_fetches(), 2);
    assert_eq!(idp.jwks_fetches(), 3);
    // Their signatures are remembered like the manager's own.
    assert!(manager.cached_signatures() >= 5);
}

#[tokio::test]
async fn no_key_of_one_issuer_verifies_another_issuers_token() {
    let idp = Idp::start().await;
    // Both issuers name a key `shared`, with different keys.
    let a_key = IdpKey {
        kid: "shared",
        ..RSA_A
    };
    let b_key = IdpKey {
        kid: "shared",
        ..RSA_B
    };
    idp.publish("a", &[&a_key]);
    idp.publish("b", &[&b_key, &EC_B]);
    let (a, b) = (idp.issuer("a"), idp.issuer("b"));
    let local_key = jwt_guard::generate_secret();
    let manager = verifier()
        .hs256(&local_key)
        .trust_issuer(Issuer::discover(&a))
        .trust_issuer(Issuer::discover(&b).refetch_interval(Duration::from_secs(60)))
        .build()
        .unwrap();
    let app = app(&manager);
    accepted(&app, "/me", &a_key.sign(&keycloak_claims(&a, "x"))).await;
    accepted(&app, "/me", &b_key.sign(&keycloak_claims(&b, "x"))).await;

    // `iss` a, signed by b's key of the same kid: a's key checks it.
    refused(
        &get_with(&app, "/me", &b_key.sign(&keycloak_claims(&a, "x"))).await,
        InvalidToken::Signature,
    );
    // `iss` a, with a kid only b has: unknown to a.
    refused(
        &get_with(&app, "/me", &EC_B.sign(&keycloak_claims(&a, "x"))).await,
        InvalidToken::UnknownKey,
    );
    // A token of the manager's own key that names a trusted issuer is
    // checked by that issuer's keys alone: its one key, whose algorithm is
    // not the token's.
    let own = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &keycloak_claims(&a, "x"),
        &EncodingKey::from_secret(local_key.as_bytes()),
    )
    .unwrap();
    refused(&get_with(&app, "/me", &own).await, InvalidToken::Algorithm);
    // An issuer nobody trusts: the manager's own keys, which know no `kid`.
    let stranger = a_key.sign(&keycloak_claims("https://idp.evil.example/", "x"));
    refused(
        &get_with(&app, "/me", &stranger).await,
        InvalidToken::UnknownKey,
    );
    // The manager's own tokens still pass, and its `iss` rule is its own.
    let mine = manager.access_token("carol").sign().unwrap();
    get_with(&app, "/me", mine.as_str())
        .await
        .assert_ok("carol");
    let mine = manager
        .verify(mine.as_str(), TokenKind::Access)
        .await
        .unwrap();
    assert_eq!(mine.trusted_issuer(), None);
}

#[tokio::test]
async fn other_issuers_claims_are_mapped_not_trusted() {
    let idp = Idp::start().await;
    idp.publish("kc", &[&RSA_A]);
    let iss = idp.issuer("kc");
    let clock = TestClock::new();
    let manager = verifier()
        .clock(clock.clone())
        .trust_issuer(Issuer::discover(&iss).max_token_lifetime(Duration::from_secs(3600)))
        .build()
        .unwrap();
    let app = app(&manager);
    let with = |edit: &dyn Fn(&mut serde_json::Map<String, Value>)| {
        let mut claims = keycloak_claims(&iss, "openid");
        edit(claims.as_object_mut().unwrap());
        RSA_A.sign(&claims)
    };
    // What a refresh or ID token of the issuer gets.
    let not_access: AuthError = InvalidToken::WrongKind {
        expected: TokenKind::Access,
    }
    .into();
    let cases: Vec<(String, AuthError)> = vec![
        (
            with(&|c| {
                c.remove("aud");
            }),
            InvalidToken::Audience.into(),
        ),
        (
            with(&|c| {
                c.insert("aud".into(), json!("another-api"));
            }),
            InvalidToken::Audience.into(),
        ),
        (
            with(&|c| {
                c.remove("iat");
            }),
            InvalidToken::Claims.into(),
        ),
        (
            with(&|c| {
                c.remove("sub");
            }),
            InvalidToken::Claims.into(),
        ),
        (
            with(&|c| {
                c.insert("exp".into(), json!(now() - 60));
            }),
            InvalidToken::Expired.into(),
        ),
        // Longer-lived than the issuer's allowed lifetime.
        (
            with(&|c| {
                c.insert("exp".into(), json!(now() + 7200));
            }),
            InvalidToken::Lifetime.into(),
        ),
        // A refresh token of Keycloak, an ID token, another jwt-guard's refresh token.
        (
            with(&|c| {
                c.insert("typ".into(), json!("Refresh"));
            }),
            not_access.clone(),
        ),
        (
            with(&|c| {
                c.insert("typ".into(), json!("ID"));
            }),
            not_access.clone(),
        ),
        (
            with(&|c| {
                c.insert("type".into(), json!("refresh"));
            }),
            not_access.clone(),
        ),
        // An ID token without `typ` (Google's, Auth0's) says what it is by its hashes.
        (
            with(&|c| {
                c.remove("typ");
                c.insert("at_hash".into(), json!("HK6E_P6Dh8Y93mRNtsDB1Q"));
            }),
            not_access.clone(),
        ),
        (
            with(&|c| {
                c.remove("typ");
                c.insert("c_hash".into(), json!("LDktKdoQak3Pk0cnXxCltA"));
            }),
            not_access.clone(),
        ),
        // A claim given twice is refused, as in the manager's own tokens.
        (
            {
                let text = keycloak_claims(&iss, "openid").to_string();
                let text = text.replacen('{', "{\"sub\":\"mallory\",", 1);
                let input = format!(
                    "{}.{}",
                    b64(json!({"alg": "RS256", "typ": "JWT", "kid": "rsa-a"}).to_string()),
                    b64(&text)
                );
                let sig = jsonwebtoken::crypto::sign(
                    input.as_bytes(),
                    &RSA_A.encoding(),
                    Algorithm::RS256,
                )
                .unwrap();
                format!("{input}.{sig}")
            },
            InvalidToken::Claims.into(),
        ),
    ];
    for (token, expected) in cases {
        refused(&get_with(&app, "/me", &token).await, expected);
    }
    // Validly signed but refused: none of them is remembered.
    assert_eq!(manager.cached_signatures(), 0);
    // `fresh` never holds, whatever the token says; no refresh guard takes it.
    let claims_fresh = with(&|c| {
        c.insert("fresh".into(), json!(true));
    });
    accepted(&app, "/me", &claims_fresh).await;
    refused(
        &get_with(&app, "/fresh", &claims_fresh).await,
        AuthError::NotFresh,
    );
    refused(
        &get_with(&app, "/refresh", &claims_fresh).await,
        InvalidToken::WrongKind {
            expected: TokenKind::Refresh,
        },
    );

    // Revocation: by `jti` when there is one, by subject always.
    let token = with(&|_| {});
    let verified = manager.verify(&token, TokenKind::Access).await.unwrap();
    manager.revoke(&verified).await.unwrap();
    refused(&get_with(&app, "/me", &token).await, InvalidToken::Revoked);
    let no_jti = with(&|c| {
        c.remove("jti");
        c.insert("sub".into(), json!("bob"));
    });
    let verified = manager.verify(&no_jti, TokenKind::Access).await.unwrap();
    let err = manager.revoke(&verified).await.unwrap_err();
    assert!(err.to_string().contains("has no `jti`"), "{err}");
    get_with(&app, "/me", &no_jti).await.assert_ok("bob");
    clock.advance(Duration::from_secs(1));
    manager.revoke_subject("bob").await.unwrap();
    refused(&get_with(&app, "/me", &no_jti).await, InvalidToken::Revoked);
}

fn b64(bytes: impl AsRef<[u8]>) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Polls until `done` holds (the background refresh runs on real time).
async fn eventually(what: &str, done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}

#[tokio::test]
async fn keys_rotate_at_the_issuer() {
    let idp = Idp::start().await;
    idp.publish("kc", &[&RSA_A]);
    idp.tenant("kc", |t| {
        t.cache_control = Some("public, max-age=3600".into())
    });
    let iss = idp.issuer("kc");
    let manager = verifier()
        .trust_issuer(Issuer::discover(&iss).refetch_interval(Duration::from_millis(200)))
        .build()
        .unwrap();
    let app = app(&manager);
    let old = RSA_A.sign(&keycloak_claims(&iss, "x"));
    accepted(&app, "/me", &old).await;
    assert_eq!(idp.jwks_fetches(), 1);

    // Later, the issuer rotates in a key and signs with it at once: the
    // unknown kid fetches the set again, and both keys verify.
    tokio::time::sleep(Duration::from_millis(250)).await;
    idp.publish("kc", &[&RSA_A, &EC_A]);
    let new = EC_A.sign(&keycloak_claims(&iss, "x"));
    accepted(&app, "/me", &new).await;
    assert_eq!(idp.jwks_fetches(), 2);
    accepted(&app, "/me", &old).await;
    assert!(manager.cached_signatures() >= 2);

    // It retires the old key, with a short max-age: the background refresh
    // picks that up, and the old key's tokens are refused, even those the
    // cache remembered.
    idp.tenant("kc", |t| t.cache_control = Some("max-age=1".into()));
    tokio::time::sleep(Duration::from_millis(250)).await;
    let newer = EC_B.sign(&keycloak_claims(&iss, "x"));
    idp.publish("kc", &[&EC_A, &EC_B]);
    accepted(&app, "/me", &newer).await;
    // RSA_A's key went: the cache was emptied (and the token verified
    // while the keys changed is not remembered).
    assert_eq!(manager.cached_signatures(), 0);
    refused(&get_with(&app, "/me", &old).await, InvalidToken::UnknownKey);
    // Later refreshes come by themselves, without any request.
    let fetched = idp.jwks_fetches();
    eventually("a background refresh", || idp.jwks_fetches() > fetched).await;
    let fetched = idp.jwks_fetches();
    eventually("another background refresh", || {
        idp.jwks_fetches() > fetched
    })
    .await;
    accepted(&app, "/me", &new).await;
}

#[tokio::test]
async fn the_issuer_down_first_refuses_then_cached_keys_keep_serving() {
    let idp = Idp::start().await;
    idp.publish("kc", &[&RSA_A]);
    let iss = idp.issuer("kc");
    let manager = verifier()
        .trust_issuer(Issuer::discover(&iss).refetch_interval(Duration::from_millis(200)))
        .build()
        .unwrap();
    let app = app(&manager);
    let token = RSA_A.sign(&keycloak_claims(&iss, "x"));

    // Down before its keys were ever fetched: 503, never let through.
    idp.stop();
    let reply = get_with(&app, "/me", &token).await;
    reply.assert_refused(REALM, AuthError::IssuerUnavailable, &[]);
    assert_eq!(reply.headers[header::RETRY_AFTER], "1");
    assert_eq!(reply.json()["error"], "temporarily_unavailable");
    let log = reply.log.as_ref().unwrap();
    assert!(
        log.iter().any(
            |l| l.contains("WARN jwt_guard::remote: cannot fetch the issuer's keys")
                && l.contains(&iss)
        ),
        "the failed fetch is logged: {log:#?}"
    );

    // Back: keys fetched once the interval has passed.
    idp.restart().await;
    tokio::time::sleep(Duration::from_millis(250)).await;
    accepted(&app, "/me", &token).await;

    // Down again: the keys fetched keep serving, a token never seen too.
    idp.stop();
    let other = RSA_A.sign(&auth0_like(&iss));
    get_with(&app, "/me", &other).await.assert_ok("auth0|x");
    // An unknown kid while it is down: 401, not 503 (the set is known).
    tokio::time::sleep(Duration::from_millis(250)).await;
    refused(
        &get_with(&app, "/me", &EC_A.sign(&keycloak_claims(&iss, "x"))).await,
        InvalidToken::UnknownKey,
    );
}

fn auth0_like(iss: &str) -> Value {
    let now = now();
    json!({ "iss": iss, "sub": "auth0|x", "aud": AUDIENCE, "iat": now, "exp": now + 60 })
}

#[tokio::test]
async fn a_flood_of_unknown_kids_fetches_once_per_interval() {
    let idp = Idp::start().await;
    idp.publish("kc", &[&RSA_A]);
    let iss = idp.issuer("kc");
    let manager = verifier()
        .trust_issuer(Issuer::discover(&iss).refetch_interval(Duration::from_millis(500)))
        .build()
        .unwrap();
    let app = app(&manager);

    // The first requests, all at once, wait on one fetch.
    let token = RSA_A.sign(&keycloak_claims(&iss, "x"));
    let mut first = tokio::task::JoinSet::new();
    for _ in 0..32 {
        let (app, token) = (app.clone(), token.clone());
        first.spawn(async move { get_with(&app, "/me", &token).await.status });
    }
    while let Some(status) = first.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::OK);
    }
    assert_eq!((idp.discovery_fetches(), idp.jwks_fetches()), (1, 1));

    // A flood of tokens naming kids the issuer never had.
    tokio::time::sleep(Duration::from_millis(550)).await;
    let mut flood = tokio::task::JoinSet::new();
    for i in 0..200 {
        let app = app.clone();
        let key = IdpKey {
            kid: Box::leak(format!("forged-{i}").into_boxed_str()),
            ..RSA_B
        };
        let token = key.sign(&keycloak_claims(&iss, "x"));
        flood.spawn(async move { get_with(&app, "/me", &token).await.status });
    }
    while let Some(status) = flood.join_next().await {
        assert_eq!(status.unwrap(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(idp.jwks_fetches(), 2, "one fetch for the whole flood");
    // More of them within the interval: no fetch at all.
    for i in 0..20 {
        let key = IdpKey {
            kid: Box::leak(format!("again-{i}").into_boxed_str()),
            ..RSA_B
        };
        let reply = get_with(&app, "/me", &key.sign(&keycloak_claims(&iss, "x"))).await;
        refused(&reply, InvalidToken::UnknownKey);
    }
    assert_eq!(idp.jwks_fetches(), 2);
    // A bad signature under a known kid never fetches.
    let forged = IdpKey {
        kid: "rsa-a",
        ..RSA_B
    }
    .sign(&keycloak_claims(&iss, "x"));
    tokio::time::sleep(Duration::from_millis(550)).await;
    refused(
        &get_with(&app, "/me", &forged).await,
        InvalidToken::Signature,
    );
    assert_eq!(idp.jwks_fetches(), 2);
}

#[tokio::test]
async fn an_issuer_is_untrusted_input() {
    let idp = Idp::start().await;
    let good = RSA_A.jwk();
    let mut small = IdpKey {
        kid: "small",
        ..RSA_A
    }
    .jwk();
    small["n"] = json!(b64([0xc5u8; 128]));
    let mut wrong_alg = IdpKey {
        kid: "wrong-alg",
        ..EC_A
    }
    .jwk();
    wrong_alg["alg"] = json!("RS256");
    let mut enc = IdpKey {
        kid: "enc",
        ..RSA_B
    }
    .jwk();
    enc["use"] = json!("enc");
    let mut private = IdpKey {
        kid: "private",
        ..RSA_B
    }
    .jwk();
    private["d"] = json!("AQAB");
    let hmac =
        json!({ "kty": "oct", "kid": "hmac", "k": b64(b"a shared secret of 32 bytes!!!!!") });
    let none = json!({ "kty": "RSA", "kid": "none", "alg": "none", "n": "AQAB", "e": "AQAB" });
    let x25519 = json!({ "kty": "OKP", "crv": "X25519", "kid": "x25519", "x": ED_A.jwk()["x"] });
    let mut ed_as_es = IdpKey {
        kid: "ed-as-es",
        ..ED_A
    }
    .jwk();
    ed_as_es["alg"] = json!("ES256");
    let mut short_point = IdpKey {
        kid: "short-point",
        ..EC_B
    }
    .jwk();
    short_point["y"] = json!(b64([7u8; 31]));
    idp.tenant("kc", |t| {
        t.keys = vec![
            small,
            wrong_alg,
            enc,
            private,
            hmac,
            none,
            x25519,
            ed_as_es,
            short_point,
            good,
            ED_A.jwk(),
        ];
        // A max-age no clock can add: keys are refreshed within a day anyway.
        t.cache_control = Some("max-age=9000000000000000000".into());
    });
    let iss = idp.issuer("kc");
    let manager = verifier()
        .trust_issuer(Issuer::discover(&iss))
        .build()
        .unwrap();
    let app = app(&manager);
    let reply = get_with(&app, "/me", &RSA_A.sign(&keycloak_claims(&iss, "x"))).await;
    reply.assert_ok(KC_SUB);
    let skipped: Vec<_> = reply
        .log
        .unwrap()
        .into_iter()
        .filter(|l| l.contains("key of a trusted issuer skipped") && l.contains(&iss))
        .collect();
    assert_eq!(skipped.len(), 9, "{skipped:#?}");
    let kids = [
        "small",
        "wrong-alg",
        "enc",
        "private",
        "hmac",
        "none",
        "x25519",
        "ed-as-es",
        "short-point",
    ];
    for kid in kids {
        assert!(skipped.iter().any(|l| l.contains(&format!("kid=\"{kid}\"")) || l.contains(&format!("kid={kid}"))), "{kid}: {skipped:#?}");
    }
    // The Ed25519 key of the set verifies EdDSA tokens.
    accepted(&app, "/me", &ED_A.sign(&keycloak_claims(&iss, "x"))).await;

    // A discovery document naming another issuer is refused (OIDC
    // Discovery §4.3): nothing is fetched from its jwks_uri.
    idp.publish("liar", &[&RSA_A]);
    idp.tenant("liar", |t| {
        t.issuer_override = Some("https://idp.evil.example".into())
    });
    let liar = idp.issuer("liar");
    let manager = verifier()
        .trust_issuer(Issuer::discover(&liar))
        .build()
        .unwrap();
    let before = idp.jwks_fetches();
    let reply = get_with(
        &app_of(&manager),
        "/me",
        &RSA_A.sign(&keycloak_claims(&liar, "x")),
    )
    .await;
    reply.assert_refused(REALM, AuthError::IssuerUnavailable, &[]);
    assert_eq!(idp.jwks_fetches(), before);

    // Too large a set, and one that never answers: refused, and no request
    // waits past the fetch's timeout.
    idp.publish("big", &[]);
    idp.tenant("big", |t| t.body = Some(vec![b' '; 300 * 1024]));
    idp.publish("slow", &[&RSA_A]);
    idp.tenant("slow", |t| t.hang = true);
    for tenant in ["big", "slow"] {
        let iss = idp.issuer(tenant);
        let manager = verifier()
            .trust_issuer(
                Issuer::jwks(&iss, idp.jwks_url(tenant)).timeout(Duration::from_millis(300)),
            )
            .build()
            .unwrap();
        let reply = get_with(
            &app_of(&manager),
            "/me",
            &RSA_A.sign(&keycloak_claims(&iss, "x")),
        )
        .await;
        reply.assert_refused(REALM, AuthError::IssuerUnavailable, &[]);
    }

    // Too large a set sent in chunks, with no length announced: the cap
    // holds as it arrives.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/keys", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await.unwrap();
        let mut response = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\
            transfer-encoding: chunked\r\n\r\n"
            .to_vec();
        for _ in 0..20 {
            response.extend_from_slice(format!("{:x}\r\n", 16 * 1024).as_bytes());
            response.extend_from_slice(&[b' '; 16 * 1024]);
            response.extend_from_slice(b"\r\n");
        }
        response.extend_from_slice(b"0\r\n\r\n");
        let _ = stream.write_all(&response).await;
    });
    let iss = "http://127.0.0.1/chunked";
    let manager = verifier()
        .trust_issuer(Issuer::jwks(iss, url))
        .build()
        .unwrap();
    let reply = get_with(
        &app_of(&manager),
        "/me",
        &RSA_A.sign(&keycloak_claims(iss, "x")),
    )
    .await;
    reply.assert_refused(REALM, AuthError::IssuerUnavailable, &[]);
    let log = reply.log.unwrap();
    assert!(
        log.iter().any(|l| l.contains("larger than 262144 bytes")),
        "{log:#?}"
    );
    server.abort();
}

fn app_of(manager: &TokenManager) -> Router {
    me_app(manager)
}

#[test]
fn issuers_are_checked_at_build() {
    let cases: Vec<(TokenManagerBuilder, &str, &str)> = vec![
        (
            TokenManager::builder().trust_issuer(Issuer::discover("https://idp.example")),
            "audience",
            "required with trusted issuers",
        ),
        (
            verifier().trust_issuer(Issuer::discover("http://idp.example")),
            "trust_issuer",
            "must be an https:// URL (http:// only on loopback addresses)",
        ),
        (
            verifier().trust_issuer(Issuer::jwks("https://idp.example", "http://10.0.0.1/keys")),
            "trust_issuer",
            "must be an https:// URL",
        ),
        (
            verifier().trust_issuer(Issuer::discover("not a url")),
            "trust_issuer",
            "is not a URL",
        ),
        (
            verifier()
                .trust_issuer(Issuer::discover("https://idp.example"))
                .trust_issuer(Issuer::discover("https://idp.example")),
            "trust_issuer",
            "is trusted twice",
        ),
        (
            verifier()
                .issuer("https://me.example")
                .hs256(jwt_guard::generate_secret())
                .trust_issuer(Issuer::discover("https://me.example")),
            "trust_issuer",
            "this manager's own issuer",
        ),
        (
            verifier().trust_issuer(
                Issuer::discover("https://idp.example").refetch_interval(Duration::from_millis(10)),
            ),
            "trust_issuer",
            "refetch_interval must be between 100 ms and 1 hour",
        ),
        (
            verifier().trust_issuer(
                Issuer::discover("https://idp.example")
                    .refetch_interval(Duration::from_secs(86_401)),
            ),
            "trust_issuer",
            "refetch_interval must be between 100 ms and 1 hour",
        ),
        (
            verifier().trust_issuer(
                Issuer::discover("https://idp.example").timeout(Duration::from_secs(600)),
            ),
            "trust_issuer",
            "timeout must be between 100 ms and 60 s",
        ),
    ];
    let issuer = Issuer::discover("https://idp.example/realms/a").timeout(Duration::from_secs(2));
    assert_eq!(issuer.issuer(), "https://idp.example/realms/a");
    assert_eq!(
        format!("{issuer:?}"),
        "Issuer { issuer: \"https://idp.example/realms/a\", jwks_url: None, \
         refetch_interval: 30s, timeout: 2s, max_lifetime: 86400s }"
    );
    for (builder, setting, needle) in cases {
        let err: ConfigError = builder.build().unwrap_err();
        assert_eq!(err.setting(), setting, "{err}");
        assert!(err.to_string().contains(needle), "{err} lacks {needle}");
    }
    // Loopback over http is for tests, and so is `localhost` and `[::1]`.
    for url in [
        "http://127.0.0.1:9/x",
        "http://localhost:9",
        "http://[::1]:9/",
    ] {
        assert!(
            verifier()
                .trust_issuer(Issuer::discover(url))
                .build()
                .is_ok(),
            "{url}"
        );
    }
}

#[tokio::test]
async fn trusted_issuers_from_the_environment() {
    let idp = Idp::start().await;
    idp.publish("kc", &[&RSA_A]);
    let iss = idp.issuer("kc");
    let env = |audience: Option<&'static str>| {
        let iss = iss.clone();
        move |name: &str| match name {
            "JWT_GUARD_TRUSTED_ISSUERS" => Some(format!("{iss}, https://idp.example/realms/b")),
            "JWT_GUARD_AUDIENCE" => audience.map(str::to_owned),
            _ => None,
        }
    };
    // No key of its own: a manager that only verifies.
    let manager = TokenManagerBuilder::from_env_with(env(Some(AUDIENCE)))
        .unwrap()
        .clock(TestClock::new())
        .build()
        .unwrap();
    accepted(
        &me_app(&manager),
        "/me",
        &RSA_A.sign(&keycloak_claims(&iss, "x")),
    )
    .await;
    assert!(manager.access_token("alice").sign().is_err());

    let err = TokenManagerBuilder::from_env_with(env(None)).unwrap_err();
    assert_eq!(err.setting(), "JWT_GUARD_AUDIENCE");
    let err = TokenManagerBuilder::from_env_with(|name: &str| match name {
        "JWT_GUARD_TRUSTED_ISSUERS" => Some("http://idp.example".to_owned()),
        "JWT_GUARD_AUDIENCE" => Some(AUDIENCE.to_owned()),
        _ => None,
    })
    .unwrap_err();
    assert_eq!(err.setting(), "JWT_GUARD_TRUSTED_ISSUERS");
    assert!(err.to_string().contains("must be an https:// URL"), "{err}");
}

#[tokio::test]
async fn another_jwt_guard_service_is_an_issuer_too() {
    // The service that issues: ES256, its keys published on its JWKS route.
    let issuing = TokenManager::builder()
        .issuer("http://127.0.0.1/auth")
        .audience(AUDIENCE)
        .es256_pem(pem("ec256-private"), pem("ec256-public"))
        .key_id("auth-1")
        .clock(TestClock::new())
        .build()
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let routes: Router = issuing.jwks_router();
    let server = tokio::spawn(async move { axum::serve(listener, routes).await.unwrap() });

    // The service that verifies: no key of its own.
    let verifying = verifier()
        .trust_issuer(Issuer::jwks(
            "http://127.0.0.1/auth",
            format!("http://{addr}{}", jwt_guard::JWKS_PATH),
        ))
        .build()
        .unwrap();
    let app = app(&verifying);
    let access = issuing
        .access_token("alice")
        .scope("posts:write")
        .fresh(true)
        .sign()
        .unwrap();
    get_with(&app, "/write", access.as_str())
        .await
        .assert_ok("alice");
    // Its tokens are access tokens of another issuer: never fresh here, and
    // its refresh tokens are refused.
    refused(
        &get_with(&app, "/fresh", access.as_str()).await,
        AuthError::NotFresh,
    );
    let refresh_token = issuing.refresh_token("alice").sign().unwrap();
    refused(
        &get_with(&app, "/refresh", refresh_token.as_str()).await,
        InvalidToken::WrongKind {
            expected: TokenKind::Access,
        },
    );
    server.abort();
}

#[tokio::test]
async fn a_key_replaced_under_its_kid_is_forgotten_by_the_cache() {
    let idp = Idp::start().await;
    let before = IdpKey { kid: "k", ..RSA_A };
    let after = IdpKey { kid: "k", ..RSA_B };
    idp.publish("kc", &[&before]);
    let iss = idp.issuer("kc");
    let manager = verifier()
        .trust_issuer(Issuer::discover(&iss).refetch_interval(Duration::from_millis(200)))
        .build()
        .unwrap();
    let app = app(&manager);
    let old = before.sign(&keycloak_claims(&iss, "x"));
    accepted(&app, "/me", &old).await;
    assert_eq!(manager.cached_signatures(), 1);
    // The issuer puts another key under the same kid; a token naming a
    // kid not yet known fetches the set again.
    idp.publish("kc", &[&after, &EC_A]);
    tokio::time::sleep(Duration::from_millis(250)).await;
    accepted(&app, "/me", &EC_A.sign(&keycloak_claims(&iss, "x"))).await;
    // The old key's token is not served from the cache: `k` is another key now.
    refused(&get_with(&app, "/me", &old).await, InvalidToken::Signature);
    accepted(&app, "/me", &after.sign(&keycloak_claims(&iss, "x"))).await;
}

#[tokio::test]
async fn a_request_dropped_mid_fetch_leaves_the_keys_fetched() {
    let idp = Idp::start().await;
    idp.publish("kc", &[&RSA_A]);
    idp.tenant("kc", |t| t.delay = Some(Duration::from_millis(300)));
    let iss = idp.issuer("kc");
    let manager = verifier()
        .trust_issuer(
            Issuer::jwks(&iss, idp.jwks_url("kc")).refetch_interval(Duration::from_secs(60)),
        )
        .build()
        .unwrap();
    let app = app(&manager);
    let token = RSA_A.sign(&keycloak_claims(&iss, "x"));
    // A client that gives up (or a timeout layer) drops the request while
    // the keys are being fetched.
    let dropped =
        tokio::time::timeout(Duration::from_millis(50), get_with(&app, "/me", &token)).await;
    assert!(
        dropped.is_err(),
        "the request was still waiting for the keys"
    );
    // The fetch goes on without it: within the interval, which forbids a
    // second fetch, the keys are there.
    tokio::time::sleep(Duration::from_millis(600)).await;
    accepted(&app, "/me", &token).await;
    assert_eq!(idp.jwks_fetches(), 1);
}

#[tokio::test]
async fn a_family_revocation_outlives_a_longer_lived_token_of_another_issuer() {
    let idp = Idp::start().await;
    idp.publish("kc", &[&RSA_A]);
    let iss = idp.issuer("kc");
    let clock = TestClock::new();
    let manager = verifier()
        .clock(clock.clone())
        .refresh_ttl(Duration::from_secs(3600))
        .access_ttl(Duration::from_secs(600))
        .trust_issuer(Issuer::discover(&iss))
        .build()
        .unwrap();
    let app = app(&manager);
    let mut claims = keycloak_claims(&iss, "x");
    claims["exp"] = json!(now() + 20 * 3600);
    let token = RSA_A.sign(&claims);
    let verified = manager.verify(&token, TokenKind::Access).await.unwrap();
    manager.revoke_family(&verified).await.unwrap();
    refused(&get_with(&app, "/me", &token).await, InvalidToken::Revoked);
    // Past the manager's own lifetimes, the issuer's token still lives, and
    // so does its revocation.
    clock.advance(Duration::from_secs(2 * 3600));
    // (The in-memory store forgets expired entries as later ones arrive.)
    for other in ["bob", "carol", "dave"] {
        manager.revoke_subject(other).await.unwrap();
    }
    refused(&get_with(&app, "/me", &token).await, InvalidToken::Revoked);
}
