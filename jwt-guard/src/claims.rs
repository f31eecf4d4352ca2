//! Steps 4 and 5 of the order of checks: the claims of a token whose
//! signature holds, parsed once and strictly ([`Claims`], [`Scope`]), and
//! validated ([`Claims::validate`]: time, `iss`, `aud`, kind).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::error::InvalidToken;
use crate::kind::TokenKind;

/// The `scope` claim: either a map of named values (`{"admin": true}`) or an
/// OAuth2 space-delimited string (`"posts:read posts:write"`, RFC 8693 §4.2),
/// kept as its entries.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// A JSON object of named values.
    Map(Map<String, Value>),
    /// The entries of a space-delimited OAuth2 scope string.
    Strings(Vec<String>),
}

impl Scope {
    /// Whether an OAuth2 scope string holds `entry`. Always `false` for a map
    /// scope.
    ///
    /// ```
    /// use jwt_guard::Scope;
    /// let scope = Scope::Strings(vec!["posts:read".into(), "posts:write".into()]);
    /// assert!(scope.contains("posts:write"));
    /// assert!(!scope.contains("admin"));
    /// ```
    #[must_use]
    pub fn contains(&self, entry: &str) -> bool {
        match self {
            Self::Strings(entries) => entries.iter().any(|e| e == entry),
            Self::Map(_) => false,
        }
    }

    /// The value a map scope holds under `key`. Always `None` for a scope
    /// string.
    #[must_use]
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Self::Map(map) => map.get(key),
            Self::Strings(_) => None,
        }
    }

    pub(crate) fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self::Map(map)),
            Value::String(s) => Some(Self::Strings(
                s.split(' ')
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )),
            _ => None,
        }
    }

    /// Another issuer's scope: a space-delimited string, an array of
    /// strings (`scp` of some providers), or a map.
    pub(crate) fn from_remote(value: Value) -> Option<Self> {
        match value {
            Value::Array(items) => items
                .into_iter()
                .map(|item| match item {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect::<Option<Vec<_>>>()
                .map(Self::Strings),
            other => Self::from_value(other),
        }
    }

    pub(crate) fn to_value(&self) -> Value {
        match self {
            Self::Map(map) => Value::Object(map.clone()),
            Self::Strings(entries) => Value::String(entries.join(" ")),
        }
    }
}

/// The `aud` claim: one audience or several.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    pub(crate) fn contains(&self, audience: &str) -> bool {
        match self {
            Self::One(a) => a == audience,
            Self::Many(all) => all.iter().any(|a| a == audience),
        }
    }
}

/// The claims of a token whose signature has been checked, parsed once and
/// strictly: every registered claim must have the JSON type the library
/// issues (no coercion), and no key may appear twice.
#[derive(Debug, Clone)]
pub(crate) struct Claims {
    pub(crate) sub: String,
    pub(crate) jti: String,
    /// `iat`, rounded down (the earliest the token can have been issued).
    pub(crate) iat: u64,
    /// `iat`, rounded up: what the "issued in the future" check compares.
    pub(crate) iat_ceil: u64,
    /// `exp`, rounded down; at most [`MAX_NUMERIC_DATE`].
    pub(crate) exp: u64,
    /// `nbf`, rounded up.
    pub(crate) nbf: Option<u64>,
    pub(crate) iss: Option<String>,
    pub(crate) aud: Option<Audience>,
    pub(crate) kind: TokenKind,
    pub(crate) fresh: bool,
    pub(crate) scope: Option<Scope>,
    /// The family (login session) the token belongs to.
    pub(crate) sid: Option<String>,
    /// Every other top-level claim.
    pub(crate) extra: Map<String, Value>,
    /// Which trusted issuer's keys verified the token: `None` for the
    /// manager's own.
    pub(crate) origin: Option<usize>,
}

