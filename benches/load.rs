//! HTTP load bench: server CPU per request of an unguarded handler, a
//! `#[require_token]` handler (HS256; RS256 and ES256 with the
//! verified-signature cache, as by default, and without it; with the
//! `redis` feature also HS256 on the Redis store), and a hand-written
//! `FromRequestParts` extractor over `jsonwebtoken`, measured side by side.
//! Every request of a run sends the same token, as a client does between
//! two refreshes.
//!
//! ```sh
//! benches/load.sh --requests 20000 --rounds 3
//! cargo bench --bench load -- --requests 20000 --rounds 3   # the same
//! ```
//!
//! Options: `--requests N` (per server and round, default 20000), `--rounds R`
//! (default 3), `--connections C` (default 8), `--seconds S` (the time bound
//! of each load, default 20). `cargo bench` adds `--bench`, which is ignored.
//!
//! With `--features redis` the driver starts a `redis-server` of its own on a
//! free port of 127.0.0.1 for the Redis variant (which revokes one other
//! token first, so its replica is not empty), and stops it at the end.
//!
//! Each server runs in a child process on one thread, on 127.0.0.1 only;
//! the driver sends keep-alive requests over a few connections from this
//! process and reads the child's CPU time (`/proc/<pid>/task/*/schedstat`)
//! before and after. Every run is bounded in requests and seconds, and a
//! server exits by itself after two minutes.

use std::io::{BufRead, BufReader, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::routing::get;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use jwt_guard::{TokenManager, require_token};
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader as AsyncBufReader};
use tokio::net::TcpStream;

const SECRET: &str = "a load-bench secret of at least thirty-two bytes";
const VARIANTS: &[&str] = &[
    "unguarded",
    "guard_hs256",
    #[cfg(feature = "redis")]
    "guard_hs256_redis",
    "guard_rs256",
    "guard_rs256_nocache",
    "guard_es256",
    "guard_es256_nocache",
    "handwritten_hs256",
];
const SERVER_LIFETIME: Duration = Duration::from_secs(120);

fn key(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/keys/{name}.pem",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("tests/keys/{name}.pem: {e}"))
}

// ---------------------------------------------------------------------------
// The servers

#[require_token]
async fn guarded() -> &'static str {
    "hello"
}

async fn unguarded() -> &'static str {
    "hello"
}

/// What a careful hand-written extractor looks like: key and validation
/// prepared once, `jsonwebtoken::decode` into a claims struct.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Claims {
    sub: String,
    jti: String,
    iat: u64,
    nbf: u64,
    exp: u64,
    iss: String,
    #[serde(rename = "type")]
    kind: String,
    fresh: bool,
}

struct Auth(#[allow(dead_code)] Claims);

fn hand_keys() -> &'static (DecodingKey, Validation) {
    static KEYS: OnceLock<(DecodingKey, Validation)> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&["bench"]);
        (DecodingKey::from_secret(SECRET.as_bytes()), validation)
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or((StatusCode::UNAUTHORIZED, "missing token"))?;
        let (key, validation) = hand_keys();
        let data = jsonwebtoken::decode::<Claims>(token, key, validation)
            .map_err(|_| (StatusCode::UNAUTHORIZED, "invalid token"))?;
        if data.claims.kind != "access" {
            return Err((StatusCode::UNAUTHORIZED, "not an access token"));
        }
        Ok(Self(data.claims))
    }
}

async fn handwritten(_auth: Auth) -> &'static str {
    "hello"
}

