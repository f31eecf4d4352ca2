//! Step 3 of the order of checks: algorithms and keys (the signing key, the
//! verifier prepared from it once at build time) and the strict reading of a
//! compact JWS: size bounds, header, algorithm, signature.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::error::{ConfigError, InvalidToken, IssueError};

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
    Pem { private: Vec<u8>, public: Vec<u8> },
}

/// One configured key: the builder setting that named it, its algorithm and
/// its material.
#[derive(Clone)]
pub(crate) struct KeySpec {
    pub(crate) setting: &'static str,
    pub(crate) alg: Algorithm,
    pub(crate) material: Material,
}

/// The prepared key: everything a request needs is computed here once.
pub(crate) struct Keys {
    alg_name: &'static str,
    kid: Option<String>,
    signer: backend::Signer,
    verifier: backend::Verifier,
    /// The base64url header of every token this key signs.
    header_b64: String,
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

impl Keys {
    pub(crate) fn build(
        spec: &KeySpec,
        kid: Option<String>,
        allow_weak_secret: bool,
    ) -> Result<Self, ConfigError> {
        let setting = spec.setting;
        let bad = |reason: String| ConfigError::new(setting, reason);
        let (encoding, decoding) = match (&spec.material, spec.alg) {
            (Material::Secret(secret), Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) => {
                let min = min_secret_bytes(spec.alg);
                if secret.len() < min && !allow_weak_secret {
                    return Err(bad(format!(
                        "HMAC secret is {} bytes; {} needs at least {min} bytes, the size of \
                         its hash (generate one with `jwt_guard::generate_secret()`)",
                        secret.len(),
                        alg_name(spec.alg),
                    )));
                }
                if secret.is_empty() {
                    return Err(bad("HMAC secret is empty".into()));
                }
                (
                    EncodingKey::from_secret(secret),
                    DecodingKey::from_secret(secret),
                )
            }
            (Material::Pem { private, public }, alg) => {
                let pem_err = |which: &str, e: jsonwebtoken::errors::Error| {
                    bad(format!(
                        "the {which} key is not a PEM {} key: {e}",
                        family_name(alg)
                    ))
                };
                match alg {
                    Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512 => (
                        EncodingKey::from_rsa_pem(private).map_err(|e| pem_err("private", e))?,
                        DecodingKey::from_rsa_pem(public).map_err(|e| pem_err("public", e))?,
                    ),
                    Algorithm::ES256 | Algorithm::ES384 => (
                        EncodingKey::from_ec_pem(private).map_err(|e| pem_err("private", e))?,
                        DecodingKey::from_ec_pem(public).map_err(|e| pem_err("public", e))?,
                    ),
                    Algorithm::EdDSA => (
                        EncodingKey::from_ed_pem(private).map_err(|e| pem_err("private", e))?,
                        DecodingKey::from_ed_pem(public).map_err(|e| pem_err("public", e))?,
                    ),
                    Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                        return Err(bad("HMAC takes a secret, not a PEM key".into()));
                    }
                    _ => return Err(bad("unsupported algorithm".into())),
                }
            }
            (Material::Secret(_), alg) => {
                return Err(bad(format!("{} takes a PEM key pair", alg_name(alg))));
            }
        };
        if family_name(spec.alg) == "RSA" {
            let bits = decoding
                .try_get_as_bytes()
                .ok()
                .and_then(rsa_modulus_bits)
                .unwrap_or(0);
            if bits < 2048 {
                return Err(bad(format!(
                    "RSA keys must be at least 2048 bits; this one has {bits}"
                )));
            }
            // The size pre-check admits signatures of up to 8192 bits.
            if bits > 8192 {
                return Err(bad(format!(
                    "RSA keys must be at most 8192 bits; this one has {bits}"
                )));
            }
        }
        // The backend's reason is kept for the curious; what to do is ours,
        // and the same whichever backend is built.
        let unfit = |which: &str, reason: String| {
            bad(format!(
                "the {which} key does not fit {}, which takes {} ({reason})",
                alg_name(spec.alg),
                key_kind(spec.alg)
            ))
        };
        let signer =
            backend::Signer::new(spec.alg, &encoding).map_err(|reason| unfit("private", reason))?;
        let verifier = backend::Verifier::new(spec.alg, &decoding)
            .map_err(|reason| unfit("public", reason))?;