/// Names the library sets itself; custom claims may not use them.
pub(crate) const RESERVED: &[&str] = &[
    "sub", "jti", "iat", "exp", "nbf", "iss", "aud", "type", "fresh", "scope", "sid",
];

/// What every token must satisfy besides its signature: the registered
/// claims a [`TokenManager`](crate::TokenManager) checks, prepared at build.
#[derive(Debug, Clone)]
pub(crate) struct Validation {
    /// `iss` required on every token, when set.
    pub(crate) issuer: Option<String>,
    /// `aud` required on every token, when set; a token with an `aud` is
    /// refused when not.
    pub(crate) audience: Option<String>,
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    pub(crate) leeway: u64,
    /// The longest an access token may live (`exp` − `iat`), in seconds.
    pub(crate) access_ttl: u64,
    /// The longest a refresh token may live, in seconds.
    pub(crate) refresh_ttl: u64,
}

impl Validation {
    /// The longest a token of `kind` may live, in seconds: the manager's
    /// lifetime for that kind, which issuing never exceeds either.
    pub(crate) const fn lifetime(&self, kind: TokenKind) -> u64 {
        match kind {
            TokenKind::Access => self.access_ttl,
            TokenKind::Refresh => self.refresh_ttl,
        }
    }
}

impl Claims {
    /// Parses the base64url payload of a token whose signature holds.
    #[inline]
    pub(crate) fn from_payload(payload: &str) -> Result<Self, InvalidToken> {
        Self::read(payload, ClaimsVisitor { remote: false })
    }

    /// Parses the payload of another issuer's token, mapped to this
    /// library's claims: it is an access token, never fresh; `jti` is
    /// optional; `scope` may be a string or an array, and `scp` (either
    /// form) stands in for a missing `scope`. A refresh or ID token of the
    /// issuer (`type` `refresh`, a `typ` claim other than `Bearer`, an
    /// `at_hash` or `c_hash`) is refused.
    #[cfg(feature = "remote")]
    pub(crate) fn from_remote_payload(payload: &str, origin: usize) -> Result<Self, InvalidToken> {
        let mut claims = Self::read(payload, ClaimsVisitor { remote: true })?;
        let typ = claims.extra.get("typ");
        // An ID token (its `at_hash` or `c_hash` say so) is no access token.
        let id_token = claims.extra.contains_key("at_hash") || claims.extra.contains_key("c_hash");
        if claims.kind == TokenKind::Refresh
            || id_token
            || typ.is_some_and(|typ| {
                !typ.as_str()
                    .is_some_and(|t| t.eq_ignore_ascii_case("bearer"))
            })
        {
            return Err(InvalidToken::WrongKind {
                expected: TokenKind::Access,
            });
        }
        claims.fresh = false;
        if claims.scope.is_none() {
            claims.scope = claims
                .extra
                .get("scp")
                .cloned()
                .and_then(Scope::from_remote);
        }
        claims.origin = Some(origin);
        Ok(claims)
    }

    fn read(payload: &str, visitor: ClaimsVisitor) -> Result<Self, InvalidToken> {
        // Ours fit on the stack; a larger (still bounded) payload goes to the heap.
        const STACK: usize = 1536;
        let mut stack = [0u8; STACK + 2];
        let heap;
        let json = match crate::keys::decode_bounded(payload, STACK, &mut stack) {
            Err(InvalidToken::TooLarge) => {
                heap = URL_SAFE_NO_PAD
                    .decode(payload)
                    .map_err(|_| InvalidToken::Malformed)?;
                heap.as_slice()
            }
            other => other?,
        };
        let mut deserializer = serde_json::Deserializer::from_slice(json);
        let claims = deserializer
            .deserialize_map(visitor)
            .map_err(|_| InvalidToken::Claims)?;
        deserializer.end().map_err(|_| InvalidToken::Claims)?;
        Ok(claims)
    }