fn serve(variant: &str, redis: Option<&str>) -> Result<(), Box<dyn std::error::Error>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let b = || TokenManager::builder().issuer("bench");
        let manager = match variant {
            // The same token on every request: with the verified-signature
            // cache (the default), its signature is checked once.
            "guard_rs256" => b()
                .rs256_pem(key("rsa-private"), key("rsa-public"))
                .build()?,
            "guard_rs256_nocache" => b()
                .rs256_pem(key("rsa-private"), key("rsa-public"))
                .signature_cache(0)
                .build()?,
            "guard_es256" => b()
                .es256_pem(key("ec256-private"), key("ec256-public"))
                .build()?,
            "guard_es256_nocache" => b()
                .es256_pem(key("ec256-private"), key("ec256-public"))
                .signature_cache(0)
                .build()?,
            #[cfg(feature = "redis")]
            "guard_hs256_redis" => {
                let url = redis.ok_or("the Redis variant needs a URL")?;
                let store = jwt_guard::RedisStore::connect(url).await?;
                let manager = b().hs256(SECRET).revocation_store(store).build()?;
                // One revocation in the replica: lookups are real.
                let other = manager.access_token("bob").sign()?;
                let other = manager
                    .verify(other.as_str(), jwt_guard::TokenKind::Access)
                    .await?;
                manager.revoke(&other).await?;
                manager
            }
            _ => b().hs256(SECRET).build()?,
        };
        let _ = redis;
        let app = match variant {
            "unguarded" => Router::new().route("/hello", get(unguarded)),
            "handwritten_hs256" => Router::new().route("/hello", get(handwritten)),
            _ => Router::new()
                .route("/hello", get(guarded))
                .layer(manager.layer()),
        };
        let token = manager.access_token("alice").fresh(true).sign()?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "PORT {}", listener.local_addr()?.port())?;
        writeln!(stdout, "TOKEN {}", token.as_str())?;
        stdout.flush()?;
        tokio::select! {
            result = axum::serve(listener, app) => result?,
            () = tokio::time::sleep(SERVER_LIFETIME) => {}
        }
        Ok(())
    })
}

// ---------------------------------------------------------------------------
// The driver

struct Server {
    child: Child,
    port: u16,
    token: String,
}

impl Server {
    fn start(variant: &str, redis: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let mut child = Command::new(std::env::current_exe()?)
            .args(["serve", variant, redis])
            .stdout(Stdio::piped())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let mut next = |prefix: &str| -> Result<String, Box<dyn std::error::Error>> {
            let line = lines.next().ok_or("server exited")??;
            Ok(line
                .strip_prefix(prefix)
                .ok_or("unexpected server output")?
                .to_owned())
        };
        let port = next("PORT ")?.parse()?;
        let token = next("TOKEN ")?;
        Ok(Self { child, port, token })
    }

