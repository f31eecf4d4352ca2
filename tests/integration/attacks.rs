//! Every known JWT attack, built by hand (base64 and raw signatures, not the
//! library's encoder). Each case asserts the one reason it is refused for,
//! through [`Reply::assert_refused`] (status, challenge, body, that the
//! handler did not run, that nothing leaks), and has a positive control: the
//! same token with the one change undone is accepted. A genuine token still
//! works after every refusal.

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, Request, header};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, EncodingKey};
use jwt_guard::{
    AuthError, Forbidden, InvalidRequest, InvalidToken, Token, TokenKind, TokenManager,
    TokenManagerBuilder, require_token,
};
use serde_json::{Value, json};

use crate::common::*;
use crate::forge::*;

// ---------------------------------------------------------------------------
// The target: a guarded app whose handlers mark their replies

struct Target {
    app: Router,
    manager: TokenManager,
    /// Key material that must never appear in a response.
    secrets: Vec<String>,
    /// Signs as the target's own key does, for controls made by hand.
    key: EncodingKey,
    alg: Algorithm,
}

#[require_token(fresh, sub = "username")]
async fn user(Path(username): Path<String>) -> Ran<String> {
    Ran(username)
}

#[require_token(scope(admin = true))]
async fn admin(token: Token) -> Ran<String> {
    Ran(format!("admin {}", token.sub()))
}

#[require_token(refresh)]
async fn refresh(token: Token) -> Ran<String> {
    Ran(format!("refreshed {}", token.sub()))
}

impl Target {
    fn new(
        builder: TokenManagerBuilder,
        secrets: Vec<String>,
        key: EncodingKey,
        alg: Algorithm,
    ) -> Self {
        let manager = builder.clock(TestClock::new()).build().unwrap();
        let app = Router::new()
            .route("/me", get(me))
            .route("/users/{username}", get(user))
            .route("/admin", get(admin))
            .route("/refresh", get(refresh))
            .layer(manager.layer());
        Self {
            app,
            manager,
            secrets,
            key,
            alg,
        }
    }

    fn hs_with(builder: TokenManagerBuilder) -> Self {
        Self::new(
            builder,
            vec![SECRET.to_owned()],
            EncodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        )
    }

    fn hs() -> Self {
        Self::hs_with(builder())
    }

    fn pem(alg: &str) -> Self {
        let family = match alg {
            "RS256" => Family {
                file: "rsa",
                set: |b, k, p| b.rs256_pem(k, p),
                encoding: |k| EncodingKey::from_rsa_pem(k).unwrap(),
                alg: Algorithm::RS256,
            },
            "ES256" => Family {
                file: "ec256",
                set: |b, k, p| b.es256_pem(k, p),
                encoding: |k| EncodingKey::from_ec_pem(k).unwrap(),
                alg: Algorithm::ES256,
            },
            "ES384" => Family {
                file: "ec384",
                set: |b, k, p| b.es384_pem(k, p),
                encoding: |k| EncodingKey::from_ec_pem(k).unwrap(),
                alg: Algorithm::ES384,
            },
            "EdDSA" => Family {
                file: "ed25519",
                set: |b, k, p| b.ed25519_pem(k, p),
                encoding: |k| EncodingKey::from_ed_pem(k).unwrap(),
                alg: Algorithm::EdDSA,
            },
            _ => unreachable!(),
        };
        let private = key(&format!("{}-private", family.file));
        let secrets = key_lines(&format!("{}-private", family.file));
        let encoding = (family.encoding)(&private);
        Self::new(
            (family.set)(
                TokenManager::builder().issuer("test"),
                private,
                key(&format!("{}-public", family.file)),
            ),
            secrets,
            encoding,
            family.alg,
        )
    }

    /// A token the library issues: fresh, with the scope `admin`.
    fn genuine(&self) -> String {
        self.manager
            .access_token("alice")
            .fresh(true)
            .scope(json!({"admin": true}))
            .sign()
            .unwrap()
            .into_string()
    }

    /// `header.payload` signed with the target's own key.
    fn sign(&self, header: &str, payload: &str) -> String {
        sign_raw(header, payload, &self.key, self.alg)
    }

