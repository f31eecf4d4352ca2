//! Every known JWT attack, built by hand (base64 and raw signatures, not the
//! library's encoder). Each case asserts the status and challenge, that the
//! guarded handler did not run, that the response leaks nothing, and that a
//! genuine token still works afterwards.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, Request, header};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_guard::{Token, TokenKind, TokenManager, TokenManagerBuilder, require_token};
use serde_json::{Value, json};

use crate::common::*;

// ---------------------------------------------------------------------------
// Hand-made tokens

fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The time of every target's clock, in seconds: it never moves, so no
/// case depends on when it runs.
fn now() -> u64 {
    use jwt_guard::Clock as _;
    TestClock::new()
        .now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Valid claims of an access token for `sub`, as a JSON object.
fn claims(sub: &str) -> Value {
    let now = now();
    json!({
        "iss": "test", "sub": sub, "iat": now, "nbf": now, "exp": now + 600,
        "jti": format!("hand-made-{sub}-{}", fastrand()), "type": "access",
        "fresh": true, "scope": {"admin": false},
    })
}

/// A unique-enough number without a random crate.
fn fastrand() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

fn signing_input(header: &str, payload: &str) -> String {
    format!("{}.{}", b64(header), b64(payload))
}

/// Signs `header.payload` (raw JSON text, kept byte for byte) with `key`.
fn sign_raw(header: &str, payload: &str, key: &EncodingKey, alg: Algorithm) -> String {
    let input = signing_input(header, payload);
    let signature = jsonwebtoken::crypto::sign(input.as_bytes(), key, alg).unwrap();
    format!("{input}.{signature}")
}

fn hs256(header: &str, payload: &str, secret: &[u8]) -> String {
    sign_raw(
        header,
        payload,
        &EncodingKey::from_secret(secret),
        Algorithm::HS256,
    )
}

/// Signed with the test manager's own secret: only the header or claims
/// policy can refuse it.
fn genuine_hs(header: &str, payload: &str) -> String {
    hs256(header, payload, SECRET.as_bytes())
}

const HS_HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// Alice's valid claims with one claim set to `value`, signed with the
/// manager's own secret: only the claims policy can refuse it.
fn alice_with(name: &str, value: Value) -> String {
    let mut claims = claims("alice");
    claims[name] = value;
    genuine_hs(HS_HEADER, &claims.to_string())
}

fn with_signature(token: &str, signature: &str) -> String {
    let (input, _) = token.rsplit_once('.').unwrap();
    format!("{input}.{signature}")
}

fn signature_bytes(token: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(token.rsplit('.').next().unwrap())
        .unwrap()
}

// ---------------------------------------------------------------------------
// The target: a guarded app that counts handler runs

#[derive(Clone, Default)]
struct Runs(Arc<AtomicUsize>);

struct Target {
    app: Router,
    runs: Runs,
    manager: TokenManager,
    /// Key material that must never appear in a response.
    secrets: Vec<String>,
}

#[require_token]
async fn me(axum::extract::State(runs): axum::extract::State<Runs>, token: Token) -> String {
    runs.0.fetch_add(1, Ordering::SeqCst);
    token.sub().to_owned()
}

#[require_token(fresh, sub = "username")]
async fn user(
    axum::extract::State(runs): axum::extract::State<Runs>,
    Path(username): Path<String>,
) -> String {
    runs.0.fetch_add(1, Ordering::SeqCst);
    username
}

#[require_token(scope(admin = true))]
async fn admin(axum::extract::State(runs): axum::extract::State<Runs>) -> &'static str {
    runs.0.fetch_add(1, Ordering::SeqCst);
    "admin"
}

#[require_token(refresh)]
async fn refresh(axum::extract::State(runs): axum::extract::State<Runs>) -> &'static str {
    runs.0.fetch_add(1, Ordering::SeqCst);
    "refreshed"
}

impl Target {
    fn new(builder: TokenManagerBuilder, secrets: Vec<String>) -> Self {
        let manager = builder.clock(TestClock::new()).build().unwrap();
        let runs = Runs::default();
        let app = Router::new()
            .route("/me", get(me))
            .route("/users/{username}", get(user))
            .route("/admin", get(admin))
            .route("/refresh", get(refresh))
            .with_state(runs.clone())
            .layer(manager.layer());
        Self {
            app,
            runs,
            manager,
            secrets,
        }
    }