    /// CPU time of every thread of the server, in nanoseconds.
    fn cpu_ns(&self) -> Result<u64, Box<dyn std::error::Error>> {
        let mut total = 0;
        for task in std::fs::read_dir(format!("/proc/{}/task", self.child.id()))? {
            let stat = std::fs::read_to_string(task?.path().join("schedstat"))?;
            total += stat
                .split_whitespace()
                .next()
                .ok_or("empty schedstat")?
                .parse::<u64>()?;
        }
        Ok(total)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends `count` requests on one keep-alive connection, stopping early at
/// `deadline`; returns how many were answered 200.
async fn connection(
    port: u16,
    request: std::sync::Arc<Vec<u8>>,
    count: usize,
    deadline: Instant,
) -> usize {
    let Ok(stream) = TcpStream::connect(("127.0.0.1", port)).await else {
        return 0;
    };
    let _ = stream.set_nodelay(true);
    let mut stream = AsyncBufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    let mut done = 0;
    while done < count && Instant::now() < deadline {
        if stream.get_mut().write_all(&request).await.is_err() {
            break;
        }
        let mut length = 0usize;
        let mut ok = false;
        let mut first = true;
        loop {
            line.clear();
            if stream.read_line(&mut line).await.unwrap_or(0) == 0 {
                return done;
            }
            if first {
                ok = line.starts_with("HTTP/1.1 200");
                first = false;
            } else if line == "\r\n" {
                break;
            } else if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        body.resize(length, 0);
        if stream.read_exact(&mut body).await.is_err() {
            return done;
        }
        if !ok {
            eprintln!("unexpected response: {}", String::from_utf8_lossy(&body));
            return done;
        }
        done += 1;
    }
    done
}

async fn load(server: &Server, total: usize, connections: usize, limit: Duration) -> usize {
    let request = std::sync::Arc::new(
        format!(
            "GET /hello HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n",
            server.token
        )
        .into_bytes(),
    );
    let deadline = Instant::now() + limit;
    let per = total.div_ceil(connections);
    let tasks: Vec<_> = (0..connections)
        .map(|_| tokio::spawn(connection(server.port, request.clone(), per, deadline)))
        .collect();
    let mut done = 0;
    for task in tasks {
        done += task.await.unwrap_or(0);
    }
    done
}

struct Run {
    requests: usize,
    wall: Duration,
    cpu_ns: u64,
}

/// The driver's settings, from the command line.
struct Options {
    requests: usize,
    connections: usize,
    rounds: usize,
    seconds: u64,
}

const USAGE: &str = "usage: load [--requests N] [--rounds R] [--connections C] [--seconds S]";

impl Options {
    /// Reads `--name value` pairs; `--bench`, which `cargo bench` passes to
    /// every benchmark, is accepted and ignored.
    fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self {
            requests: 20_000,
            connections: 8,
            rounds: 3,
            seconds: 20,
        };
        let mut args = args.iter();
        while let Some(name) = args.next() {
            if name == "--bench" {
                continue;
            }
            let value = args
                .next()
                .ok_or_else(|| format!("`{name}` needs a value\n{USAGE}"))?;
            let number = || {
                value
                    .parse::<usize>()
                    .map_err(|_| format!("`{name}`: `{value}` is not a number\n{USAGE}"))
            };
            match name.as_str() {
                "--requests" => options.requests = number()?,
                "--connections" => options.connections = number()?.max(1),
                "--rounds" => options.rounds = number()?.max(1),
                "--seconds" => options.seconds = number()? as u64,
                _ => return Err(format!("unknown argument `{name}`\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("serve") {
        return serve(
            args.get(2).map_or("unguarded", String::as_str),
            args.get(3).map(String::as_str),
        );
    }
    let Options {
        requests,
        connections,
        rounds,
        seconds,
    } = Options::parse(&args[1..]).unwrap_or_else(|message| {
        eprintln!("{message}");
        std::process::exit(2)
    });
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;

    #[cfg(feature = "redis")]
    let redis = jwt_guard_test_support::RedisServer::start();
    #[cfg(feature = "redis")]
    let redis_url = redis.url();
    #[cfg(not(feature = "redis"))]
    let redis_url = String::new();
    let mut runs: Vec<Vec<Run>> = VARIANTS.iter().map(|_| Vec::new()).collect();
    for round in 1..=rounds {
        eprintln!("round {round}/{rounds}");
        for (i, variant) in VARIANTS.iter().enumerate() {
            let server = Server::start(variant, &redis_url)?;
            runtime.block_on(load(
                &server,
                2_000,
                connections,
                Duration::from_secs(seconds),
            ));
            let cpu0 = server.cpu_ns()?;
            let start = Instant::now();
            let done = runtime.block_on(load(
                &server,
                requests,
                connections,
                Duration::from_secs(seconds),
            ));
            let wall = start.elapsed();
            let cpu = server.cpu_ns()? - cpu0;
            if done == 0 {
                return Err(format!("{variant}: no request succeeded").into());
            }
            runs[i].push(Run {
                requests: done,
                wall,
                cpu_ns: cpu,
            });
        }
    }

    // Median CPU per request of each variant, and its ratio to unguarded.
    let per_request = |runs: &[Run]| {
        let mut values: Vec<f64> = runs
            .iter()
            .map(|r| r.cpu_ns as f64 / r.requests as f64)
            .collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    let base = per_request(&runs[0]);
    println!("| server | requests | req/s | server CPU µs/request | ratio to unguarded |");
    println!("|---|---|---|---|---|");
    for (variant, runs) in VARIANTS.iter().zip(&runs) {
        let requests: usize = runs.iter().map(|r| r.requests).sum();
        let wall: f64 = runs.iter().map(|r| r.wall.as_secs_f64()).sum();
        let cpu = per_request(runs);
        println!(
            "| {variant} | {requests} | {:.0} | {:.2} | {:.2} |",
            requests as f64 / wall,
            cpu / 1000.0,
            cpu / base
        );
    }
    #[cfg(feature = "redis")]
    {
        let of = |name: &str| {
            VARIANTS
                .iter()
                .position(|v| *v == name)
                .map(|i| per_request(&runs[i]))
        };
        if let (Some(on_redis), Some(in_memory)) = (of("guard_hs256_redis"), of("guard_hs256")) {
            println!(
                "\nRedis store / in-memory store, server CPU per guarded request: {:.3}",
                on_redis / in_memory
            );
        }
        drop(redis);
    }
    Ok(())
}