    /// Steps 4 and 5: `exp`, `nbf` and `iat` against `now` (seconds since
    /// the epoch) with the leeway, the lifetime `exp` − `iat` against the
    /// manager's for the token's kind, then `iss`, `aud` and the token kind.
    #[inline]
    pub(crate) fn validate(
        &self,
        validation: &Validation,
        now: u64,
        kind: TokenKind,
    ) -> Result<(), InvalidToken> {
        let leeway = validation.leeway;
        if now >= self.exp.saturating_add(leeway) {
            return Err(InvalidToken::Expired);
        }
        if self.nbf.is_some_and(|nbf| nbf > now.saturating_add(leeway)) {
            return Err(InvalidToken::NotYetValid);
        }
        if self.iat_ceil > now.saturating_add(leeway) {
            return Err(InvalidToken::IssuedInFuture);
        }
        // Revocations are kept as long as a token of the manager's may
        // live; a longer-lived one (issued under other settings) could
        // outlive its revocation.
        if self.exp.saturating_sub(self.iat) > validation.lifetime(self.kind) {
            return Err(InvalidToken::Lifetime);
        }
        if let Some(issuer) = &validation.issuer
            && self.iss.as_deref() != Some(issuer.as_str())
        {
            return Err(InvalidToken::Issuer);
        }
        match (&validation.audience, &self.aud) {
            (Some(expected), Some(aud)) if aud.contains(expected) => {}
            (None, None) => {}
            _ => return Err(InvalidToken::Audience),
        }
        if self.kind != kind {
            return Err(InvalidToken::WrongKind { expected: kind });
        }
        Ok(())
    }

    /// A top-level claim as JSON, registered ones included.
    pub(crate) fn get(&self, name: &str) -> Option<Value> {
        Some(match name {
            "sub" => Value::from(self.sub.as_str()),
            "jti" => Value::from(self.jti.as_str()),
            "iat" => Value::from(self.iat),
            "exp" => Value::from(self.exp),
            "nbf" => Value::from(self.nbf?),
            "iss" => Value::from(self.iss.as_deref()?),
            "aud" => match self.aud.as_ref()? {
                Audience::One(a) => Value::from(a.as_str()),
                Audience::Many(all) => Value::from(all.clone()),
            },
            "type" => Value::from(self.kind.as_str()),
            "fresh" => Value::from(self.fresh),
            "scope" => self.scope.as_ref()?.to_value(),
            "sid" => Value::from(self.sid.as_deref()?),
            other => return self.extra.get(other).cloned(),
        })
    }

    /// A custom claim: one the manager neither issues nor checks itself.
    pub(crate) fn custom(&self, name: &str) -> Option<&Value> {
        self.extra.get(name)
    }

    /// All claims as one JSON object.
    pub(crate) fn to_map(&self) -> Map<String, Value> {
        let mut map = self.extra.clone();
        for name in RESERVED {
            if let Some(value) = self.get(name) {
                map.insert((*name).to_owned(), value);
            }
        }
        map
    }
}

enum Field {
    Sub,
    Jti,
    Iat,
    Exp,
    Nbf,
    Iss,
    Aud,
    Type,
    Fresh,
    Scope,
    Sid,
    Other(String),
}

impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FieldVisitor;
        impl Visitor<'_> for FieldVisitor {
            type Value = Field;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a claim name")
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Field, E> {
                Ok(match name {
                    "sub" => Field::Sub,
                    "jti" => Field::Jti,
                    "iat" => Field::Iat,
                    "exp" => Field::Exp,
                    "nbf" => Field::Nbf,
                    "iss" => Field::Iss,
                    "aud" => Field::Aud,
                    "type" => Field::Type,
                    "fresh" => Field::Fresh,
                    "scope" => Field::Scope,
                    "sid" => Field::Sid,
                    other => Field::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(FieldVisitor)
    }
}

fn set_once<T, E: de::Error>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}

/// Reads claims strictly; `remote` reads another issuer's layout.
struct ClaimsVisitor {
    remote: bool,
}