    fn hs() -> Self {
        Self::new(builder(), vec![SECRET.to_owned()])
    }

    fn pem(alg: &str) -> Self {
        let (file, set): (&str, Setter) = match alg {
            "RS256" => ("rsa", |b, k, p| b.rs256_pem(k, p)),
            "ES256" => ("ec256", |b, k, p| b.es256_pem(k, p)),
            "EdDSA" => ("ed25519", |b, k, p| b.ed25519_pem(k, p)),
            _ => unreachable!(),
        };
        let private = key(&format!("{file}-private"));
        let secrets = pem_lines(&private);
        Self::new(
            set(
                TokenManager::builder().issuer("test"),
                private,
                key(&format!("{file}-public")),
            ),
            secrets,
        )
    }

    fn genuine(&self) -> String {
        self.manager
            .access_token("alice")
            .fresh(true)
            .scope(json!({"admin": true}))
            .sign()
            .unwrap()
            .into_string()
    }

    /// Sends `request` and asserts a clean refusal.
    async fn refuses_request(
        &self,
        request: Request<Body>,
        status: u16,
        code: Option<&str>,
        token: &str,
    ) {
        let before = self.runs.0.load(Ordering::SeqCst);
        let reply = send(&self.app, request).await;
        assert_eq!(reply.status.as_u16(), status, "{token:.80}: {reply:?}");
        let challenge = reply
            .challenge()
            .unwrap_or_else(|| panic!("no challenge: {reply:?}"));
        assert!(
            challenge.starts_with(r#"Bearer realm="test""#),
            "{challenge}"
        );
        match code {
            Some(code) => assert!(
                challenge.contains(&format!(r#"error="{code}""#)),
                "{challenge}"
            ),
            None => assert!(!challenge.contains("error="), "{challenge}"),
        }
        assert_eq!(
            self.runs.0.load(Ordering::SeqCst),
            before,
            "the handler ran"
        );
        let body = reply.text.to_lowercase();
        for part in token.split('.').filter(|p| p.len() >= 8) {
            assert!(
                !reply.text.contains(part),
                "response echoes the token: {}",
                reply.text
            );
        }
        for secret in &self.secrets {
            assert!(
                !reply.text.contains(secret.as_str()),
                "response leaks key material"
            );
        }
        for leak in [
            "panick",
            "called `",
            "error(",
            "serde",
            "thread",
            "backtrace",
            "unwrap",
        ] {
            assert!(
                !body.contains(leak),
                "response leaks internals: {}",
                reply.text
            );
        }
        // A genuine token still works afterwards.
        let genuine = self.genuine();
        assert_eq!(get_with(&self.app, "/me", &genuine).await.status, 200);
    }

    async fn refuses_at(&self, uri: &str, token: &str, status: u16, code: Option<&str>) {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.refuses_request(request, status, code, token).await;
    }

    /// Asserts that `token` is accepted as Alice's: the control beside a
    /// refusal, or a valid encoding that must keep its meaning.
    async fn accepts(&self, token: &str) {
        let reply = get_with(&self.app, "/me", token).await;
        assert_eq!(
            (reply.status.as_u16(), reply.text.as_str()),
            (200, "alice"),
            "{token:.80}"
        );
    }

    async fn refuses(&self, token: &str) {
        self.refuses_at("/me", token, 401, Some("invalid_token"))
            .await;
    }
}

fn pem_lines(pem: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(pem)
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_owned)
        .collect()
}

fn public_der(file: &str) -> Vec<u8> {
    let pem = String::from_utf8(key(file)).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

// ---------------------------------------------------------------------------
// alg tricks

#[tokio::test]
async fn alg_none_in_every_spelling() {
    let target = Target::hs();
    let payload = claims("alice").to_string();
    let kept = signature_bytes(&target.genuine());
    for alg in ["none", "None", "NONE", "nOnE", "", "HS256 ", "hs256"] {
        let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        let input = signing_input(&header, &payload);
        target.refuses(&format!("{input}.")).await;
        target.refuses(&format!("{input}.{}", b64(&kept))).await;
        target.refuses(&input).await;
    }
}

#[tokio::test]
async fn another_algorithm_than_the_keys() {
    let target = Target::hs();
    let payload = claims("alice").to_string();
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let header = format!(r#"{{"alg":"{alg:?}","typ":"JWT"}}"#);
        let token = sign_raw(
            &header,
            &payload,
            &EncodingKey::from_secret(SECRET.as_bytes()),
            alg,
        );
        target.refuses(&token).await;
    }
    // An HS256 header on an HS384 signature, and the reverse.
    let mixed = sign_raw(
        HS_HEADER,
        &payload,
        &EncodingKey::from_secret(SECRET.as_bytes()),
        Algorithm::HS384,
    );
    target.refuses(&mixed).await;
}

#[tokio::test]
async fn public_key_used_as_an_hmac_secret() {
    for (alg, file) in [
        ("RS256", "rsa-public"),
        ("ES256", "ec256-public"),
        ("EdDSA", "ed25519-public"),
    ] {
        let target = Target::pem(alg);
        let payload = claims("alice").to_string();
        let pem = key(file);
        let der = public_der(file);
        let jwk = json!({"kty": "RSA", "n": b64(&der), "e": "AQAB"}).to_string();
        for secret in [
            pem.clone(),
            der.clone(),
            jwk.into_bytes(),
            pem.trim_ascii_end().to_vec(),
        ] {
            // Honest about being HMAC…
            target.refuses(&hs256(HS_HEADER, &payload, &secret)).await;
            // …or claiming the key's own algorithm.
            let header = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
            target.refuses(&hs256(&header, &payload, &secret)).await;
        }
    }
}

#[tokio::test]
async fn tokens_of_another_family() {
    let hs = Target::hs();
    let rs = Target::pem("RS256");
    let es = Target::pem("ES256");
    hs.refuses(&rs.genuine()).await;
    hs.refuses(&es.genuine()).await;
    rs.refuses(&hs.genuine()).await;
    rs.refuses(&es.genuine()).await;
    es.refuses(&rs.genuine()).await;
}

// ---------------------------------------------------------------------------
// Signature tampering

#[tokio::test]
async fn tampered_payload_or_header_with_the_old_signature() {
    let target = Target::hs();
    let genuine = target.genuine();
    let parts: Vec<&str> = genuine.split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    payload["sub"] = json!("root");
    let edited = format!("{}.{}.{}", parts[0], b64(payload.to_string()), parts[2]);
    target.refuses(&edited).await;
    let header = b64(r#"{"alg":"HS256","typ":"JWT","x":1}"#);
    target
        .refuses(&format!("{header}.{}.{}", parts[1], parts[2]))
        .await;
    // Another token's signature.
    let other = access(&target.manager, "bob");
    target
        .refuses(&with_signature(&genuine, other.rsplit('.').next().unwrap()))
        .await;
}

#[tokio::test]
async fn malformed_signatures() {
    let target = Target::hs();
    let genuine = target.genuine();
    let sig = genuine.rsplit('.').next().unwrap().to_owned();
    let standard = STANDARD.encode(signature_bytes(&genuine));
    let mut non_canonical = sig.clone();
    // 32 bytes encode to 43 characters: the last carries 2 unused bits.
    let last = non_canonical.pop().unwrap();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|&c| c == last as u8).unwrap();
    non_canonical.push(alphabet[index ^ 1] as char);
    for bad in [
        sig[..sig.len() - 4].to_owned(),
        String::new(),
        format!("{sig}="),
        format!("{sig}=="),
        standard.clone(),
        // The standard alphabet: `+` and `/` are not base64url.
        format!("+{}", &sig[1..]),
        format!("/{}", &sig[1..]),
        sig.replace('-', "+").replace('_', "/") + "+/",
        format!("{sig}A"),
        non_canonical,
        b64(vec![0u8; 32]),
    ] {
        target.refuses(&with_signature(&genuine, &bad)).await;
    }
}

/// `n - s` for big-endian numbers of the same length.
fn sub_be(n: &[u8], s: &[u8]) -> Vec<u8> {
    let mut out = vec![0u8; n.len()];
    let mut borrow = 0i16;
    for i in (0..n.len()).rev() {
        let mut d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    out
}

const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

#[tokio::test]
async fn psychic_ecdsa_signatures() {
    let target = Target::pem("ES256");
    let genuine = target.genuine();
    let zero = [0u8; 32];
    for (r, s) in [
        (zero, zero),
        (zero, P256_ORDER),
        (P256_ORDER, P256_ORDER),
        (P256_ORDER, zero),
    ] {
        let signature = [r, s].concat();
        target
            .refuses(&with_signature(&genuine, &b64(signature)))
            .await;
    }
    // A DER-encoded signature is not the JWS form.
    target
        .refuses(&with_signature(
            &genuine,
            &b64([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]),
        ))
        .await;
}

// ---------------------------------------------------------------------------
// Dangerous headers

#[tokio::test]
async fn key_carrying_headers_are_never_used() {
    // The attacker signs with their own RSA key and offers it in the header.
    let target = Target::pem("RS256");
    let attacker = EncodingKey::from_rsa_pem(&key("rsa2-private")).unwrap();
    let der = public_der("rsa2-public");
    let payload = claims("alice").to_string();
    for extra in [
        json!({"jwk": {"kty": "RSA", "e": "AQAB", "n": b64(&der)}}),
        json!({"jku": "https://attacker.invalid/jwks.json"}),
        json!({"x5u": "https://attacker.invalid/cert.pem"}),
        json!({"x5c": [STANDARD.encode(&der)]}),
    ] {
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        header
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let token = sign_raw(&header.to_string(), &payload, &attacker, Algorithm::RS256);
        target.refuses(&token).await;
    }
}

#[tokio::test]
async fn kid_injection_and_unknown_kid() {
    let target = Target::hs();
    let with_kid = Target::new(builder().key_id("k1"), vec![SECRET.to_owned()]);
    let payload = claims("alice").to_string();
    for kid in [
        "../../../../dev/null",
        "' OR '1'='1",
        "$(reboot)",
        "|id",
        "k2",
        "",
        "k1\u{0}",
    ] {
        let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid}).to_string();
        // Even signed with the real secret (or the empty one /dev/null
        // would give), an unknown kid is refused.
        for secret in [SECRET.as_bytes(), b"".as_slice()] {
            let token = hs256(&header, &payload, secret);
            target.refuses(&token).await;
            with_kid.refuses(&token).await;
        }
    }
    // The configured kid works.
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}).to_string();
    assert_eq!(
        get_with(&with_kid.app, "/me", &genuine_hs(&header, &payload))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn refused_headers_even_when_genuinely_signed() {
    let target = Target::hs();
    let payload = claims("alice").to_string();
    for header in [
        json!({"alg": "HS256", "crit": ["exp"]}),
        json!({"alg": "HS256", "crit": []}),
        json!({"alg": "HS256", "b64": false}),
        json!({"alg": "HS256", "zip": "DEF"}),
        json!({"alg": "HS256", "cty": "JWT"}),
        json!({"alg": "HS256", "alg2": "none", "cty": "jwt"}),
        json!(["HS256"]),
        json!("HS256"),
    ] {
        target
            .refuses(&genuine_hs(&header.to_string(), &payload))
            .await;
    }
    // A duplicated alg.
    target
        .refuses(&genuine_hs(r#"{"alg":"HS256","alg":"none"}"#, &payload))
        .await;
    target
        .refuses(&genuine_hs(r#"{"alg":"none","alg":"HS256"}"#, &payload))
        .await;
}

#[tokio::test]
async fn other_serializations() {
    let target = Target::hs();
    let genuine = target.genuine();
    let parts: Vec<&str> = genuine.split('.').collect();
    // JWE-shaped, five parts.
    target
        .refuses(&format!(
            "{}.{}.{}.{}.{}",
            parts[0], "", parts[1], parts[2], "tag"
        ))
        .await;
    target.refuses(&format!("{genuine}.x.y")).await;
    // JWS JSON serialization.
    let json =
        json!({"protected": parts[0], "payload": parts[1], "signature": parts[2]}).to_string();
    target.refuses(&json).await;
    target.refuses(&b64(&json)).await;
    // Nested: a JWT whose payload is a JWT.
    let nested = genuine_hs(r#"{"alg":"HS256","cty":"JWT"}"#, &genuine);
    target.refuses(&nested).await;
    let nested_plain = genuine_hs(HS_HEADER, &format!("\"{genuine}\""));
    target.refuses(&nested_plain).await;
}

// ---------------------------------------------------------------------------
// JSON and JOSE as the RFCs read them

/// Alice's claims as JSON text, with `replace` applied to the text.
fn claims_text(replace: &[(&str, &str)]) -> String {
    let mut text = claims("alice").to_string();
    for (from, to) in replace {
        assert!(text.contains(from), "{text} lacks {from}");
        text = text.replacen(from, to, 1);
    }
    text
}

#[tokio::test]
async fn a_valid_encoding_of_the_same_value_means_the_same() {
    // RFC 8259: escapes, whitespace, member order and number spelling do
    // not change a value; RFC 7515 §4 and RFC 7519 §7.2 read the JSON.
    let target = Target::hs();
    let payload = claims("alice").to_string();
    for header in [
        r#"{"\u0061lg":"HS256","typ":"JWT"}"#,
        r#"{"alg":"HS\u0032\u00356"}"#,
        "{ \"typ\" : \"JWT\" ,\n\t\"alg\" : \"HS256\" }",
        r#"{"alg":"HS256","typ":"\u004aWT"}"#,
    ] {
        target.accepts(&genuine_hs(header, &payload)).await;
    }
    let now = now();
    let exp = (now + 600).to_string();
    for replace in [
        [(r#""sub":"alice""#, r#""s\u0075b":"\u0061lice""#)],
        [(r#""type":"access""#, r#""typ\u0065":"acc\u0065ss""#)],
        [(&*format!(r#""exp":{exp}"#), &*format!(r#""exp":{exp}.0"#))],
        [(&*format!(r#""exp":{exp}"#), &*format!(r#""exp":{exp}e0"#))],
        [(&*format!(r#""exp":{exp}"#), &*format!(r#""exp":{exp}.75"#))],
        [(&*format!(r#""iat":{now}"#), &*format!(r#""iat":{now}.5"#))],
        [(r#""fresh":true"#, r#"   "fresh" :true "#)],
    ] {
        target
            .accepts(&genuine_hs(HS_HEADER, &claims_text(&replace)))
            .await;
    }
}

#[tokio::test]
async fn a_numeric_date_rounds_toward_the_safe_side() {
    // RFC 7519 §2: a NumericDate need not be an integer.
    let target = Target::hs();
    let now = now();
    let leeway = 30;
    // An `exp` half a second past, beyond the leeway: expired.
    let expired = format!("{}.5", now - leeway - 1);
    target
        .refuses(&genuine_hs(
            HS_HEADER,
            &claims_text(&[(
                &format!(r#""exp":{}"#, now + 600),
                &format!(r#""exp":{expired}"#),
            )]),
        ))
        .await;
    // An `nbf` half a second after the end of the leeway: not yet valid.
    let early = format!("{}.5", now + leeway);
    target
        .refuses(&genuine_hs(
            HS_HEADER,
            &claims_text(&[(&format!(r#""nbf":{now}"#), &format!(r#""nbf":{early}"#))]),
        ))
        .await;
    // An `iat` half a second after it, with no `nbf`: issued in the future.
    let mut future = claims("alice");
    future.as_object_mut().unwrap().remove("nbf");
    let text =
        future
            .to_string()
            .replacen(&format!(r#""iat":{now}"#), &format!(r#""iat":{early}"#), 1);
    target.refuses(&genuine_hs(HS_HEADER, &text)).await;
}

#[tokio::test]
async fn members_of_other_jose_objects_are_refused_however_spelled() {
    // RFC 7516 §9: `enc` marks a JWE; `zip` belongs to JWE; `crit` and
    // `b64` change how the JWS is read; a spelling with escapes is the same
    // member name.
    let target = Target::hs();
    let payload = claims("alice").to_string();
    for header in [
        r#"{"alg":"HS256","enc":"A128GCM"}"#,
        r#"{"alg":"HS256","\u0065nc":"A128GCM"}"#,
        r#"{"alg":"HS256","\u0063rit":["exp"]}"#,
        r#"{"alg":"HS256","zi\u0070":"DEF"}"#,
        r#"{"alg":"HS256","b\u00364":false}"#,
    ] {
        target.refuses(&genuine_hs(header, &payload)).await;
    }
    target
        .accepts(&genuine_hs(r#"{"alg":"HS256"}"#, &payload))
        .await;
}

#[tokio::test]
async fn a_member_name_twice_is_refused_whatever_the_name() {
    let target = Target::hs();
    let payload = claims("alice").to_string();
    for header in [
        r#"{"alg":"HS256","typ":"JWT","typ":"JWT"}"#,
        r#"{"alg":"HS256","x":1,"x":1}"#,
        r#"{"alg":"HS256","\u0061lg":"HS256"}"#,
        r#"{"alg":"HS256","x":{"y":1,"y":1}}"#,
    ] {
        target.refuses(&genuine_hs(header, &payload)).await;
    }
    for replace in [
        [(r#""sub":"alice""#, r#""sub":"alice","s\u0075b":"alice""#)],
        [(
            r#""scope":{"admin":false}"#,
            r#""scope":{"admin":false,"admin":false}"#,
        )],
        [(
            r#""scope":{"admin":false}"#,
            r#""scope":{"admin":false},"team":"a","team":"a""#,
        )],
        [(
            r#""scope":{"admin":false}"#,
            r#""scope":{"admin":false},"x":[{"y":1,"y":1}]"#,
        )],
    ] {
        target
            .refuses(&genuine_hs(HS_HEADER, &claims_text(&replace)))
            .await;
    }
    // The control: the same members, each once.
    let once = claims_text(&[(
        r#""scope":{"admin":false}"#,
        r#""scope":{"admin":false},"team":"a","x":[{"y":1}]"#,
    )]);
    target
        .accepts(&genuine_hs(
            r#"{"alg":"HS256","typ":"JWT","x":{"y":1}}"#,
            &once,
        ))
        .await;
}

// ---------------------------------------------------------------------------
// Registered claims of the wrong type, or missing

#[tokio::test]
async fn registered_claims_of_the_wrong_type() {
    let target = Target::hs();
    let now = now();
    for name in ["exp", "nbf", "iat"] {
        let good = if name == "exp" { now + 600 } else { now };
        for value in [
            json!(good.to_string()),
            json!(1.0e300),
            json!(-1),
            json!(null),
            json!(true),
            json!([good]),
        ] {
            target.refuses(&alice_with(name, value)).await;
        }
        // Larger than any u64, written by hand (in claims made once, so the
        // clock cannot move between reading the value and replacing it).
        let base = claims("alice");
        let current = format!("\"{name}\":{}", base[name]);
        let text = base.to_string();
        assert!(text.contains(&current));
        let text = text.replacen(&current, &format!("\"{name}\":18446744073709551616"), 1);
        target.refuses(&genuine_hs(HS_HEADER, &text)).await;
    }
    for name in ["exp", "iat", "sub", "jti", "type"] {
        let mut c = claims("alice");
        c.as_object_mut().unwrap().remove(name);
        target.refuses(&genuine_hs(HS_HEADER, &c.to_string())).await;
    }
    let mut future = claims("alice");
    future["nbf"] = json!(now + 3600);
    target
        .refuses(&genuine_hs(HS_HEADER, &future.to_string()))
        .await;
    let mut expired = claims("alice");
    expired["exp"] = json!(now - 3600);
    target
        .refuses(&genuine_hs(HS_HEADER, &expired.to_string()))
        .await;
}

#[tokio::test]
async fn issuer_and_audience() {
    let target = Target::new(builder().audience("web"), vec![SECRET.to_owned()]);
    let base = || {
        let mut c = claims("alice");
        c["aud"] = json!("web");
        c
    };
    assert_eq!(
        get_with(
            &target.app,
            "/me",
            &genuine_hs(HS_HEADER, &base().to_string())
        )
        .await
        .status,
        200
    );
    for (name, value) in [
        ("iss", None),
        ("iss", Some(json!("other"))),
        ("iss", Some(json!(["test"]))),
        ("iss", Some(json!(""))),
        ("aud", None),
        ("aud", Some(json!("other"))),
        ("aud", Some(json!(["other"]))),
        ("aud", Some(json!([]))),
        ("aud", Some(json!(1))),
        ("aud", Some(json!({"web": true}))),
    ] {
        let mut c = base();
        match value {
            Some(v) => c[name] = v,
            None => {
                c.as_object_mut().unwrap().remove(name);
            }
        }
        target.refuses(&genuine_hs(HS_HEADER, &c.to_string())).await;
    }
}

// ---------------------------------------------------------------------------
// Token-kind confusion

#[tokio::test]
async fn token_kind_confusion() {
    let target = Target::hs();
    for kind in [
        json!("refresh"),
        json!("Access"),
        json!("id"),
        json!(["access"]),
        json!(null),
    ] {
        target.refuses(&alice_with("type", kind)).await;
    }
    let access = target.genuine();
    target
        .refuses_at("/refresh", &access, 401, Some("invalid_token"))
        .await;
    // `fresh` as a string never counts as fresh.
    target
        .refuses_at(
            "/users/alice",
            &alice_with("fresh", json!("true")),
            401,
            Some("invalid_token"),
        )
        .await;
    target
        .refuses_at(
            "/users/alice",
            &alice_with("fresh", json!(false)),
            401,
            Some("insufficient_user_authentication"),
        )
        .await;
}

// ---------------------------------------------------------------------------
// Requirement confusion

#[tokio::test]
async fn scope_values_are_not_coerced() {
    let target = Target::hs();
    for admin in [
        json!("true"),
        json!(1),
        json!([true]),
        json!({"value": true}),
        json!(null),
    ] {
        target
            .refuses_at(
                "/admin",
                &alice_with("scope", json!({"admin": admin})),
                403,
                Some("insufficient_scope"),
            )
            .await;
    }
    // A top-level `admin` claim is not the scope.
    target
        .refuses_at(
            "/admin",
            &alice_with("admin", json!(true)),
            403,
            Some("insufficient_scope"),
        )
        .await;
    // Scope of a type the library never issues is a malformed token.
    for scope in [json!(true), json!(["admin"]), json!(1)] {
        target
            .refuses_at(
                "/admin",
                &alice_with("scope", scope),
                401,
                Some("invalid_token"),
            )
            .await;
    }
}

#[tokio::test]
async fn sub_must_match_exactly() {
    let target = Target::hs();
    for (sub, path) in [
        ("alice", "/users/Alice"),
        ("Alice", "/users/alice"),
        ("\u{0430}lice", "/users/alice"),
        ("alice", "/users/%D0%B0lice"),
        ("alice ", "/users/alice"),
        ("alice", "/users/alice%20"),
        ("%61lice", "/users/alice"),
        ("alice\u{0}", "/users/alice"),
        ("alice", "/users/alice%00"),
        ("alice", "/users/alice%00admin"),
        ("alice", "/users/%FF"),
        ("alice", "/users/alice%C3"),
        ("", "/users/alice"),
    ] {
        let token = genuine_hs(HS_HEADER, &claims(sub).to_string());
        target
            .refuses_at(path, &token, 403, Some("insufficient_scope"))
            .await;
    }
    for sub in [
        json!(1),
        json!(["alice"]),
        json!(null),
        json!({"name": "alice"}),
    ] {
        target
            .refuses_at(
                "/users/alice",
                &alice_with("sub", sub),
                401,
                Some("invalid_token"),
            )
            .await;
    }
}

// ---------------------------------------------------------------------------
// Revocation

#[tokio::test]
async fn a_revoked_token_stays_revoked_in_any_encoding() {
    let target = Target::hs();
    let c = claims("alice");
    let original = genuine_hs(HS_HEADER, &c.to_string());
    revoke(&target.manager, &original, TokenKind::Access).await;
    target.refuses(&original).await;
    // The same claims, serialized differently and signed anew with the key.
    let pretty = serde_json::to_string_pretty(&c).unwrap();
    let reordered = {
        let map = c.as_object().unwrap();
        let mut keys: Vec<_> = map.keys().collect();
        keys.reverse();
        let fields: Vec<String> = keys
            .iter()
            .map(|k| format!("{:?}:{}", k, map[*k]))
            .collect();
        format!("{{{}}}", fields.join(","))
    };
    for payload in [pretty, reordered] {
        target
            .refuses(&genuine_hs(r#"{"typ":"JWT","alg":"HS256"}"#, &payload))
            .await;
    }
    // Other encodings of the same signature are not tokens at all.
    target.refuses(&format!("{original}=")).await;
}

#[tokio::test]
async fn a_revoked_ecdsa_token_stays_revoked_with_its_high_s_twin() {
    let target = Target::pem("ES256");
    let genuine = target.genuine();
    revoke(&target.manager, &genuine, TokenKind::Access).await;
    let sig = signature_bytes(&genuine);
    let twin = [&sig[..32], &sub_be(&P256_ORDER, &sig[32..])].concat();
    target.refuses(&genuine).await;
    target.refuses(&with_signature(&genuine, &b64(twin))).await;
}

// ---------------------------------------------------------------------------
// Parsing and size

#[tokio::test]
async fn duplicate_keys_and_deep_nesting() {
    let target = Target::hs();
    let base = claims("alice").to_string();
    let body = &base[1..base.len() - 1];
    for duplicate in [
        r#""sub":"root""#,
        r#""exp":99999999999"#,
        r#""type":"access""#,
        r#""fresh":true"#,
    ] {
        target
            .refuses(&genuine_hs(HS_HEADER, &format!("{{{body},{duplicate}}}")))
            .await;
        target
            .refuses(&genuine_hs(HS_HEADER, &format!("{{{duplicate},{body}}}")))
            .await;
    }
    let deep = format!("{{{body},\"x\":{}{}}}", "[".repeat(1000), "]".repeat(1000));
    target.refuses(&genuine_hs(HS_HEADER, &deep)).await;
    // A deep header is parsed before the signature is checked: an attacker's
    // one must be refused without harm.
    for depth in [100, 200, 10_000] {
        let deep_header = format!(
            r#"{{"alg":"HS256","x":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        target
            .refuses(&hs256(
                &deep_header,
                &base,
                b"an attacker's secret, 32 bytes long",
            ))
            .await;
    }
    // Not UTF-8, not JSON, not an object.
    for payload in [&b"\xff\xfe\xfd"[..], b"", b"null", b"[]", b"\"alice\""] {
        let input = format!("{}.{}", b64(HS_HEADER), b64(payload));
        let signature = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        )
        .unwrap();
        target.refuses(&format!("{input}.{signature}")).await;
    }
}

#[tokio::test]
async fn oversized_and_garbled_requests() {
    let target = Target::hs();
    let genuine = target.genuine();
    // A 1 MB header and a 100 KB token are refused before any decoding.
    target.refuses(&"a".repeat(1024 * 1024)).await;
    target
        .refuses(&format!(
            "{}.{}.{}",
            "e".repeat(50_000),
            "e".repeat(50_000),
            "e"
        ))
        .await;
    target.refuses(&".".repeat(5000)).await;
    target
        .refuses(&format!("{genuine}{}", ".".repeat(10)))
        .await;
    // Not UTF-8 in the header: a malformed request.
    let mut bytes = b"Bearer ".to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, b'.', 0x80]);
    let request = Request::get("/me")
        .header(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(&bytes).unwrap(),
        )
        .body(Body::empty())
        .unwrap();
    target
        .refuses_request(request, 400, Some("invalid_request"), "")
        .await;
    // A NUL (percent-encoded, as a header cannot carry one) in the query.
    let query = Target::new(
        builder().locations([jwt_guard::Location::Header, jwt_guard::Location::Query]),
        vec![SECRET.to_owned()],
    );
    let request = Request::get(format!("/me?access_token={}%00", genuine))
        .body(Body::empty())
        .unwrap();
    query
        .refuses_request(request, 401, Some("invalid_token"), &genuine)
        .await;
}
