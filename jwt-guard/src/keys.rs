//! Step 3 of the order of checks: algorithms and keys (the signing key, and
//! the set of keys that verify, chosen by `kid`, each prepared once at build
//! time) and the strict reading of a compact JWS: size bounds, header,
//! algorithm, signature. [`jwk`] publishes the public keys and reads other
//! issuers'.

use std::borrow::Cow;
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::{ConfigError, InvalidToken, IssueError};

pub(crate) mod jwk;

#[cfg(feature = "aws-lc-rs")]
#[path = "keys/aws_lc.rs"]
mod backend;
#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc-rs")))]
#[path = "keys/rust_crypto.rs"]
mod backend;
#[cfg(not(any(feature = "aws-lc-rs", feature = "rust-crypto")))]
compile_error!(
    "jwt-guard needs a crypto backend: enable the `aws-lc-rs` (default) or the `rust-crypto` feature"
);

/// The shortest HMAC secret accepted for `alg`: the size of its hash
/// (RFC 7518 §3.2), 32, 48 or 64 bytes.
pub(crate) const fn min_secret_bytes(alg: Algorithm) -> usize {
    match alg {
        Algorithm::HS384 => 48,
        Algorithm::HS512 => 64,
        _ => 32,
    }
}

/// The largest decoded header accepted; ours are under 64 bytes.
pub(crate) const MAX_HEADER_BYTES: usize = 512;
/// The largest decoded signature accepted: an RSA-8192 signature.
pub(crate) const MAX_SIGNATURE_BYTES: usize = 1024;

/// Key material as the user configured it.
#[derive(Clone)]
pub(crate) enum Material {
    Secret(Vec<u8>),
    Pem {
        private: Vec<u8>,
        public: Vec<u8>,
    },
    /// A public key alone (PEM): a key that only verifies.
    Public(Vec<u8>),
}

/// One configured key: the builder setting that named it, its `kid`, its
/// algorithm and its material.
#[derive(Clone)]
pub(crate) struct KeySpec {
    pub(crate) setting: &'static str,
    pub(crate) kid: Option<String>,
    pub(crate) alg: Algorithm,
    pub(crate) material: Material,
}

pub(crate) const fn alg_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 => "HS256",
        Algorithm::HS384 => "HS384",
        Algorithm::HS512 => "HS512",
        Algorithm::ES256 => "ES256",
        Algorithm::ES384 => "ES384",
        Algorithm::RS256 => "RS256",
        Algorithm::RS384 => "RS384",
        Algorithm::RS512 => "RS512",
        Algorithm::PS256 => "PS256",
        Algorithm::PS384 => "PS384",
        Algorithm::PS512 => "PS512",
        Algorithm::EdDSA => "EdDSA",
        _ => "unsupported",
    }
}

/// Whether `alg` is an HMAC algorithm (a shared secret).
pub(crate) const fn is_hmac(alg: Algorithm) -> bool {
    matches!(alg, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512)
}

/// A key that verifies: its `kid`, its one algorithm, the verifier
/// prepared once, and its public JWK (none for an HMAC secret).
pub(crate) struct VerifyingKey {
    kid: Option<String>,
    alg: Algorithm,
    verifier: backend::Verifier,
    jwk: Option<Map<String, Value>>,
    /// Set by [`TokenManager::retire_key`](crate::TokenManager::retire_key).
    retired: AtomicBool,
}

impl VerifyingKey {
    /// Prepares a public key (or HMAC secret) for `alg`; the error says
    /// what is wrong with it.
    pub(crate) fn new(
        kid: Option<String>,
        alg: Algorithm,
        decoding: &DecodingKey,
    ) -> Result<Self, String> {
        check_rsa_size(alg, decoding)?;
        let verifier = backend::Verifier::new(alg, decoding).map_err(|reason| {
            format!(
                "the public key does not fit {}, which takes {} ({reason})",
                alg_name(alg),
                key_kind(alg)
            )
        })?;
        let jwk = (!is_hmac(alg))
            .then(|| jwk::public_jwk(alg, kid.as_deref(), decoding))
            .flatten();
        Ok(Self {
            kid,
            alg,
            verifier,
            jwk,
            retired: AtomicBool::new(false),
        })
    }