impl<'de> Visitor<'de> for ClaimsVisitor {
    type Value = Claims;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of claims")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Claims, A::Error> {
        let (mut sub, mut jti, mut iat, mut exp, mut nbf) = (None, None, None, None, None);
        let (mut iss, mut aud, mut kind, mut fresh, mut scope) = (None, None, None, None, None);
        let mut sid = None;
        let mut extra = Map::new();
        while let Some(field) = map.next_key::<Field>()? {
            match field {
                Field::Sub => set_once(&mut sub, map.next_value::<String>()?, "sub")?,
                Field::Jti => set_once(&mut jti, map.next_value::<String>()?, "jti")?,
                Field::Iat => set_once(&mut iat, map.next_value::<NumericDate>()?, "iat")?,
                Field::Exp => set_once(&mut exp, map.next_value::<NumericDate>()?, "exp")?,
                Field::Nbf => set_once(&mut nbf, map.next_value::<NumericDate>()?, "nbf")?,
                Field::Iss => set_once(&mut iss, map.next_value::<String>()?, "iss")?,
                Field::Aud => set_once(&mut aud, map.next_value::<Audience>()?, "aud")?,
                Field::Type => {
                    set_once(&mut kind, map.next_value::<TokenKind>()?, "type")?;
                }
                Field::Fresh => set_once(&mut fresh, map.next_value::<bool>()?, "fresh")?,
                Field::Scope => {
                    let value = map.next_value::<Strict>()?.0;
                    let value = if self.remote {
                        Scope::from_remote(value)
                    } else {
                        Scope::from_value(value)
                    }
                    .ok_or_else(|| de::Error::custom("scope of the wrong type"))?;
                    set_once(&mut scope, value, "scope")?;
                }
                Field::Sid => set_once(&mut sid, map.next_value::<String>()?, "sid")?,
                Field::Other(name) => {
                    let value = map.next_value::<Strict>()?.0;
                    if extra.contains_key(&name) {
                        return Err(de::Error::custom("duplicate claim"));
                    }
                    extra.insert(name, value);
                }
            }
        }
        let iat = iat.ok_or_else(|| de::Error::missing_field("iat"))?;
        let exp = exp.ok_or_else(|| de::Error::missing_field("exp"))?;
        // No token of this library lives past year 9999; a later
        // `exp` is no promise worth keeping.
        if exp.floor() > MAX_NUMERIC_DATE {
            return Err(de::Error::custom("exp after year 9999"));
        }
        Ok(Claims {
            sub: sub.ok_or_else(|| de::Error::missing_field("sub"))?,
            jti: match jti {
                Some(jti) => jti,
                None if self.remote => String::new(),
                None => return Err(de::Error::missing_field("jti")),
            },
            iat: iat.floor(),
            iat_ceil: iat.ceil(),
            exp: exp.floor(),
            nbf: nbf.map(NumericDate::ceil),
            iss,
            aud,
            kind: match kind {
                Some(kind) => kind,
                None if self.remote => TokenKind::Access,
                None => return Err(de::Error::missing_field("type")),
            },
            fresh: fresh.unwrap_or(false),
            scope,
            sid,
            extra,
            origin: None,
        })
    }
}

/// The longest token lifetime accepted: a year (of 366 days). A revoked
/// subject is remembered for as long as its tokens can live, so every
/// lifetime is bounded.
pub(crate) const MAX_TTL: Duration = Duration::from_secs(366 * 24 * 3600);

/// Milliseconds since the epoch (0 before it, saturating far after).
pub(crate) fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The latest date a token may carry: 9999-12-31T23:59:59Z. A later `exp`
/// is read as this one, so that every date of a token fits a `SystemTime`.
pub(crate) const MAX_NUMERIC_DATE: u64 = 253_402_300_799;

