//! JSON Web Keys (RFC 7517, RFC 7518 §6, RFC 8037): the public members of
//! the manager's own keys, for its JWK Set, and the keys of other issuers'
//! sets, read into keys that verify.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Map, Value};

use super::alg_name;

/// The public JWK of a key: `kty`, `use`, `alg`, `kid`, and the public
/// parameters only (`n`/`e`, `crv`/`x`/`y`, `crv`/`x`). `None` for a key
/// whose bytes do not read as the algorithm's public key.
pub(crate) fn public_jwk(
    alg: Algorithm,
    kid: Option<&str>,
    key: &DecodingKey,
) -> Option<Map<String, Value>> {
    let bytes = key.try_get_as_bytes().ok()?;
    let b64 = |bytes: &[u8]| Value::from(URL_SAFE_NO_PAD.encode(bytes));
    let mut jwk = Map::new();
    match alg {
        Algorithm::ES256 | Algorithm::ES384 => {
            // An uncompressed SEC1 point: 0x04, then x and y.
            let (crv, size) = if alg == Algorithm::ES256 {
                ("P-256", 32)
            } else {
                ("P-384", 48)
            };
            let (&tag, xy) = bytes.split_first()?;
            if tag != 0x04 || xy.len() != 2 * size {
                return None;
            }
            let (x, y) = xy.split_at(size);
            jwk.insert("kty".into(), "EC".into());
            jwk.insert("crv".into(), crv.into());
            jwk.insert("x".into(), b64(x));
            jwk.insert("y".into(), b64(y));
        }
        Algorithm::EdDSA => {
            if bytes.len() != 32 {
                return None;
            }
            jwk.insert("kty".into(), "OKP".into());
            jwk.insert("crv".into(), "Ed25519".into());
            jwk.insert("x".into(), b64(bytes));
        }
        Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => return None,
        _ => {
            let (n, e) = rsa_components(bytes)?;
            jwk.insert("kty".into(), "RSA".into());
            jwk.insert("n".into(), b64(n));
            jwk.insert("e".into(), b64(e));
        }
    }
    jwk.insert("use".into(), "sig".into());
    jwk.insert("alg".into(), alg_name(alg).into());
    if let Some(kid) = kid {
        jwk.insert("kid".into(), kid.into());
    }
    Some(jwk)
}

/// The modulus and exponent of a PKCS#1 `RSAPublicKey` (`SEQUENCE { n
/// INTEGER, e INTEGER }`), read from its DER, without leading zero bytes.
pub(crate) fn rsa_components(der: &[u8]) -> Option<(&[u8], &[u8])> {
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
    fn integer(input: &[u8]) -> Option<(&[u8], &[u8])> {
        let (len, body) = header(input, 0x02)?;
        let value = body.get(..len)?;
        let rest = body.get(len..)?;
        let significant = value.get(value.iter().position(|&b| b != 0)?..)?;
        Some((significant, rest))
    }
    let (_, body) = header(der, 0x30)?;
    let (n, rest) = integer(body)?;
    let (e, _) = integer(rest).unwrap_or((&[], &[]));
    Some((n, e))
}

/// The size in bits of a big-endian unsigned integer without leading zero
/// bytes.
pub(crate) fn bits(n: &[u8]) -> usize {
    n.first()
        .map_or(0, |&top| n.len() * 8 - top.leading_zeros() as usize)
}

/// A PKCS#1 `RSAPublicKey` in DER, from its modulus and exponent.
#[cfg(feature = "remote")]
fn rsa_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    #[allow(clippy::cast_possible_truncation)] // lengths fit: checked by the branch
    fn push_len(out: &mut Vec<u8>, len: usize) {
        if len < 0x80 {
            out.push(len as u8);
        } else {
            let bytes = len.to_be_bytes();
            let significant: Vec<u8> = bytes.iter().copied().skip_while(|&b| b == 0).collect();
            out.push(0x80 | significant.len() as u8);
            out.extend_from_slice(&significant);
        }
    }
    fn push_integer(out: &mut Vec<u8>, value: &[u8]) {
        let value: Vec<u8> = value.iter().copied().skip_while(|&b| b == 0).collect();
        // A positive INTEGER whose top bit is set takes a zero byte first.
        let pad = value.first().is_none_or(|&b| b & 0x80 != 0);
        out.push(0x02);
        push_len(out, value.len() + usize::from(pad));
        if pad {
            out.push(0);
        }
        out.extend_from_slice(&value);
    }
    let mut body = Vec::with_capacity(n.len() + e.len() + 16);
    push_integer(&mut body, n);
    push_integer(&mut body, e);
    let mut der = Vec::with_capacity(body.len() + 6);
    der.push(0x30);
    push_len(&mut der, body.len());
    der.extend_from_slice(&body);
    der
}