    pub(crate) fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// Whether a signature this key verified may be remembered: checking it
    /// again costs far more than a lookup (every algorithm but HMAC).
    pub(crate) const fn is_asymmetric(&self) -> bool {
        !is_hmac(self.alg)
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    pub(crate) fn jwk(&self) -> Option<&Map<String, Value>> {
        self.jwk.as_ref()
    }
}

/// An RSA key of 2048 to 8192 bits; any other key passes.
fn check_rsa_size(alg: Algorithm, decoding: &DecodingKey) -> Result<(), String> {
    if family_name(alg) != "RSA" {
        return Ok(());
    }
    let bits = decoding
        .try_get_as_bytes()
        .ok()
        .and_then(jwk::rsa_components)
        .map_or(0, |(n, _)| jwk::bits(n));
    if bits < 2048 {
        return Err(format!(
            "RSA keys must be at least 2048 bits; this one has {bits}"
        ));
    }
    // The size pre-check admits signatures of up to 8192 bits.
    if bits > 8192 {
        return Err(format!(
            "RSA keys must be at most 8192 bits; this one has {bits}"
        ));
    }
    Ok(())
}

/// The key that signs, with the header of every token it signs.
struct SigningKey {
    signer: backend::Signer,
    /// The base64url header of every token this key signs.
    header_b64: String,
}

/// The keys of a manager: at most one that signs, and every key that
/// verifies (the signing key's public half first), chosen by `kid`.
pub(crate) struct Keys {
    signing: Option<SigningKey>,
    verifying: Vec<VerifyingKey>,
}

impl Keys {
    /// Prepares the signing key (if any) and the keys that only verify.
    pub(crate) fn build(
        signing: Option<&KeySpec>,
        verifying: &[KeySpec],
        allow_weak_secret: bool,
    ) -> Result<Self, ConfigError> {
        let mut keys = Self {
            signing: None,
            verifying: Vec::with_capacity(verifying.len() + 1),
        };
        if let Some(spec) = signing {
            let (signing, key) = signing_key(spec, allow_weak_secret)?;
            keys.signing = Some(signing);
            keys.verifying.push(key);
        }
        for spec in verifying {
            let bad = |reason: String| ConfigError::new(spec.setting, reason);
            let decoding = decoding_key(spec, allow_weak_secret)?;
            let key = VerifyingKey::new(spec.kid.clone(), spec.alg, &decoding).map_err(bad)?;
            keys.verifying.push(key);
        }
        // In a set, each key is found by its `kid`, so each has its own.
        // (Keys that only verify are always given one.)
        if keys.verifying.len() > 1
            && let (Some(spec), Some(None)) = (signing, keys.verifying.first().map(|k| k.kid()))
        {
            let setting = if spec.setting.starts_with("JWT_GUARD_") {
                "JWT_GUARD_KEY_ID"
            } else {
                "key_id"
            };
            return Err(ConfigError::new(
                setting,
                "the signing key needs a `kid` when other keys verify:                  every key of a set is found by its `kid`",
            ));
        }
        for (i, (key, spec)) in keys
            .verifying
            .iter()
            .zip(signing.into_iter().chain(verifying))
            .enumerate()
        {
            if let Some(kid) = key.kid()
                && keys.verifying.iter().take(i).any(|k| k.kid() == Some(kid))
            {
                return Err(ConfigError::new(
                    spec.setting,
                    format!("the kid `{kid}` is given to two keys; give each key its own"),
                ));
            }
        }
        Ok(keys)
    }

    /// The base64url header of every token this manager signs.
    pub(crate) fn header_b64(&self) -> Result<&str, IssueError> {
        self.signing
            .as_ref()
            .map(|s| s.header_b64.as_str())
            .ok_or(IssueError::NoSigningKey)
    }

    /// Signs `message` and returns the base64url signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<String, IssueError> {
        let signing = self.signing.as_ref().ok_or(IssueError::NoSigningKey)?;
        let signature = signing.signer.sign(message).map_err(IssueError::Sign)?;
        Ok(URL_SAFE_NO_PAD.encode(signature))
    }

    pub(crate) fn verifying(&self) -> &[VerifyingKey] {
        &self.verifying
    }