    /// The header the library writes for the target's key.
    fn header(&self) -> String {
        json!({"alg": format!("{:?}", self.alg), "typ": "JWT"}).to_string()
    }

    /// Sends `request` and asserts that it is refused for `expected` alone,
    /// leaking neither `token` nor key material; then that a genuine token
    /// still works.
    async fn refuses_request(
        &self,
        request: Request<Body>,
        expected: impl Into<AuthError>,
        token: &str,
    ) {
        let reply = send(&self.app, request).await;
        let mut secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        secrets.push(token);
        reply.assert_refused(REALM, expected, &secrets);
        self.accepts(&self.genuine()).await;
    }

    async fn refuses_at(&self, uri: &str, token: &str, expected: impl Into<AuthError>) {
        let request = Request::get(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        self.refuses_request(request, expected, token).await;
    }

    /// Asserts that `token` is refused on `/me` for `expected`.
    async fn refuses(&self, token: &str, expected: impl Into<AuthError>) {
        self.refuses_at("/me", token, expected).await;
    }

    /// Asserts that `uri` answers `body` to `token`: the control beside a
    /// refusal, or a valid encoding that must keep its meaning.
    async fn accepts_at(&self, uri: &str, token: &str, body: &str) {
        get_with(&self.app, uri, token).await.assert_ok(body);
    }

    /// Asserts that `token` is accepted on `/me` as Alice's.
    async fn accepts(&self, token: &str) {
        self.accepts_at("/me", token, "alice").await;
    }
}

/// A family of PEM keys: its test key files, how the builder and
/// jsonwebtoken take them, and its algorithm.
struct Family {
    file: &'static str,
    set: Setter,
    encoding: fn(&[u8]) -> EncodingKey,
    alg: Algorithm,
}

fn public_der(file: &str) -> Vec<u8> {
    let pem = String::from_utf8(key(file)).unwrap();
    let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
    STANDARD.decode(body).unwrap()
}

use InvalidToken::{
    Algorithm as WrongAlg, Claims, Expired, Header, IssuedInFuture, Malformed, NotYetValid,
    Revoked, Signature, TooLarge, UnknownKey,
};

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
        target.refuses(&format!("{input}."), Malformed).await;
        target
            .refuses(&format!("{input}.{}", b64(&kept)), WrongAlg)
            .await;
        target.refuses(&input, Malformed).await;
    }
    // The control: the same header with the key's `alg`, signed.
    target.accepts(&genuine_hs(HS_HEADER, &payload)).await;
}

#[tokio::test]
async fn another_algorithm_than_the_keys() {
    let target = Target::hs();
    let payload = claims("alice").to_string();
    let key = EncodingKey::from_secret(SECRET.as_bytes());
    for alg in [Algorithm::HS384, Algorithm::HS512] {
        let header = format!(r#"{{"alg":"{alg:?}","typ":"JWT"}}"#);
        target
            .refuses(&sign_raw(&header, &payload, &key, alg), WrongAlg)
            .await;
    }
    // An HS256 header on an HS384 signature.
    let mixed = sign_raw(HS_HEADER, &payload, &key, Algorithm::HS384);
    target.refuses(&mixed, Signature).await;
    // The control: the HS256 header on an HS256 signature.
    target
        .accepts(&sign_raw(HS_HEADER, &payload, &key, Algorithm::HS256))
        .await;
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
        let own = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        for secret in [
            pem.clone(),
            der.clone(),
            jwk.into_bytes(),
            pem.trim_ascii_end().to_vec(),
        ] {
            // Honest about being HMAC…
            target
                .refuses(&hs256(HS_HEADER, &payload, &secret), WrongAlg)
                .await;
            // …or claiming the key's own algorithm.
            target
                .refuses(&hs256(&own, &payload, &secret), Signature)
                .await;
        }
        // The control: the key's own header, signed with its private key.
        target.accepts(&target.sign(&own, &payload)).await;
    }
}