        let header = match &kid {
            Some(kid) => serde_json::json!({ "alg": alg_name(spec.alg), "typ": "JWT", "kid": kid }),
            None => serde_json::json!({ "alg": alg_name(spec.alg), "typ": "JWT" }),
        };
        let keys = Self {
            alg_name: alg_name(spec.alg),
            kid,
            signer,
            verifier,
            header_b64: URL_SAFE_NO_PAD.encode(header.to_string()),
        };
        // Prove now, not at the first request, that the private key signs
        // what the public key verifies (this catches a key of the wrong
        // curve, size or family, and a private/public pair that do not match).
        let probe = b"jwt-guard key check";
        let signature = keys
            .sign(probe)
            .map_err(|e| bad(format!("the private key cannot sign: {e}")))?;
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| bad(format!("the private key cannot sign: {e}")))?;
        if !keys.verifier.verify(probe, &signature) {
            return Err(bad(
                "the public key does not verify what the private key signs (not a pair)".into(),
            ));
        }
        Ok(keys)
    }

    pub(crate) fn header_b64(&self) -> &str {
        &self.header_b64
    }

    /// Signs `message` and returns the base64url signature.
    pub(crate) fn sign(&self, message: &[u8]) -> Result<String, IssueError> {
        let signature = self.signer.sign(message).map_err(IssueError::Sign)?;
        Ok(URL_SAFE_NO_PAD.encode(signature))
    }

    /// Checks a compact JWS and returns its payload part, still base64url.
    ///
    /// The header is read strictly: its `alg` must be this key's (the
    /// token's `alg` is never trusted to choose anything), a `kid` must name
    /// this key, and `crit`, `b64`, `zip` and `cty` are refused. Key-carrying
    /// headers (`jwk`, `jku`, `x5u`, `x5c`) are ignored. The signature is
    /// checked before the payload is decoded.
    pub(crate) fn verify<'t>(&self, token: &'t str) -> Result<&'t str, InvalidToken> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(InvalidToken::Malformed);
        };
        if header.is_empty() || payload.is_empty() || signature.is_empty() {
            return Err(InvalidToken::Malformed);
        }

        let mut header_buf = [0u8; MAX_HEADER_BYTES + 2];
        self.check_header(decode_bounded(header, MAX_HEADER_BYTES, &mut header_buf)?)?;

        let mut sig_buf = [0u8; MAX_SIGNATURE_BYTES + 2];
        let sig = decode_bounded(signature, MAX_SIGNATURE_BYTES, &mut sig_buf)?;
        let signed = token
            .get(..header.len() + 1 + payload.len())
            .ok_or(InvalidToken::Malformed)?;
        if !self.verifier.verify(signed.as_bytes(), sig) {
            return Err(InvalidToken::Signature);
        }
        Ok(payload)
    }

    fn check_header(&self, json: &[u8]) -> Result<(), InvalidToken> {
        // A JOSE header is a JSON object; serde would also read a map from
        // other shapes, so anything else is refused first.
        if json.first() != Some(&b'{') {
            return Err(InvalidToken::Header);
        }
        let header: Header<'_> = serde_json::from_slice(json).map_err(|_| InvalidToken::Header)?;
        if header.alg != self.alg_name {
            return Err(InvalidToken::Algorithm);
        }
        match (header.kid.as_deref(), self.kid.as_deref()) {
            (Some(given), Some(ours)) if given != ours => Err(InvalidToken::UnknownKey),
            (Some(_), None) => Err(InvalidToken::UnknownKey),
            _ => Ok(()),
        }
    }
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

/// The modulus size of a PKCS#1 `RSAPublicKey` (`SEQUENCE { n INTEGER, e
/// INTEGER }`), read from its DER.
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    /// Reads one DER header: the tag, then the content length.
    fn header(input: &[u8], tag: u8) -> Option<(usize, &[u8])> {
        let (&first, rest) = input.split_first()?;
        if first != tag {
            return None;
        }
        let (&len, rest) = rest.split_first()?;
        if len < 0x80 {
            return Some((usize::from(len), rest));
        }
        let count = usize::from(len & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        let len = bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b));
        Some((len, rest))
    }
    let (_, body) = header(der, 0x30)?;
    let (len, body) = header(body, 0x02)?;
    let modulus = body.get(..len)?;
    let significant = modulus.get(modulus.iter().position(|&b| b != 0)?..)?;
    let (&top, _) = significant.split_first()?;
    Some(significant.len() * 8 - top.leading_zeros() as usize)
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

const fn family_name(alg: Algorithm) -> &'static str {
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

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("alg", &self.alg_name)
            .field("kid", &self.kid)
            .field("key", &"[redacted]")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::rsa_modulus_bits;

    #[test]
    fn modulus_bits_are_read_from_der() {
        // `SEQUENCE { INTEGER n }`, with short and long lengths; leading
        // zero bytes and bits do not count.
        for (der, bits) in [
            (&[0x30, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01][..], 16),
            (&[0x30, 0x81, 0x04, 0x02, 0x02, 0x01, 0xff], 9),
            (&[0x30, 0x82, 0x00, 0x04, 0x02, 0x82, 0x00, 0x01, 0x7f], 7),
            (&[0x30, 0x84, 0x00, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01], 1),
        ] {
            assert_eq!(rsa_modulus_bits(der), Some(bits), "{der:02x?}");
        }
        // Another tag, an indefinite length, more than four length bytes,
        // lengths beyond the input, a zero modulus, nothing at all.
        for der in [
            &[0x31, 0x03, 0x02, 0x01, 0x01][..],
            &[0x30, 0x80, 0x02, 0x01, 0x01],
            &[0x30, 0x85, 0x00, 0x00, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01],
            &[0x30, 0x82, 0x01],
            &[0x30, 0x03, 0x02, 0x05, 0x01],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
            &[],
        ] {
            assert_eq!(rsa_modulus_bits(der), None, "{der:02x?}");
        }
    }
}