    /// Retires the verify-only key `kid`: tokens it signed are refused from
    /// now on. `false` when no such key verifies (or it is the signing key).
    pub(crate) fn retire(&self, kid: &str) -> bool {
        let signing = usize::from(self.signing.is_some());
        self.verifying
            .iter()
            .skip(signing)
            .find(|key| key.kid() == Some(kid))
            .is_some_and(|key| !key.retired.swap(true, Ordering::AcqRel))
    }
}

/// Prepares the signing key and its public half, and proves they are a
/// pair.
fn signing_key(
    spec: &KeySpec,
    allow_weak_secret: bool,
) -> Result<(SigningKey, VerifyingKey), ConfigError> {
    let bad = |reason: String| ConfigError::new(spec.setting, reason);
    let encoding = match (&spec.material, spec.alg) {
        // Whether the algorithm takes a secret is `decoding_key`'s to say.
        (Material::Secret(secret), _) => EncodingKey::from_secret(secret),
        (Material::Pem { private, .. }, alg) => {
            let pem_err = |e: jsonwebtoken::errors::Error| {
                bad(format!(
                    "the private key is not a PEM {} key: {e}",
                    family_name(alg)
                ))
            };
            match family_name(alg) {
                "RSA" => EncodingKey::from_rsa_pem(private).map_err(pem_err)?,
                "EC" => EncodingKey::from_ec_pem(private).map_err(pem_err)?,
                "Ed25519" => EncodingKey::from_ed_pem(private).map_err(pem_err)?,
                _ => return Err(bad("unsupported algorithm".into())),
            }
        }
        (Material::Public(_), _) => return Err(bad("a public key alone cannot sign".into())),
    };
    let decoding = decoding_key(spec, allow_weak_secret)?;
    check_rsa_size(spec.alg, &decoding).map_err(bad)?;
    let signer = backend::Signer::new(spec.alg, &encoding).map_err(|reason| {
        bad(format!(
            "the private key does not fit {}, which takes {} ({reason})",
            alg_name(spec.alg),
            key_kind(spec.alg)
        ))
    })?;
    let key = VerifyingKey::new(spec.kid.clone(), spec.alg, &decoding).map_err(bad)?;
    let header = match &spec.kid {
        Some(kid) => serde_json::json!({ "alg": alg_name(spec.alg), "typ": "JWT", "kid": kid }),
        None => serde_json::json!({ "alg": alg_name(spec.alg), "typ": "JWT" }),
    };
    let signing = SigningKey {
        signer,
        header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
    };
    // Prove now, not at the first request, that the private key signs
    // what the public key verifies (this catches a key of the wrong
    // curve, size or family, and a private/public pair that do not match).
    let probe = b"jwt-guard key check";
    let signature = signing
        .signer
        .sign(probe)
        .map_err(|e| bad(format!("the private key cannot sign: {e}")))?;
    if !key.verifier.verify(probe, &signature) {
        return Err(bad(
            "the public key does not verify what the private key signs (not a pair)".into(),
        ));
    }
    Ok((signing, key))
}

/// The key that verifies, from a secret or a public PEM.
fn decoding_key(spec: &KeySpec, allow_weak_secret: bool) -> Result<DecodingKey, ConfigError> {
    let bad = |reason: String| ConfigError::new(spec.setting, reason);
    match (&spec.material, spec.alg) {
        (Material::Secret(secret), alg) if is_hmac(alg) => {
            let min = min_secret_bytes(alg);
            if secret.len() < min && !allow_weak_secret {
                return Err(bad(format!(
                    "HMAC secret is {} bytes; {} needs at least {min} bytes, the size of \
                     its hash (generate one with `jwt_guard::generate_secret()`)",
                    secret.len(),
                    alg_name(alg),
                )));
            }
            if secret.is_empty() {
                return Err(bad("HMAC secret is empty".into()));
            }
            Ok(DecodingKey::from_secret(secret))
        }
        (Material::Secret(_), alg) => Err(bad(format!("{} takes a PEM key", alg_name(alg)))),
        (Material::Pem { public, .. } | Material::Public(public), alg) => {
            let pem_err = |e: jsonwebtoken::errors::Error| {
                bad(format!(
                    "the public key is not a PEM {} key: {e}",
                    family_name(alg)
                ))
            };
            match family_name(alg) {
                "RSA" => DecodingKey::from_rsa_pem(public).map_err(pem_err),
                "EC" => DecodingKey::from_ec_pem(public).map_err(pem_err),
                "Ed25519" => DecodingKey::from_ed_pem(public).map_err(pem_err),
                "HMAC" => Err(bad("HMAC takes a secret, not a PEM key".into())),
                _ => Err(bad("unsupported algorithm".into())),
            }
        }
    }
}