/// A NumericDate (RFC 7519 §2): a JSON number of seconds since the epoch,
/// not necessarily an integer. Kept as whole seconds and how far the exact
/// value may lie above them, so each claim rounds toward its safe side:
/// `exp` down, `nbf` up, `iat` down for revocation and up for the future
/// check.
#[derive(Debug, Clone, Copy)]
struct NumericDate {
    secs: u64,
    kind: Precision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Precision {
    /// An integer, written as one: exactly `secs`.
    Exact,
    /// Between `secs` and `secs + 1`.
    Fraction,
    /// A number written with a fraction or exponent that reads as a whole
    /// `f64`: the text may have been a hair above or below it
    /// (`1700000000.99999999` reads as `1700000001.0`), so it is taken as
    /// anywhere within a second of `secs`.
    Rounded,
}

impl NumericDate {
    /// The latest whole second at or before the value.
    const fn floor(self) -> u64 {
        match self.kind {
            Precision::Exact | Precision::Fraction => self.secs,
            Precision::Rounded => self.secs.saturating_sub(1),
        }
    }

    /// The earliest whole second at or after the value.
    const fn ceil(self) -> u64 {
        match self.kind {
            Precision::Exact => self.secs,
            Precision::Fraction | Precision::Rounded => self.secs.saturating_add(1),
        }
    }
}

impl<'de> Deserialize<'de> for NumericDate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DateVisitor;
        impl Visitor<'_> for DateVisitor {
            type Value = NumericDate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative number of seconds")
            }
            fn visit_u64<E: de::Error>(self, secs: u64) -> Result<NumericDate, E> {
                Ok(NumericDate {
                    secs,
                    kind: Precision::Exact,
                })
            }
            fn visit_i64<E: de::Error>(self, secs: i64) -> Result<NumericDate, E> {
                u64::try_from(secs)
                    .map(|secs| self.visit_u64::<E>(secs))
                    .map_err(|_| E::custom("a date before 1970"))?
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<NumericDate, E> {
                // JSON has no NaN or infinity; -0.0 is 0.
                if value.is_nan() || value < 0.0 {
                    return Err(E::custom("a date before 1970"));
                }
                let whole = value.floor();
                Ok(NumericDate {
                    // Saturates for dates beyond u64, which the `exp` check refuses.
                    secs: whole as u64,
                    kind: if value > whole {
                        Precision::Fraction
                    } else {
                        Precision::Rounded
                    },
                })
            }
        }
        deserializer.deserialize_any(DateVisitor)
    }
}