/// A key of another issuer's JWK Set: its `kid`, the algorithm it verifies
/// and its public key. The algorithm is the JWK's `alg`, or, when it has
/// none, its key type's usual one (RS256 for RSA, as OIDC Discovery's
/// default; ES256 or ES384 by curve; EdDSA). The error says why a key is
/// skipped: no `kid`, a `use` other than `sig`, a private or symmetric
/// key, an `alg` that does not fit its `kty`, parameters that do not read.
#[cfg(feature = "remote")]
pub(crate) fn from_jwk(
    jwk: &Map<String, Value>,
) -> Result<(String, Algorithm, DecodingKey), String> {
    let text = |name: &str| jwk.get(name).and_then(Value::as_str);
    let bytes = |name: &str| -> Result<Vec<u8>, String> {
        let value = text(name).ok_or_else(|| format!("no `{name}`"))?;
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| format!("`{name}` is not base64url"))
    };
    let kid = text("kid").ok_or("no `kid`")?.to_owned();
    if let Some(usage) = jwk.get("use")
        && usage != "sig"
    {
        return Err(format!("`use` is {usage}, not \"sig\""));
    }
    if jwk.contains_key("d") || jwk.contains_key("k") {
        return Err("a private or symmetric key is never trusted".into());
    }
    let kty = text("kty").ok_or("no `kty`")?;
    let alg = match text("alg") {
        Some(name) => Some(
            name.parse::<Algorithm>()
                .ok()
                .filter(|alg| alg_name(*alg) == name)
                .ok_or_else(|| format!("`alg` {name} is not supported"))?,
        ),
        None => None,
    };
    let fits = |alg: Algorithm, family: &str| super::family_name(alg) == family;
    let (alg, key) = match kty {
        "RSA" => {
            let alg = alg.unwrap_or(Algorithm::RS256);
            if !fits(alg, "RSA") {
                return Err(format!("`alg` {} does not fit an RSA key", alg_name(alg)));
            }
            (
                alg,
                DecodingKey::from_rsa_der(&rsa_der(&bytes("n")?, &bytes("e")?)),
            )
        }
        "EC" => {
            let (curve_alg, size) = match text("crv") {
                Some("P-256") => (Algorithm::ES256, 32),
                Some("P-384") => (Algorithm::ES384, 48),
                other => return Err(format!("curve {other:?} is not supported")),
            };
            let alg = alg.unwrap_or(curve_alg);
            if alg != curve_alg {
                return Err(format!("`alg` {} does not fit its curve", alg_name(alg)));
            }
            let (x, y) = (bytes("x")?, bytes("y")?);
            if x.len() != size || y.len() != size {
                return Err("`x` and `y` do not fit the curve".into());
            }
            let point = [&[0x04][..], &x, &y].concat();
            (alg, DecodingKey::from_ec_der(&point))
        }
        "OKP" => {
            if text("crv") != Some("Ed25519") {
                return Err("only Ed25519 is supported of OKP keys".into());
            }
            let alg = alg.unwrap_or(Algorithm::EdDSA);
            if alg != Algorithm::EdDSA {
                return Err(format!(
                    "`alg` {} does not fit an Ed25519 key",
                    alg_name(alg)
                ));
            }
            (alg, DecodingKey::from_ed_der(&bytes("x")?))
        }
        other => return Err(format!("`kty` {other} is not supported")),
    };
    Ok((kid, alg, key))
}

#[cfg(test)]
mod tests {
    use super::{bits, rsa_components};

    #[test]
    fn modulus_bits_are_read_from_der() {
        // `SEQUENCE { INTEGER n }`, with short and long lengths; leading
        // zero bytes and bits do not count.
        for (der, size) in [
            (&[0x30, 0x05, 0x02, 0x03, 0x00, 0x80, 0x01][..], 16),
            (&[0x30, 0x81, 0x04, 0x02, 0x02, 0x01, 0xff], 9),
            (&[0x30, 0x82, 0x00, 0x04, 0x02, 0x82, 0x00, 0x01, 0x7f], 7),
            (&[0x30, 0x84, 0x00, 0x00, 0x00, 0x03, 0x02, 0x01, 0x01], 1),
        ] {
            let (n, _) = rsa_components(der).unwrap();
            assert_eq!(bits(n), size, "{der:02x?}");
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
            assert_eq!(rsa_components(der), None, "{der:02x?}");
        }
    }

    #[cfg(feature = "remote")]
    #[test]
    fn rsa_der_reads_back() {
        for (n, e) in [
            (vec![0xc5; 256], vec![0x01, 0x00, 0x01]),
            (vec![0x7f; 130], vec![0x03]),
            (vec![0x00, 0x00, 0x91], vec![0x80]),
        ] {
            let der = super::rsa_der(&n, &e);
            let strip = |v: &[u8]| v[v.iter().position(|&b| b != 0).unwrap()..].to_vec();
            let (n2, e2) = rsa_components(&der).unwrap();
            assert_eq!((n2.to_vec(), e2.to_vec()), (strip(&n), strip(&e)));
        }
    }
}