/// Checks a compact JWS against a set of keys and returns its payload
/// part, still base64url, and the key that verified it.
///
/// The header is read strictly. Its `kid` chooses the key among `keys`
/// alone; a token without one is read only by a set of one key. The
/// token's `alg` must then be that key's: it never chooses anything, and
/// no other key is tried. `crit`, `b64`, `zip`, `cty` and `enc` are
/// refused; key-carrying headers (`jwk`, `jku`, `x5u`, `x5c`) are ignored.
/// The signature is checked before the payload is decoded.
pub(crate) fn verify<'t, 'k>(
    keys: &'k [VerifyingKey],
    token: &'t str,
) -> Result<(&'t str, &'k VerifyingKey), InvalidToken> {
    let (header, payload, signature) = split(token)?;
    let mut header_buf = [0u8; MAX_HEADER_BYTES + 2];
    let key = select(
        keys,
        decode_bounded(header, MAX_HEADER_BYTES, &mut header_buf)?,
    )?;
    let mut sig_buf = [0u8; MAX_SIGNATURE_BYTES + 2];
    let sig = decode_bounded(signature, MAX_SIGNATURE_BYTES, &mut sig_buf)?;
    let signed = token
        .get(..header.len() + 1 + payload.len())
        .ok_or(InvalidToken::Malformed)?;
    if !key.verifier.verify(signed.as_bytes(), sig) {
        return Err(InvalidToken::Signature);
    }
    Ok((payload, key))
}

/// The three non-empty parts of a compact JWS.
pub(crate) fn split(token: &str) -> Result<(&str, &str, &str), InvalidToken> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(InvalidToken::Malformed);
    };
    if header.is_empty() || payload.is_empty() || signature.is_empty() {
        return Err(InvalidToken::Malformed);
    }
    Ok((header, payload, signature))
}

/// The key a header names, whose algorithm must be the header's.
fn select<'k>(keys: &'k [VerifyingKey], json: &[u8]) -> Result<&'k VerifyingKey, InvalidToken> {
    // A JOSE header is a JSON object; serde would also read a map from
    // other shapes, so anything else is refused first.
    if json.first() != Some(&b'{') {
        return Err(InvalidToken::Header);
    }
    let header: Header<'_> = serde_json::from_slice(json).map_err(|_| InvalidToken::Header)?;
    let key = match header.kid.as_deref() {
        Some(kid) => keys.iter().find(|key| key.kid() == Some(kid)),
        None => match keys {
            [only] => Some(only),
            _ => None,
        },
    };
    let key = key
        .filter(|key| !key.is_retired())
        .ok_or(InvalidToken::UnknownKey)?;
    if header.alg != alg_name(key.alg) {
        return Err(InvalidToken::Algorithm);
    }
    Ok(key)
}

/// The members of a JOSE header the verifier reads, read as RFC 8259 JSON:
/// escaped and unescaped spellings of a name or value mean the same, and a
/// name given twice is refused whatever it is (RFC 7515 §4). Members that
/// change how the token must be read (`crit`, `b64`, `zip`, `cty`), or that
/// mark another kind of JOSE object (`enc`: a JWE, RFC 7516 §9), are
/// refused. Every other member (`typ`, and the key-carrying `jwk`, `jku`,
/// `x5u`, `x5c`) is skipped, never used.
struct Header<'de> {
    alg: Cow<'de, str>,
    kid: Option<Cow<'de, str>>,
}