/// A JSON value in which no object names a member twice, at any depth
/// (RFC 8259 §4 leaves duplicates undefined; a verifier must not guess).
struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StrictVisitor;
        impl<'de> Visitor<'de> for StrictVisitor {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(Value::from(v))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                serde_json::Number::from_f64(v)
                    .map(Value::Number)
                    .ok_or_else(|| E::custom("not a finite number"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::String(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::String(v))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(Strict(item)) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Value::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut members = Map::new();
                while let Some((name, Strict(value))) = map.next_entry::<String, Strict>()? {
                    if members.insert(name, value).is_some() {
                        return Err(de::Error::custom("duplicate member"));
                    }
                }
                Ok(Value::Object(members))
            }
        }
        deserializer.deserialize_any(StrictVisitor).map(Strict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Claims, serde_json::Error> {
        let mut deserializer = serde_json::Deserializer::from_str(json);
        let claims = deserializer.deserialize_map(ClaimsVisitor { remote: false })?;
        deserializer.end()?;
        Ok(claims)
    }

    const BASE: &str = r#""sub":"alice","jti":"j","iat":1,"exp":2,"type":"access""#;

    #[test]
    fn parses_registered_and_custom_claims() {
        let c = parse(&format!(
            r#"{{{BASE},"fresh":true,"scope":"a b","tenant":"acme"}}"#
        ))
        .unwrap();
        assert_eq!(c.sub, "alice");
        assert!(c.fresh);
        assert!(c.scope.unwrap().contains("b"));
        assert_eq!(c.extra["tenant"], "acme");
    }

    #[test]
    fn reads_json_as_rfc_8259_has_it() {
        // Escaped names and values, exponents and fractions mean what they say;
        // each date rounds toward its safe side.
        let c = parse(
            r#"{"s\u0075b":"\u0061lice","jti":"j","iat":1.5,"exp":2.9e0,"nbf":0.25,"type":"acc\u0065ss"}"#,
        )
        .unwrap();
        assert_eq!(c.sub, "alice");
        assert_eq!(c.kind, TokenKind::Access);
        assert_eq!((c.iat, c.iat_ceil, c.exp, c.nbf), (1, 2, 2, Some(1)));
        // A fraction or exponent that reads as a whole f64 may have been a
        // hair on either side of it: a second's margin, toward safety.
        let c = parse(
            r#"{"sub":"a","jti":"j","iat":5.0,"exp":1700000000.99999999,"nbf":3e0,"type":"access"}"#,
        )
        .unwrap();
        assert_eq!(
            (c.iat, c.iat_ceil, c.exp, c.nbf),
            (4, 6, 1_700_000_000, Some(4))
        );
        let c =
            parse(r#"{"sub":"a","jti":"j","iat":1,"exp":2,"nbf":1e-400,"type":"access"}"#).unwrap();
        assert_eq!(c.nbf, Some(1));
        // An `exp` past year 9999 is refused, however it is written; the
        // last second of that year is not.
        for exp in [
            "1e300",
            "18446744073709551615",
            "18446744073709551616",
            "253402300800",
        ] {
            let text = format!(r#"{{"sub":"a","jti":"j","iat":1,"exp":{exp},"type":"access"}}"#);
            assert!(parse(&text).is_err(), "accepted exp {exp}");
        }
        let c =
            parse(r#"{"sub":"a","jti":"j","iat":1,"exp":253402300799.9,"type":"access"}"#).unwrap();
        assert_eq!(c.exp, MAX_NUMERIC_DATE);
        // No object may name a member twice, at any depth.
        for bad in [
            format!(r#"{{{BASE},"scope":{{"admin":false,"admin":true}}}}"#),
            format!(r#"{{{BASE},"x":{{"a":[{{"b":1,"b":2}}]}}}}"#),
            format!(r#"{{{BASE},"\u0078":1,"x":2}}"#),
        ] {
            assert!(parse(&bad).is_err(), "accepted {bad}");
        }
        assert!(parse(&format!(r#"{{{BASE},"x":{{"a":[{{"b":1}},{{"b":2}}]}}}}"#)).is_ok());
    }

    #[test]
    fn refuses_wrong_types_and_duplicates() {
        for bad in [
            r#"{"sub":1,"jti":"j","iat":1,"exp":2,"type":"access"}"#,
            r#"{"sub":"a","jti":"j","iat":1,"exp":"2","type":"access"}"#,
            r#"{"sub":"a","jti":"j","iat":1,"exp":-2,"type":"access"}"#,
            r#"{"sub":"a","jti":"j","iat":-0.5,"exp":2,"type":"access"}"#,
            r#"{"sub":"a","jti":"j","iat":1,"exp":2,"type":"id"}"#,
            r#"{"sub":"a","jti":"j","iat":1,"exp":2,"type":"access","fresh":"true"}"#,
            r#"{"sub":"a","jti":"j","iat":1,"exp":2,"type":"access","scope":[true]}"#,
            r#"{"sub":"a","sub":"b","jti":"j","iat":1,"exp":2,"type":"access"}"#,
            r#"{"sub":"a","jti":"j","iat":1,"exp":2,"type":"access","t":1,"t":2}"#,
            r#"{"sub":"a","jti":"j","iat":1,"type":"access"}"#,
            r#"{"sub":"a","jti":"j","iat":1,"exp":2}"#,
            r#"[]"#,
        ] {
            assert!(parse(bad).is_err(), "accepted {bad}");
        }
    }
}
