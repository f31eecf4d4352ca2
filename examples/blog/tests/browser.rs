//! The blog's two pages in a real browser: headless Chromium (Debian's
//! `chromium`) driven through `chromedriver` (Debian's `chromium-driver`)
//! over WebDriver, against the blog served on 127.0.0.1.
//!
//! - The login page: sign up, write a post (the CSRF header from the CSRF
//!   cookie), see it live over the WebSocket, reload and stay logged in,
//!   log out and be refused; and a page of another origin (a second
//!   listener, on another port) that sends the same POST with the user's
//!   cookies is refused and creates nothing.
//! - `/docs`: Swagger UI's Authorize button with the OAuth2 password flow,
//!   a guarded route called from Swagger UI (200), then after logging out
//!   of the dialog, the same call refused (401).
//!
//! The assertions read the page's DOM and the server's state. A screenshot
//! of each page is kept in `target/tmp/browser/` (not asserted on).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, Response};
use fantoccini::{Client, ClientBuilder, Locator};
use jwt_guard::TokenManager;
use jwt_guard_test_support::send;

mod common;
use common::serve;
use serde_json::{Value, json};

/// A request the blog answered: method, path, status, and the
/// `WWW-Authenticate` of a refusal.
#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    status: StatusCode,
    challenge: Option<String>,
}

/// The blog on a free port of 127.0.0.1, recording what it answers.
struct Blog {
    addr: SocketAddr,
    app: Router,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Blog {
    async fn start() -> Self {
        let manager = example_blog::token_settings(
            TokenManager::builder().hs256("the blog's browser-test secret, 32+ bytes"),
        )
        .build()
        .unwrap();
        let db = example_blog::open("sqlite::memory:").await.unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let record = {
            let seen = Arc::clone(&seen);
            move |request: Request, next: Next| {
                let seen = Arc::clone(&seen);
                async move {
                    let (method, path) =
                        (request.method().clone(), request.uri().path().to_owned());
                    let response: Response = next.run(request).await;
                    let challenge = response
                        .headers()
                        .get(header::WWW_AUTHENTICATE)
                        .map(|v| v.to_str().unwrap().to_owned());
                    seen.lock().unwrap().push(Seen {
                        method,
                        path,
                        status: response.status(),
                        challenge,
                    });
                    response
                }
            }
        };
        let app = example_blog::router(db, &manager).layer(middleware::from_fn(record));
        let addr = serve(app.clone()).await;
        Self { addr, app, seen }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The requests answered so far for `method path`.
    fn seen(&self, method: &Method, path: &str) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.method == method && s.path == path)
            .cloned()
            .collect()
    }

    async fn sign_up(&self, username: &str, password: &str) {
        let body = json!({ "username": username, "password": password });
        let request = axum::http::Request::post("/signup")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        assert_eq!(send(&self.app, request).await.status, StatusCode::CREATED);
    }
}

/// A headless Chromium with a fresh profile, driven through its own
/// `chromedriver`; both end when it is dropped.
struct Browser {
    client: Option<Client>,
    driver: Child,
    _profile: TempDir,
}