const REFUSED_HEADERS: &[&str] = &["crit", "b64", "zip", "cty", "enc"];

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct HeaderVisitor;
        impl<'de> Visitor<'de> for HeaderVisitor {
            type Value = Header<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JOSE header object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header<'de>, A::Error> {
                let mut names = Names::default();
                let (mut alg, mut kid) = (None, None);
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    if REFUSED_HEADERS.contains(&&*name) {
                        return Err(de::Error::custom("refused header member"));
                    }
                    match &*name {
                        "alg" => alg = Some(map.next_value::<Text<'de>>()?.0),
                        "kid" => kid = Some(map.next_value::<Text<'de>>()?.0),
                        _ => {
                            map.next_value::<Skip>()?;
                        }
                    }
                    if !names.insert(name) {
                        return Err(de::Error::custom("duplicate header member"));
                    }
                }
                Ok(Header {
                    alg: alg.ok_or_else(|| de::Error::missing_field("alg"))?,
                    kid,
                })
            }
        }
        deserializer.deserialize_map(HeaderVisitor)
    }
}

/// A JSON string, borrowed from the input unless it has escapes.
pub(crate) struct Text<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_owned())))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

/// A JSON value read only to be skipped, in which no object names a member
/// twice at any depth. Allocates only for an object of more than eight
/// members.
struct Skip;

impl<'de> Deserialize<'de> for Skip {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SkipVisitor;
        impl<'de> Visitor<'de> for SkipVisitor {
            type Value = Skip;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Skip, E> {
                Ok(Skip)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Skip, A::Error> {
                while seq.next_element::<Skip>()?.is_some() {}
                Ok(Skip)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Skip, A::Error> {
                let mut names = Names::default();
                while let Some(Text(name)) = map.next_key::<Text<'de>>()? {
                    map.next_value::<Skip>()?;
                    if !names.insert(name) {
                        return Err(de::Error::custom("duplicate member"));
                    }
                }
                Ok(Skip)
            }
        }
        deserializer.deserialize_any(SkipVisitor)
    }
}

/// The member names of one JSON object seen so far: the first few on the
/// stack, so that a header is checked for duplicates without allocating.
#[derive(Default)]
struct Names<'de> {
    inline: [Option<Cow<'de, str>>; 8],
    spilled: Vec<Cow<'de, str>>,
}

impl<'de> Names<'de> {
    /// Records `name`; `false` when it was seen already.
    fn insert(&mut self, name: Cow<'de, str>) -> bool {
        let seen = |n: &Cow<'de, str>| *n == name;
        if self.inline.iter().flatten().any(seen) || self.spilled.iter().any(seen) {
            return false;
        }
        match self.inline.iter_mut().find(|slot| slot.is_none()) {
            Some(slot) => *slot = Some(name),
            None => self.spilled.push(name),
        }
        true
    }
}

/// Decodes a base64url part of at most `max` bytes into `buf`, which holds
/// `max + 2` bytes (the decoder asks room for a whole last quantum). A part
/// that would decode to more than `max` bytes is refused before any
/// decoding work.
pub(crate) fn decode_bounded<'b>(
    part: &str,
    max: usize,
    buf: &'b mut [u8],
) -> Result<&'b [u8], InvalidToken> {
    if part.len() > (max * 4).div_ceil(3) {
        return Err(InvalidToken::TooLarge);
    }
    let len = URL_SAFE_NO_PAD
        .decode_slice(part, buf)
        .map_err(|_| InvalidToken::Malformed)?;
    buf.get(..len).ok_or(InvalidToken::Malformed)
}

/// The key an algorithm takes, in the words of a key file's maker.
const fn key_kind(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::ES256 => "an EC key on P-256 (prime256v1) in PKCS#8",
        Algorithm::ES384 => "an EC key on P-384 (secp384r1) in PKCS#8",
        Algorithm::EdDSA => "an Ed25519 key in PKCS#8",
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => "an HMAC secret",
        _ => "an RSA key of 2048 to 8192 bits",
    }
}

pub(crate) const fn family_name(alg: Algorithm) -> &'static str {
    match alg {
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => "HMAC",
        Algorithm::RS256
        | Algorithm::RS384
        | Algorithm::RS512
        | Algorithm::PS256
        | Algorithm::PS384
        | Algorithm::PS512 => "RSA",
        Algorithm::ES256 | Algorithm::ES384 => "EC",
        Algorithm::EdDSA => "Ed25519",
        _ => "unsupported",
    }
}

impl fmt::Debug for Keys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(&self.verifying).finish()
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Key")
            .field("alg", &alg_name(self.alg))
            .field("kid", &self.kid)
            .field("retired", &self.is_retired())
            .field("key", &"[redacted]")
            .finish()
    }
}