#[tokio::test]
async fn tokens_of_another_family() {
    let hs = Target::hs();
    let rs = Target::pem("RS256");
    let es = Target::pem("ES256");
    hs.refuses(&rs.genuine(), WrongAlg).await;
    hs.refuses(&es.genuine(), WrongAlg).await;
    rs.refuses(&hs.genuine(), WrongAlg).await;
    rs.refuses(&es.genuine(), WrongAlg).await;
    es.refuses(&rs.genuine(), WrongAlg).await;
    // The controls: each its own.
    for target in [&hs, &rs, &es] {
        target.accepts(&target.genuine()).await;
    }
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
    target.refuses(&edited, Signature).await;
    let header = b64(r#"{"alg":"HS256","typ":"JWT","x":1}"#);
    target
        .refuses(&format!("{header}.{}.{}", parts[1], parts[2]), Signature)
        .await;
    // Another token's signature.
    let other = access(&target.manager, "bob");
    target
        .refuses(
            &with_signature(&genuine, other.rsplit('.').next().unwrap()),
            Signature,
        )
        .await;
    // The control: the untouched token, and the edited claims signed anew.
    target.accepts(&genuine).await;
    target
        .accepts_at(
            "/admin",
            &target.sign(&target.header(), &payload.to_string()),
            "admin root",
        )
        .await;
}

#[tokio::test]
async fn malformed_signatures() {
    // A token of constant bytes, so its signature, and which of its
    // spellings are canonical, are the same on every run.
    let target = Target::hs();
    let genuine = genuine_hs(HS_HEADER, &claims("alice").to_string());
    let sig = genuine.rsplit('.').next().unwrap().to_owned();
    assert_eq!(sig.len(), 43);
    let standard = STANDARD.encode(signature_bytes(&genuine));
    let mut non_canonical = sig.clone();
    // 32 bytes encode to 43 characters: the last carries 2 unused bits.
    let last = non_canonical.pop().unwrap();
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.iter().position(|&c| c == last as u8).unwrap();
    non_canonical.push(alphabet[index ^ 1] as char);
    for (bad, reason) in [
        (sig[..40].to_owned(), Signature),
        (format!("{sig}A"), Signature),
        (b64(vec![0u8; 32]), Signature),
        (String::new(), Malformed),
        (format!("{sig}="), Malformed),
        (format!("{sig}=="), Malformed),
        (standard, Malformed),
        // The standard alphabet: `+` and `/` are not base64url.
        (format!("+{}", &sig[1..]), Malformed),
        (format!("/{}", &sig[1..]), Malformed),
        (sig.replace('-', "+").replace('_', "/") + "+/", Malformed),
        (non_canonical, Malformed),
    ] {
        target
            .refuses(&with_signature(&genuine, &bad), reason)
            .await;
    }
    target.accepts(&genuine).await;
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

const P384_ORDER: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

#[tokio::test]
async fn psychic_ecdsa_signatures() {
    // CVE-2022-21449: `r` or `s` of zero, or equal to the curve order, must
    // never verify, on either curve.
    for (alg, order) in [("ES256", &P256_ORDER[..]), ("ES384", &P384_ORDER[..])] {
        let target = Target::pem(alg);
        let genuine = target.genuine();
        assert_eq!(signature_bytes(&genuine).len(), 2 * order.len());
        let zero = vec![0u8; order.len()];
        for (r, s) in [
            (&zero[..], &zero[..]),
            (&zero[..], order),
            (order, order),
            (order, &zero[..]),
        ] {
            let signature = [r, s].concat();
            target
                .refuses(&with_signature(&genuine, &b64(signature)), Signature)
                .await;
        }
        // A DER-encoded signature is not the JWS form.
        target
            .refuses(
                &with_signature(
                    &genuine,
                    &b64([0x30, 0x06, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00]),
                ),
                Signature,
            )
            .await;
        target.accepts(&genuine).await;
    }
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
        let header = header.to_string();
        let token = sign_raw(&header, &payload, &attacker, Algorithm::RS256);
        target.refuses(&token, Signature).await;
        // The control: the same header, signed with the target's key: the
        // member is skipped, never used.
        target.accepts(&target.sign(&header, &payload)).await;
    }
}

#[tokio::test]
async fn kid_injection_and_unknown_kid() {
    let target = Target::hs();
    let with_kid = Target::hs_with(builder().key_id("k1"));
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
            target.refuses(&token, UnknownKey).await;
            with_kid.refuses(&token, UnknownKey).await;
        }
    }
    // The control: the configured kid.
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "k1"}).to_string();
    with_kid.accepts(&genuine_hs(&header, &payload)).await;
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
            .refuses(&genuine_hs(&header.to_string(), &payload), Header)
            .await;
    }
    // A duplicated alg.
    for header in [
        r#"{"alg":"HS256","alg":"none"}"#,
        r#"{"alg":"none","alg":"HS256"}"#,
        r#"{"alg":"HS256","alg":"HS256"}"#,
    ] {
        target.refuses(&genuine_hs(header, &payload), Header).await;
    }
    // The control: the header without the refused member.
    target
        .accepts(&genuine_hs(r#"{"alg":"HS256","alg2":"none"}"#, &payload))
        .await;
}

#[tokio::test]
async fn other_serializations() {
    let target = Target::hs();
    let genuine = target.genuine();
    let parts: Vec<&str> = genuine.split('.').collect();
    // JWE-shaped, five parts.
    target
        .refuses(
            &format!("{}.{}.{}.{}.{}", parts[0], "", parts[1], parts[2], "tag"),
            Malformed,
        )
        .await;
    target.refuses(&format!("{genuine}.x.y"), Malformed).await;
    // JWS JSON serialization.
    let json =
        json!({"protected": parts[0], "payload": parts[1], "signature": parts[2]}).to_string();
    target.refuses(&json, Malformed).await;
    target.refuses(&b64(&json), Malformed).await;
    // Nested: a JWT whose payload is a JWT.
    let nested = genuine_hs(r#"{"alg":"HS256","cty":"JWT"}"#, &genuine);
    target.refuses(&nested, Header).await;
    let nested_plain = genuine_hs(HS_HEADER, &format!("\"{genuine}\""));
    target.refuses(&nested_plain, Claims).await;
    // The control: the compact form of the same token.
    target.accepts(&genuine).await;
}

// ---------------------------------------------------------------------------
// JSON and JOSE as the RFCs read them

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
    // RFC 7519 §2: a NumericDate need not be an integer. Each value below
    // is refused when rounded toward the safe side and would pass rounded
    // the other way; the control is the next whole second on the safe side.
    // The leeway is 30 s.
    let target = Target::hs();
    let now = now();
    let exp = format!(r#""exp":{}"#, now + 600);
    // `exp` is rounded down: half a second after the last valid instant.
    target
        .refuses(
            &genuine_hs(
                HS_HEADER,
                &claims_text(&[(&exp, &format!(r#""exp":{}.5"#, now - 30))]),
            ),
            Expired,
        )
        .await;
    target
        .accepts(&genuine_hs(
            HS_HEADER,
            &claims_text(&[(&exp, &format!(r#""exp":{}"#, now - 29))]),
        ))
        .await;
    // `nbf` is rounded up: half a second after the end of the leeway.
    let nbf = format!(r#""nbf":{now}"#);
    target
        .refuses(
            &genuine_hs(
                HS_HEADER,
                &claims_text(&[(&nbf, &format!(r#""nbf":{}.5"#, now + 30))]),
            ),
            NotYetValid,
        )
        .await;
    target
        .accepts(&genuine_hs(
            HS_HEADER,
            &claims_text(&[(&nbf, &format!(r#""nbf":{}"#, now + 30))]),
        ))
        .await;
    // `iat` is rounded up for "issued in the future", with no `nbf` to
    // answer first.
    let iat = format!(r#""iat":{now}"#);
    let without_nbf = |iat_value: String| {
        let text = claims_text(&[(&iat, &iat_value), (&format!(",{nbf}"), "")]);
        genuine_hs(HS_HEADER, &text)
    };
    target
        .refuses(
            &without_nbf(format!(r#""iat":{}.5"#, now + 30)),
            IssuedInFuture,
        )
        .await;
    target
        .accepts(&without_nbf(format!(r#""iat":{}"#, now + 30)))
        .await;
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
        target.refuses(&genuine_hs(header, &payload), Header).await;
    }
    // The control: the same header without the member, and a member of
    // another name with the same value.
    target
        .accepts(&genuine_hs(r#"{"alg":"HS256"}"#, &payload))
        .await;
    target
        .accepts(&genuine_hs(r#"{"alg":"HS256","encx":"A128GCM"}"#, &payload))
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
        target.refuses(&genuine_hs(header, &payload), Header).await;
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
            .refuses(&genuine_hs(HS_HEADER, &claims_text(&replace)), Claims)
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
            json!(-1),
            json!(null),
            json!(true),
            json!([good]),
        ] {
            target.refuses(&alice_with(name, value), Claims).await;
        }
        // Numbers too large for a date, the second larger than any u64 and
        // written by hand: an `exp` after year 9999 is malformed; an `nbf`
        // or `iat` that far is simply in the future.
        let far = match name {
            "exp" => Claims,
            "nbf" => NotYetValid,
            _ => IssuedInFuture,
        };
        target.refuses(&alice_with(name, json!(1.0e300)), far).await;
        let base = claims("alice");
        let current = format!("\"{name}\":{}", base[name]);
        let text = base.to_string();
        assert!(text.contains(&current));
        let text = text.replacen(&current, &format!("\"{name}\":18446744073709551616"), 1);
        target.refuses(&genuine_hs(HS_HEADER, &text), far).await;
        // The control: the value of the right type.
        target.accepts(&alice_with(name, json!(good))).await;
    }
    for name in ["exp", "iat", "sub", "jti", "type"] {
        target.refuses(&alice_without(name), Claims).await;
    }
    // `nbf` and `aud` are optional; `iss` is not when the manager has one.
    target.accepts(&alice_without("nbf")).await;
    let mut future = claims("alice");
    future["nbf"] = json!(now + 3600);
    target
        .refuses(&genuine_hs(HS_HEADER, &future.to_string()), NotYetValid)
        .await;
    let mut expired = claims("alice");
    expired["exp"] = json!(now - 3600);
    target
        .refuses(&genuine_hs(HS_HEADER, &expired.to_string()), Expired)
        .await;
}

#[tokio::test]
async fn issuer_and_audience() {
    let target = Target::hs_with(builder().audience("web"));
    let base = || {
        let mut c = claims("alice");
        c["aud"] = json!("web");
        c
    };
    // The control: the claims the manager expects.
    target
        .accepts(&genuine_hs(HS_HEADER, &base().to_string()))
        .await;
    target
        .accepts(&genuine_hs(
            HS_HEADER,
            &{
                let mut c = base();
                c["aud"] = json!(["mobile", "web"]);
                c
            }
            .to_string(),
        ))
        .await;
    for (name, value, reason) in [
        ("iss", None, InvalidToken::Issuer),
        ("iss", Some(json!("other")), InvalidToken::Issuer),
        ("iss", Some(json!("")), InvalidToken::Issuer),
        ("iss", Some(json!(["test"])), Claims),
        ("aud", None, InvalidToken::Audience),
        ("aud", Some(json!("other")), InvalidToken::Audience),
        ("aud", Some(json!(["other"])), InvalidToken::Audience),
        ("aud", Some(json!([])), InvalidToken::Audience),
        ("aud", Some(json!(1)), Claims),
        ("aud", Some(json!({"web": true})), Claims),
    ] {
        let mut c = base();
        match value {
            Some(v) => c[name] = v,
            None => {
                c.as_object_mut().unwrap().remove(name);
            }
        }
        target
            .refuses(&genuine_hs(HS_HEADER, &c.to_string()), reason)
            .await;
    }
}

// ---------------------------------------------------------------------------
// Token-kind confusion

#[tokio::test]
async fn token_kind_confusion() {
    let target = Target::hs();
    target
        .refuses(
            &alice_with("type", json!("refresh")),
            InvalidToken::WrongKind {
                expected: TokenKind::Access,
            },
        )
        .await;
    for kind in [json!("Access"), json!("id"), json!(["access"]), json!(null)] {
        target.refuses(&alice_with("type", kind), Claims).await;
    }
    target.accepts(&alice_with("type", json!("access"))).await;
    target
        .refuses_at(
            "/refresh",
            &target.genuine(),
            InvalidToken::WrongKind {
                expected: TokenKind::Refresh,
            },
        )
        .await;
    target
        .accepts_at(
            "/refresh",
            &alice_with("type", json!("refresh")),
            "refreshed alice",
        )
        .await;
    // `fresh` as a string never counts as fresh: it is not a `fresh` at all.
    target
        .refuses_at("/users/alice", &alice_with("fresh", json!("true")), Claims)
        .await;
    target
        .refuses_at(
            "/users/alice",
            &alice_with("fresh", json!(false)),
            AuthError::NotFresh,
        )
        .await;
    target
        .accepts_at("/users/alice", &alice_with("fresh", json!(true)), "alice")
        .await;
}

// ---------------------------------------------------------------------------
// Requirement confusion

#[tokio::test]
async fn scope_values_are_not_coerced() {
    let target = Target::hs();
    let lacks_admin = || Forbidden::Scope {
        missing: vec!["admin"],
    };
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
                lacks_admin(),
            )
            .await;
    }
    // A top-level `admin` claim is not the scope.
    target
        .refuses_at("/admin", &alice_with("admin", json!(true)), lacks_admin())
        .await;
    // Scope of a type the library never issues is a malformed token.
    for scope in [json!(true), json!(["admin"]), json!(1)] {
        target
            .refuses_at("/admin", &alice_with("scope", scope), Claims)
            .await;
    }
    // The control: the boolean in the scope map.
    target
        .accepts_at(
            "/admin",
            &alice_with("scope", json!({"admin": true})),
            "admin alice",
        )
        .await;
}

#[tokio::test]
async fn sub_must_match_exactly() {
    let target = Target::hs();
    let mismatch = || Forbidden::PathMismatch {
        claim: "sub",
        param: "username",
    };
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
        target.refuses_at(path, &token, mismatch()).await;
    }
    for sub in [
        json!(1),
        json!(["alice"]),
        json!(null),
        json!({"name": "alice"}),
    ] {
        target
            .refuses_at("/users/alice", &alice_with("sub", sub), Claims)
            .await;
    }
    // The control: the same string on both sides, however the path spells it.
    for path in ["/users/alice", "/users/%61lice"] {
        target
            .accepts_at(
                path,
                &genuine_hs(HS_HEADER, &claims("alice").to_string()),
                "alice",
            )
            .await;
    }
}

// ---------------------------------------------------------------------------
// Revocation

#[tokio::test]
async fn a_revoked_token_stays_revoked_in_any_encoding() {
    let target = Target::hs();
    let encodings = |c: &Value| {
        let pretty = serde_json::to_string_pretty(c).unwrap();
        let reordered = {
            let map = c.as_object().unwrap();
            let fields: Vec<String> = map
                .keys()
                .rev()
                .map(|k| format!("{k:?}:{}", map[k]))
                .collect();
            format!("{{{}}}", fields.join(","))
        };
        [
            genuine_hs(HS_HEADER, &c.to_string()),
            genuine_hs(r#"{"typ":"JWT","alg":"HS256"}"#, &pretty),
            genuine_hs(r#"{"typ":"JWT","alg":"HS256"}"#, &reordered),
        ]
    };
    let revoked = claims("alice");
    let [original, pretty, reordered] = encodings(&revoked);
    revoke(&target.manager, &original, TokenKind::Access).await;
    // The same claims, serialized differently and signed anew with the key.
    for token in [&original, &pretty, &reordered] {
        target.refuses(token, Revoked).await;
    }
    // Other encodings of the same signature are not tokens at all.
    target.refuses(&format!("{original}="), Malformed).await;
    // The control: the same encodings of claims with another `jti`.
    let mut other = revoked.clone();
    other["jti"] = json!("another jti");
    for token in encodings(&other) {
        target.accepts(&token).await;
    }
}

#[tokio::test]
async fn a_revoked_ecdsa_token_stays_revoked_with_its_high_s_twin() {
    // ECDSA signatures are malleable: (r, n - s) verifies too. Revocation
    // is by `jti`, never by the signature's bytes.
    let target = Target::pem("ES256");
    let twin = |token: &str| {
        let sig = signature_bytes(token);
        with_signature(
            token,
            &b64([&sig[..32], &sub_be(&P256_ORDER, &sig[32..])].concat()),
        )
    };
    let genuine = target.genuine();
    revoke(&target.manager, &genuine, TokenKind::Access).await;
    target.refuses(&genuine, Revoked).await;
    target.refuses(&twin(&genuine), Revoked).await;
    // The control: the twin of a token that is not revoked.
    let other = target.genuine();
    target.accepts(&twin(&other)).await;
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
            .refuses(
                &genuine_hs(HS_HEADER, &format!("{{{body},{duplicate}}}")),
                Claims,
            )
            .await;
        target
            .refuses(
                &genuine_hs(HS_HEADER, &format!("{{{duplicate},{body}}}")),
                Claims,
            )
            .await;
    }
    let deep = format!("{{{body},\"x\":{}{}}}", "[".repeat(1000), "]".repeat(1000));
    target.refuses(&genuine_hs(HS_HEADER, &deep), Claims).await;
    // A deep header is parsed before the signature is checked: an attacker's
    // one must be refused without harm.
    let attacker = b"an attacker's secret, 32 bytes long";
    for (depth, reason) in [(100, Signature), (200, Header)] {
        let deep_header = format!(
            r#"{{"alg":"HS256","x":{}{}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        target
            .refuses(&hs256(&deep_header, &base, attacker), reason)
            .await;
    }
    let deepest = format!(r#"{{"alg":"HS256","x":{}}}"#, "[".repeat(10_000));
    target
        .refuses(&hs256(&deepest, &base, attacker), TooLarge)
        .await;
    // Not UTF-8, not JSON, not an object.
    for payload in [&b"\xff\xfe\xfd"[..], b"null", b"[]", b"\"alice\""] {
        let input = format!("{}.{}", b64(HS_HEADER), b64(payload));
        let signature = jsonwebtoken::crypto::sign(
            input.as_bytes(),
            &EncodingKey::from_secret(SECRET.as_bytes()),
            Algorithm::HS256,
        )
        .unwrap();
        target
            .refuses(&format!("{input}.{signature}"), Claims)
            .await;
    }
    // The controls: the claims once each, and a shallow nesting.
    let shallow = format!("{{{body},\"x\":{}{}}}", "[".repeat(20), "]".repeat(20));
    target.accepts(&genuine_hs(HS_HEADER, &shallow)).await;
}

#[tokio::test]
async fn oversized_and_garbled_requests() {
    let target = Target::hs();
    let genuine = target.genuine();
    // A 1 MB header and a 100 KB token are refused before any decoding.
    target.refuses(&"a".repeat(1024 * 1024), TooLarge).await;
    target
        .refuses(
            &format!("{}.{}.{}", "e".repeat(50_000), "e".repeat(50_000), "e"),
            TooLarge,
        )
        .await;
    target.refuses(&".".repeat(5000), Malformed).await;
    target
        .refuses(&format!("{genuine}{}", ".".repeat(10)), Malformed)
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
        .refuses_request(request, InvalidRequest::BadHeader, "")
        .await;
    // A NUL (percent-encoded, as a header cannot carry one) in the query.
    let query = Target::hs_with(
        builder().locations([jwt_guard::Location::Header, jwt_guard::Location::Query]),
    );
    let genuine = query.genuine();
    let request = Request::get(format!("/me?access_token={genuine}%00"))
        .body(Body::empty())
        .unwrap();
    query.refuses_request(request, Malformed, &genuine).await;
    // The control: the same token in the query, without the NUL.
    send(
        &query.app,
        req(&format!("/me?access_token={genuine}"), None),
    )
    .await
    .assert_ok("alice");
}