impl Browser {
    async fn start() -> Self {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new("chromedriver")
            .args([
                format!("--port={port}"),
                "--allowed-ips=127.0.0.1".to_owned(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (Debian package chromium-driver) must be installed");
        let profile = TempDir::new("chromium-profile");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--disable-dev-shm-usage",
                    "--window-size=1280,1000",
                    format!("--user-data-dir={}", profile.0.display()),
                ],
            }),
        );
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let started = Instant::now();
        let client = loop {
            match ClientBuilder::new(connector.clone())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => break client,
                Err(error) if started.elapsed() < Duration::from_secs(20) => {
                    let _ = error;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!("no WebDriver session: {error}"),
            }
        };
        Self {
            client: Some(client),
            driver,
            _profile: profile,
        }
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("open")
    }

    async fn goto(&self, url: &str) {
        self.client().goto(url).await.unwrap();
    }

    /// Waits (at most twenty seconds) for `css` to match a displayed element.
    async fn shown(&self, css: &str) -> fantoccini::elements::Element {
        let started = Instant::now();
        loop {
            if let Ok(element) = self.client().find(Locator::Css(css)).await
                && element.is_displayed().await.unwrap_or(false)
            {
                return element;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "`{css}` not shown within twenty seconds"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (at most twenty seconds) for `script` to return `true`.
    async fn until(&self, what: &str, script: &str) {
        let started = Instant::now();
        loop {
            if self.client().execute(script, vec![]).await.unwrap() == json!(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{what}: not within twenty seconds"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn text(&self, css: &str) -> String {
        self.shown(css).await.text().await.unwrap()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let input = self.shown(css).await;
        input.clear().await.unwrap();
        input.send_keys(text).await.unwrap();
    }

    async fn click(&self, css: &str) {
        self.shown(css).await.click().await.unwrap();
    }

    /// Runs `script` (a body that returns a promise) in the page.
    async fn run(&self, script: &str) -> Value {
        self.client().execute(script, vec![]).await.unwrap()
    }

    /// Keeps a screenshot as a test artifact, scrolled to `css` when given.
    async fn screenshot(&self, name: &str, css: Option<&str>) {
        if let Some(css) = css {
            let script =
                format!("document.querySelector('{css}').scrollIntoView({{block: 'center'}})");
            self.client().execute(&script, vec![]).await.unwrap();
        }
        let png = self.client().screenshot().await.unwrap();
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("browser");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap();
        eprintln!("screenshot: {}", path.display());
    }

    async fn close(mut self) {
        if let Some(client) = self.client.take() {
            client.close().await.unwrap();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A directory removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "jwt-guard-{name}-{}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A page of another origin (the same host, another port) that posts to
/// the blog with the user's cookies: once as a plain form-like `fetch`, once
/// in `no-cors` mode with the CSRF value it can read from the shared cookie
/// jar, and once in `cors` mode with that header (which needs a preflight
/// the blog never grants); then it opens the live WebSocket. It writes what
/// it learned into `#result`.
fn foreign_page(blog: &str) -> String {
    format!(
        r##"<!doctype html><title>elsewhere</title><p id="result">pending</p>
<script>
(async () => {{
  const target = "{blog}/users/alice/posts";
  const body = JSON.stringify({{ title: "forged", body: "from elsewhere" }});
  const csrf = (document.cookie.split("; ").find((c) => c.startsWith("__Host-csrf_access_token=")) || "").split("=")[1] || "";
  const outcomes = [];
  const attempt = async (name, init) => {{
    try {{
      const reply = await fetch(target, init);
      outcomes.push(`${{name}}: ${{reply.type}} ${{reply.status}}`);
    }} catch (error) {{
      outcomes.push(`${{name}}: blocked`);
    }}
  }};
  await attempt("simple", {{ method: "POST", credentials: "include", headers: {{ "Content-Type": "text/plain" }}, body }});
  await attempt("no-cors", {{ method: "POST", mode: "no-cors", credentials: "include", headers: {{ "Content-Type": "text/plain", "X-CSRF-Token": csrf }}, body }});
  await attempt("cors", {{ method: "POST", credentials: "include", headers: {{ "Content-Type": "application/json", "X-CSRF-Token": csrf }}, body }});
  // A WebSocket is not bound by CORS: it sends the cookies from any page.
  await new Promise((done) => {{
    const socket = new WebSocket(target.replace("http:", "ws:").replace("/users/alice/posts", "/live"));
    socket.onopen = () => {{ outcomes.push("ws: open"); socket.close(); done(); }};
    socket.onerror = () => {{ outcomes.push("ws: refused"); done(); }};
  }});
  document.getElementById("result").textContent = outcomes.join("; ");
}})();
</script>"##
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_in_chromium() {
    let blog = Blog::start().await;
    let browser = Browser::start().await;

    // Signed out at first.
    browser.goto(&blog.url("/")).await;
    browser.shown("#signed-out").await;
    // Sign up (the first account: alice), which logs in.
    browser.type_into("#username", "alice").await;
    browser.type_into("#password", "correct-horse").await;
    browser.click("#signup").await;
    assert_eq!(browser.text("#who").await, "alice");
    // The tokens are in HttpOnly cookies: the page's script sees only the
    // CSRF values.
    let visible = browser.run("return document.cookie").await;
    let visible = visible.as_str().unwrap();
    assert!(visible.contains("__Host-csrf_access_token="), "{visible}");
    assert!(!visible.contains("__Host-access_token="), "{visible}");
    let cookies = browser.client().get_all_cookies().await.unwrap();
    let access = cookies
        .iter()
        .find(|c| c.name() == "__Host-access_token")
        .expect("the access cookie is set")
        .clone();
    assert_eq!(access.http_only(), Some(true));
    assert_eq!(access.secure(), Some(true));

    // The live feed is connected with the page's cookie.
    browser
        .until(
            "the live feed connects",
            r##"return document.getElementById("live-status").textContent === "(connected)""##,
        )
        .await;
    // Write a post: a state-changing fetch with the CSRF header.
    browser.type_into("#title", "Hello from Chromium").await;
    browser
        .type_into("#body", "Written in a real browser.")
        .await;
    browser.click("#publish").await;
    browser
        .until(
            "the post is listed",
            r##"return [...document.querySelectorAll("#posts li strong")].some((e) => e.textContent === "Hello from Chromium")"##,
        )
        .await;
    browser
        .until(
            "the post arrives on the live feed",
            r##"return [...document.querySelectorAll("#live li strong")].some((e) => e.textContent === "Hello from Chromium")"##,
        )
        .await;
    assert_eq!(
        common::post_titles(&blog.app, "alice").await,
        ["Hello from Chromium"]
    );
    let created = blog.seen(&Method::POST, "/users/alice/posts");
    assert_eq!(created.len(), 1, "{created:?}");
    assert_eq!(created[0].status, StatusCode::CREATED);
    assert_eq!(
        blog.seen(&Method::GET, "/live")[0].status,
        StatusCode::SWITCHING_PROTOCOLS
    );
    browser.screenshot("login-page", None).await;

    // Reload: still logged in, the post still there.
    browser.client().refresh().await.unwrap();
    assert_eq!(browser.text("#who").await, "alice");
    browser
        .until(
            "the post is listed after a reload",
            r##"return document.querySelectorAll("#posts li").length === 1"##,
        )
        .await;

    // A page of another origin posts with the user's cookies.
    let foreign_html = foreign_page(&format!("http://{}", blog.addr));
    let foreign = serve(Router::new().route(
        "/",
        axum::routing::get(move || {
            let html = foreign_html.clone();
            async move { Html(html) }
        }),
    ))
    .await;
    assert_eq!(
        foreign.ip(),
        blog.addr.ip(),
        "same host, so the cookies go along"
    );
    browser.goto(&format!("http://{foreign}/")).await;
    browser
        .until(
            "the foreign page is done",
            r##"return document.getElementById("result").textContent !== "pending""##,
        )
        .await;
    let outcome = browser.text("#result").await;
    browser.screenshot("foreign-origin", None).await;
    // The browser could not read a single answer…
    assert_eq!(
        outcome, "simple: blocked; no-cors: opaque 0; cors: blocked; ws: refused",
        "{outcome}"
    );
    // …and the server refused both POSTs that reached it for their origin,
    // and created nothing.
    let forged = blog.seen(&Method::POST, "/users/alice/posts");
    assert_eq!(forged.len(), 3, "{forged:?}");
    for refused in &forged[1..] {
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        let challenge = refused.challenge.as_deref().unwrap();
        assert!(
            challenge.contains("a cookie-borne token is not accepted from this origin"),
            "{challenge}"
        );
    }
    // The third needed a preflight, which the blog does not grant.
    let preflights = blog.seen(&Method::OPTIONS, "/users/alice/posts");
    assert!(
        preflights.iter().all(|p| !p.status.is_success()),
        "{preflights:?}"
    );
    assert_eq!(
        common::post_titles(&blog.app, "alice").await,
        ["Hello from Chromium"]
    );
    // The WebSocket reached the server, which refused it for its origin.
    let sockets = blog.seen(&Method::GET, "/live");
    let refused = sockets.last().unwrap();
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{sockets:?}");
    assert!(
        refused
            .challenge
            .as_deref()
            .unwrap()
            .contains("a cookie-borne token is not accepted from this origin"),
        "{sockets:?}"
    );

    // Back on the blog: log out.
    browser.goto(&blog.url("/")).await;
    assert_eq!(browser.text("#who").await, "alice");
    browser.click("#logout").await;
    browser.shown("#signed-out").await;
    assert_eq!(browser.text("#message").await, "Logged out.");
    let cookies = browser.client().get_all_cookies().await.unwrap();
    assert!(
        cookies.iter().all(|c| !c.name().starts_with("__Host-")),
        "{cookies:?}"
    );
    // Refused from then on: the page, and the old access token anywhere.
    let status = browser
        .run(r##"return fetch("/session").then((reply) => reply.status)"##)
        .await;
    assert_eq!(status, json!(401));
    browser.client().refresh().await.unwrap();
    browser.shown("#signed-out").await;
    let old = axum::http::Request::get("/users/alice")
        .header(header::AUTHORIZATION, format!("Bearer {}", access.value()))
        .body(Body::empty())
        .unwrap();
    let reply = send(&blog.app, old).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    assert_eq!(reply.json()["message"], "token has been revoked");
    browser.screenshot("logged-out", None).await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swagger_ui_authorizes_with_the_password_flow_in_chromium() {
    let blog = Blog::start().await;
    blog.sign_up("alice", "correct-horse").await;
    let browser = Browser::start().await;
    browser.goto(&blog.url("/docs/")).await;

    // Authorize: the OAuth2 password flow, through `/token`.
    browser.click(".auth-wrapper button.authorize").await;
    browser.type_into("#oauth_username", "alice").await;
    browser.type_into("#oauth_password", "correct-horse").await;
    browser
        .click(r##"button[aria-label="Apply given OAuth2 credentials"]"##)
        .await;
    browser
        .shown(r##"button[aria-label="Remove authorization"]"##)
        .await;
    let token_calls = blog.seen(&Method::POST, "/token");
    assert_eq!(token_calls.len(), 1, "{token_calls:?}");
    assert_eq!(token_calls[0].status, StatusCode::OK);
    browser.screenshot("docs-authorized", None).await;
    browser.click(".btn-done").await;

    // A guarded route, from Swagger UI: 200.
    let operation = "#operations-accounts-profile";
    browser
        .click(&format!("{operation} .opblock-summary-control"))
        .await;
    browser
        .click(&format!("{operation} button.try-out__btn"))
        .await;
    browser
        .type_into(
            &format!(r##"{operation} tr[data-param-name="username"] input"##),
            "alice",
        )
        .await;
    browser.click(&format!("{operation} button.execute")).await;
    let status =
        format!("{operation} .live-responses-table tbody tr.response td.response-col_status");
    browser
        .until(
            "the call's status is shown",
            &format!(r##"const cell = document.querySelector('{status}'); return cell !== null && cell.textContent.trim().startsWith("200")"##),
        )
        .await;
    let calls = blog.seen(&Method::GET, "/users/alice");
    assert_eq!(
        calls.iter().map(|c| c.status).collect::<Vec<_>>(),
        [StatusCode::OK]
    );
    browser.screenshot("docs-200", Some(&status)).await;

    // Log out of the dialog: the same call is refused.
    browser.click(".auth-wrapper button.authorize").await;
    browser
        .click(r##"button[aria-label="Remove authorization"]"##)
        .await;
    browser
        .shown(r##"button[aria-label="Apply given OAuth2 credentials"]"##)
        .await;
    browser.click(".close-modal").await;
    browser.click(&format!("{operation} button.execute")).await;
    browser
        .until(
            "the refusal's status is shown",
            &format!(r##"const cell = document.querySelector('{status}'); return cell !== null && cell.textContent.trim().startsWith("401")"##),
        )
        .await;
    let calls = blog.seen(&Method::GET, "/users/alice");
    assert_eq!(
        calls.iter().map(|c| c.status).collect::<Vec<_>>(),
        [StatusCode::OK, StatusCode::UNAUTHORIZED]
    );
    assert_eq!(
        calls[1].challenge.as_deref(),
        Some(r##"Bearer realm="api""##),
        "no token was sent"
    );
    browser.screenshot("docs-401", Some(&status)).await;
    browser.close().await;
}
