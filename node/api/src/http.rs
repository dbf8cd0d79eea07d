//! The node's HTTP surface on one port: JSON-RPC (`POST /`), events (`GET /ws`), the dashboard
//! (the built `ui/`, embedded in the binary), `/metrics` for Prometheus, and the login that lets
//! a browser in. Everything but the login page needs the API credentials (HTTP Basic, as
//! Bitcoin Core's cookie) or a session cookie the login hands out.

use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Body;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use p2share_rpc::Credentials;
use serde::Deserialize;

use crate::handle::Api;
use crate::rpc::rpc_server;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "p2share_session";
/// Most browser sessions held at once (the oldest goes first).
const MAX_SESSIONS: usize = 64;

mod assets {
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

/// The dashboard's files: `(path, content type, bytes)`; empty when `ui/dist` was not built.
pub fn ui_assets() -> &'static [(&'static str, &'static str, &'static [u8])] {
    assets::ASSETS
}

/// Browser sessions: random tokens handed out at login; cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Sessions {
    tokens: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").finish_non_exhaustive()
    }
}

impl Sessions {
    fn create(&self) -> Option<String> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).ok()?;
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut t = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        if t.len() == MAX_SESSIONS {
            t.remove(0);
        }
        t.push(token.clone());
        Some(token)
    }

    fn remove(&self, token: &str) {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .retain(|t| t != token);
    }

    fn valid(&self, token: &str) -> bool {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .any(|t| t == token)
    }

    /// Whether `headers` carry a live session cookie.
    pub fn accepts(&self, headers: &HeaderMap) -> bool {
        session_token(headers).is_some_and(|t| self.valid(&t))
    }
}

fn session_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

#[derive(Clone)]
struct Web {
    api: Api,
    credentials: Credentials,
    sessions: Sessions,
}

impl Web {
    /// HTTP Basic credentials or a session cookie.
    fn authorized(&self, headers: &HeaderMap) -> bool {
        let basic = headers
            .get(header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok());
        self.credentials.accepts(basic) || self.sessions.accepts(headers)
    }
}

/// The node's whole HTTP router: JSON-RPC, WebSocket, dashboard, metrics and login.
pub fn router(api: Api, credentials: Credentials) -> Router {
    router_with_sessions(api, credentials, Sessions::default())
}

/// [`router`] with browser sessions that outlive it: a node restarted on a new setup keeps
/// its dashboards logged in.
pub fn router_with_sessions(api: Api, credentials: Credentials, sessions: Sessions) -> Router {
    let web = Web {
        api: api.clone(),
        credentials: credentials.clone(),
        sessions: sessions.clone(),
    };
    // A browser's JSON-RPC call rides on its session cookie; `Content-Type: application/json`
    // is required then, which a cross-site form cannot send (with SameSite=Strict on top).
    let cookie_rpc: p2share_rpc::Authorizer = Arc::new(move |h: &HeaderMap| {
        let json = h
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        json && sessions.accepts(h)
    });
    let rpc = rpc_server(api, credentials)
        .authorize_also(cookie_rpc)
        .router();
    let web_routes = Router::new()
        .route("/", get(ui))
        .route("/ws", get(ws_upgrade))
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/metrics", get(metrics))
        .fallback(ui)
        .with_state(web);
    rpc.merge(web_routes)
}

#[derive(Deserialize)]
struct WsQuery {
    /// `user:password` for clients that cannot set headers.
    auth: Option<String>,
}

fn same_origin(headers: &HeaderMap) -> bool {
    // Browsers send Origin on WebSocket upgrades; a page from another site must not ride on
    // the session cookie. Clients without Origin (curl, tests) authenticate with credentials.
    let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) else {
        return false;
    };
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| rest == host)
}

async fn ws_upgrade(
    State(web): State<Web>,
    Query(q): Query<WsQuery>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|h| h.to_str().ok());
    let from_query = q.auth.map(|a| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(a)
        )
    });
    let ok = web.credentials.accepts(basic)
        || web.credentials.accepts(from_query.as_deref())
        || (web.sessions.accepts(&headers) && same_origin(&headers));
    if !ok {
        return (StatusCode::UNAUTHORIZED, "bad or missing credentials").into_response();
    }
    let events = web.api.subscribe();
    upgrade.on_upgrade(move |socket| crate::ws::ws_session(socket, events))
}

const LOGIN_FALLBACK: &str = "<!doctype html><meta charset=utf-8><title>p2share</title>\
<p>The dashboard was not built into this binary. Build it with <code>npm --prefix ui ci &amp;&amp; \
npm --prefix ui run build</code> and rebuild the node (<code>./scripts/run</code> does both).";

fn fallback_page() -> Response {
    let mut r = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        LOGIN_FALLBACK,
    )
        .into_response();
    security_headers(r.headers_mut());
    r
}

fn asset(path: &str) -> Option<&'static (&'static str, &'static str, &'static [u8])> {
    ui_assets().iter().find(|(p, _, _)| *p == path)
}

/// The dashboard's pages: no inline code, nothing from elsewhere.
const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; connect-src 'self'; \
    frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// The inline elements `<tag>…</tag>` of `html`, as CSP hash sources.
fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    use bitcoin::hashes::{sha256, Hash};
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find(&open) {
        let body = &rest[start + open.len()..];
        let Some(end) = body.find(&close) else { break };
        let digest = sha256::Hash::hash(&body.as_bytes()[..end]);
        out.push(format!(
            "'sha256-{}'",
            base64::engine::general_purpose::STANDARD.encode(digest.to_byte_array())
        ));
        rest = &body[end..];
    }
    out
}

/// The login page's CSP: its own inline `<script>` and `<style>` allowed by hash, nothing else
/// inline (computed once from the embedded file).
fn login_csp() -> &'static str {
    static CSP: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    CSP.get_or_init(|| {
        let html = asset("login.html")
            .map(|(_, _, b)| String::from_utf8_lossy(b).into_owned())
            .unwrap_or_default();
        let list = |v: Vec<String>| {
            if v.is_empty() {
                "'none'".to_string()
            } else {
                v.join(" ")
            }
        };
        format!(
            "default-src 'self'; script-src {}; style-src {}; img-src 'self' data:; \
             connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
            list(inline_hashes(&html, "script")),
            list(inline_hashes(&html, "style"))
        )
    })
}

fn file_response(file: &(&str, &'static str, &'static [u8]), cache: bool) -> Response {
    let (_, mime, bytes) = *file;
    let mut r = Response::new(Body::from(bytes));
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Hashed asset names never change content; pages are always fetched anew.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if cache {
            "public, max-age=31536000, immutable"
        } else {
            "no-cache"
        }),
    );
    security_headers(h);
    if file.0 == "login.html" {
        if let Ok(v) = HeaderValue::from_str(login_csp()) {
            h.insert(header::CONTENT_SECURITY_POLICY, v);
        }
    }
    r
}

fn security_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

fn session_cookie(token: &str) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

async fn login_page(State(web): State<Web>, Query(q): Query<TokenQuery>) -> Response {
    // A one-click link (`/login?token=<password>`), as the node prints at start.
    if let Some(token) = q.token {
        let basic = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{token}", web.credentials.user()))
        );
        if web.credentials.accepts(Some(&basic)) {
            if let Some(session) = web.sessions.create() {
                let mut r = Redirect::to("/").into_response();
                r.headers_mut()
                    .insert(header::SET_COOKIE, session_cookie(&session));
                return r;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    match asset("login.html") {
        Some(f) => file_response(f, false),
        None => fallback_page(),
    }
}

#[derive(Deserialize)]
struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

async fn login(State(web): State<Web>, Json(form): Json<LoginForm>) -> Response {
    // The whole cookie line pasted into the password field with no user is accepted too.
    let (user, password) = match (form.user.is_empty(), form.password.split_once(':')) {
        (true, Some((u, p))) => (u.to_string(), p.to_string()),
        _ => (form.user, form.password),
    };
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    );
    if !web.credentials.accepts(Some(&basic)) {
        // Slows guessing down.
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        return (
            StatusCode::UNAUTHORIZED,
            Json(serde_json::json!({"error": "wrong user or password"})),
        )
            .into_response();
    }
    let Some(session) = web.sessions.create() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "no randomness for a session",
        )
            .into_response();
    };
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut()
        .insert(header::SET_COOKIE, session_cookie(&session));
    r
}

async fn logout(State(web): State<Web>, headers: HeaderMap) -> Response {
    if let Some(t) = session_token(&headers) {
        web.sessions.remove(&t);
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("p2share_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    r
}

async fn metrics(State(web): State<Web>, headers: HeaderMap) -> Response {
    if !web.authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Basic realm=\"p2share\"")],
            "bad or missing credentials",
        )
            .into_response();
    }
    match crate::metrics::render(&web.api).await {
        Ok(text) => (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The dashboard: `index.html` for `/` and any page path, the hashed files under `/assets`.
async fn ui(State(web): State<Web>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    if !web.authorized(&headers) {
        return Redirect::to("/login").into_response();
    }
    let path = uri.path().trim_start_matches('/');
    if let Some(f) = asset(path).filter(|(p, _, _)| *p != "login.html") {
        return file_response(f, path.starts_with("assets/"));
    }
    if path.starts_with("assets/") || path.contains('.') {
        return StatusCode::NOT_FOUND.into_response();
    }
    match asset("index.html") {
        Some(f) => file_response(f, false),
        None => fallback_page(),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn inline_code_is_allowed_by_its_hash_only() {
        let html = "<style>b{}</style><script>a</script><p>x</p><script>a</script>";
        // sha256("a") in base64, as CSP writes it.
        let a = "'sha256-ypeBEsobvcr6wjGzmiPcTaeG7/gUfE5yuYB3ha/uSLs='";
        assert_eq!(inline_hashes(html, "script"), [a, a]);
        assert_eq!(inline_hashes(html, "style").len(), 1);
        assert!(inline_hashes("<script src=x></script>", "script").is_empty());
        assert!(!PAGE_CSP.contains("unsafe-inline"));
    }

    #[test]
    fn session_cookies_are_read_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; p2share_session=abc; b=2"),
        );
        assert_eq!(session_token(&h).as_deref(), Some("abc"));
        let sessions = Sessions::default();
        assert!(!sessions.accepts(&h));
        let t = sessions.create().unwrap();
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("p2share_session={t}")).unwrap(),
        );
        assert!(sessions.accepts(&h));
        sessions.remove(&t);
        assert!(!sessions.accepts(&h));
    }
}
