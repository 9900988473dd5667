//! The registry portal in a real browser: Debian's headless Chromium, driven through Debian's
//! chromedriver with fantoccini, against the portal's HTTPS listener (port 0, in process).
//!
//! The test starts chromedriver itself on a free loopback port and ends it (and the Chromium
//! it started) when it is done, also when an assertion fails. Each browser has its own
//! temporary profile. Trust: the browser is told to accept the server's certificate without
//! checking it (`acceptInsecureCerts` and `--ignore-certificate-errors`), which is fine for a
//! page on 127.0.0.1 that this test itself serves, and nowhere else.
//!
//! Screenshots of the main pages are written to `target/portal-screenshots/` (docs/portal.md
//! shows copies). Without chromedriver the tests are skipped, except under CI (`CI` set), where
//! they fail: .ci/run installs it.

use crate::access::{person, reg, PW};
use crate::freshness::{setup, vera};
use crate::harness::*;
use crate::portal::{portal_directory, team};
use fantoccini::{Client, ClientBuilder, Locator};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const VERIFIER_PW: &str = "vera secret 12";

/// The portal test's directory (tests/it/portal.rs: .br with ana, its admin, and its 24/7
/// team as contact point) with a verifier (vera, in cn=verifiers; tests/it/freshness.rs) and
/// the portal's HTTPS listener on a free port.
fn portal_server() -> TestServer {
    let s = portal_directory(|c| c.listen.portal = Some("127.0.0.1:0".into()));
    setup(&s);
    s
}

/// Where the screenshots go: `target/portal-screenshots/`.
fn screenshots() -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("target dir")
        .join("portal-screenshots");
    std::fs::create_dir_all(&d).expect("screenshot dir");
    d
}

/// Is `program` there? Missing: skip the test, but under CI fail (.ci/run installs it).
fn need(program: &str, package: &str) -> bool {
    let ok = Path::new(program).exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{program} is missing in CI: .ci/run must install Debian's {package}"
        );
        eprintln!("{program} not installed ({package}): browser test skipped");
    }
    ok
}

/// A chromedriver this test started, on a free loopback port. Dropping it ends chromedriver
/// and every process it started (the browsers), by their process ids.
struct Chromedriver {
    child: Child,
    port: u16,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Chromedriver {
    /// Start chromedriver, or None (skipped) when it or Chromium is not installed.
    fn start() -> Option<Chromedriver> {
        if !need(CHROMEDRIVER, "chromium-driver") || !need(CHROMIUM, "chromium") {
            return None;
        }
        let dir = tempfile::tempdir().expect("tmp");
        let log = dir.path().join("chromedriver.log");
        // A free port: bound and let go (chromedriver's own port 0 is not reported back).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("free port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let d = Chromedriver {
            child,
            port,
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "chromedriver did not listen on {port}: {}",
                d.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(d)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_text(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text.len().saturating_sub(4000);
        text.get(start..).unwrap_or("").to_string()
    }

    /// A new headless Chromium session with its own profile; `javascript: false` turns
    /// JavaScript off through Chromium's content settings.
    async fn browser(&self, javascript: bool) -> (Client, tempfile::TempDir) {
        let profile = tempfile::tempdir().expect("profile");
        let mut args = vec![
            "--headless=new".to_string(),
            // Root in CI and containers: Chromium's sandbox needs a user namespace it may
            // not get.
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-dev-shm-usage".into(),
            "--no-first-run".into(),
            "--no-default-browser-check".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-quic".into(),
            "--no-proxy-server".into(),
            "--force-device-scale-factor=1".into(),
            "--window-size=1200,900".into(),
            // The server's certificate, made for this test run, is not checked (loopback).
            "--ignore-certificate-errors".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        let mut prefs = serde_json::Map::new();
        if !javascript {
            prefs.insert(
                "profile.managed_default_content_settings.javascript".into(),
                2.into(),
            );
        }
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "chrome".into());
        caps.insert("acceptInsecureCerts".into(), true.into());
        caps.insert(
            "goog:chromeOptions".into(),
            serde_json::json!({ "binary": CHROMIUM, "args": args, "prefs": prefs }),
        );
        let mut builder =
            ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(caps);
        let client = builder
            .connect(&self.url())
            .await
            .unwrap_or_else(|e| panic!("WebDriver session: {e}\n{}", self.log_text()));
        (client, profile)
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        // chromedriver and everything below it (Chromium's processes), found through /proc
        // before any of them is killed, so none is reparented away first.
        let mut pids = descendants(self.child.id());
        pids.push(self.child.id());
        for pid in &pids {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.wait();
    }
}

/// The processes below `root` (children, their children, ...), from /proc.
fn descendants(root: u32) -> Vec<u32> {
    let mut parent_of: Vec<(u32, u32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
                continue;
            };
            if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                parent_of.push((pid, ppid));
            }
        }
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(
            parent_of
                .iter()
                .filter(|(_, pp)| *pp == p)
                .map(|(pid, _)| *pid),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Run `f` on a runtime of its own (the test server has its own).
fn run<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// The page's path and query.
async fn path(c: &Client) -> String {
    let u = c.current_url().await.expect("url");
    match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    }
}

/// Wait until the page's path (and query) is `want`.
async fn wait_path(c: &Client, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = path(c).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "still at {now}, waited for {want}: {}",
            c.source().await.unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of the first element matching `css`, waiting up to 30 s for it. A page that is
/// being replaced can turn the element stale between finding and reading it; that is one
/// more turn, not a failure.
async fn text(c: &Client, css: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let last = match c.find(Locator::Css(css)).await {
            Ok(e) => match e.text().await {
                Ok(t) => return t,
                Err(e) => e.to_string(),
            },
            Err(e) => e.to_string(),
        };
        assert!(Instant::now() < deadline, "{css}: {last}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Wait until the element's text is `want` (after a form posts back to the same page).
async fn wait_text(c: &Client, css: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let now = text(c, css).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{css}: still {now:?}, waited for {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn click(c: &Client, css: &str) {
    c.wait()
        .at_most(Duration::from_secs(30))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("click {css}: {e}"));
}

/// Clear the field and type `value` into it, as a person would.
async fn type_into(c: &Client, css: &str, value: &str) {
    let e = c.find(Locator::Css(css)).await.expect(css);
    e.clear().await.expect("clear");
    e.send_keys(value).await.expect("type");
}

/// Save a screenshot of the window as `name`.png and check it is a PNG of some substance.
async fn screenshot(c: &Client, name: &str) -> Vec<u8> {
    let png = c.screenshot().await.expect("screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{name}: a PNG");
    assert!(png.len() > 5_000, "{name}: only {} bytes", png.len());
    std::fs::write(screenshots().join(format!("{name}.png")), &png).expect("write png");
    png
}

/// Log in through the login form.
async fn login(c: &Client, base: &str, dn: &str, password: &str) {
    c.goto(&format!("{base}/login")).await.expect("login page");
    type_into(c, "#name", dn).await;
    type_into(c, "#password", password).await;
    click(c, "form.login button[type=submit]").await;
    wait_path(c, "/").await;
}

/// The stored value of the verification attributes, read with OpenLDAP's ldapsearch as `dn`.
fn ldapsearch(s: &TestServer, dn: &str, pw: &str, base: &str, attrs: &[&str]) -> String {
    let url = s.ldap_url();
    let mut args = vec![
        "-x",
        "-LLL",
        "-o",
        "ldif-wrap=no",
        "-H",
        &url,
        "-D",
        dn,
        "-w",
        pw,
        "-b",
        base,
        "-s",
        "base",
        "(objectClass=*)",
    ];
    args.extend_from_slice(attrs);
    let o = s.tool("ldapsearch", &args, None);
    assert_eq!(code(&o), 0, "ldapsearch: {}", stderr(&o));
    stdout(&o)
}

#[test]
fn portal_in_a_browser_from_login_to_verification() {
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let s = portal_server();
    let addr = s.server().portal_addr.expect("portal listener");
    let base = format!("https://localhost:{}", addr.port());
    let ana = person("ana", "br");
    let v = vera();
    let team_uuid = ldapsearch(&s, &v, VERIFIER_PW, &team(), &["entryUUID"])
        .lines()
        .find_map(|l| l.strip_prefix("entryUUID: ").map(str::to_string))
        .expect("the team's entryUUID");
    run(async {
        let (c, _profile) = driver.browser(true).await;

        // Not logged in: the portal sends the browser to its login page.
        c.goto(&format!("{base}/cctld/br")).await.expect("goto");
        wait_path(&c, "/login?next=%2Fcctld%2Fbr").await;
        c.goto(&format!("{base}/login")).await.expect("goto");
        assert_eq!(text(&c, "h1").await, "Log in");
        screenshot(&c, "login").await;
        // A wrong password: the form again, with the error.
        type_into(&c, "#name", &ana).await;
        type_into(&c, "#password", "not-the-password").await;
        click(&c, "form.login button[type=submit]").await;
        assert!(text(&c, "#login-error")
            .await
            .contains("Wrong name or password"));
        login(&c, &base, &ana, PW).await;
        assert!(text(&c, ".who").await.contains("ana"));

        // The search: htmx fetches the results as the person types, and puts the query in
        // the address bar.
        c.find(Locator::Css("#q"))
            .await
            .expect("search field")
            .send_keys("br")
            .await
            .expect("type");
        text(&c, "#results a[href='/cctld/br']").await;
        wait_path(&c, "/?q=br").await;
        screenshot(&c, "search").await;

        // The registry's page.
        click(&c, "#results a[href='/cctld/br']").await;
        wait_path(&c, "/cctld/br").await;
        assert!(text(&c, "section.contact.point h2")
            .await
            .contains("Incident response .br"));
        assert_eq!(text(&c, "section.contact.point dd.status").await, "pending");
        screenshot(&c, "cctld").await;

        // The same page on a phone-sized screen: nothing wider than the screen.
        c.set_window_size(390, 844).await.expect("resize");
        let w = c
            .execute(
                "return [window.innerWidth, document.documentElement.scrollWidth];",
                vec![],
            )
            .await
            .expect("widths");
        let (inner, scroll) = (w[0].as_u64().unwrap_or(0), w[1].as_u64().unwrap_or(0));
        assert!(inner > 300 && inner <= 390, "viewport {inner}");
        assert!(
            scroll <= inner,
            "page {scroll}px wide on a {inner}px screen"
        );
        screenshot(&c, "cctld-phone").await;
        c.set_window_size(1200, 900).await.expect("resize");

        // Edit the contact point: a bad number is refused, with the reason next to the field.
        click(&c, "section.contact.point a[href$='/edit']").await;
        text(&c, "label[for='f-telephoneNumber']").await;
        let edit_path = path(&c).await;
        assert!(edit_path.starts_with("/cctld/br/contact/"), "{edit_path}");
        type_into(&c, "#f-telephoneNumber", "call me maybe").await;
        click(&c, "form.edit button[type=submit]").await;
        let err = text(&c, "#e-telephoneNumber").await;
        assert!(err.starts_with("telephoneNumber: "), "{err}");
        let field = c
            .find(Locator::Css("#f-telephoneNumber"))
            .await
            .expect("field");
        assert_eq!(
            field.attr("aria-invalid").await.expect("attr").as_deref(),
            Some("true")
        );
        assert_eq!(
            field
                .attr("aria-describedby")
                .await
                .expect("attr")
                .as_deref(),
            Some("e-telephoneNumber")
        );
        // The message is shown beside the field: in the same paragraph, and visible.
        let same_p = c
            .execute(
                "return document.getElementById('e-telephoneNumber').parentElement === \
                 document.getElementById('f-telephoneNumber').parentElement;",
                vec![],
            )
            .await
            .expect("script");
        assert_eq!(same_p, serde_json::Value::Bool(true));
        assert!(c
            .find(Locator::Css("#e-telephoneNumber"))
            .await
            .expect("error")
            .is_displayed()
            .await
            .expect("displayed"));
        assert_eq!(
            field.prop("value").await.expect("value").as_deref(),
            Some("call me maybe"),
            "what was typed is kept"
        );
        screenshot(&c, "edit-error").await;
        let stored = ldapsearch(&s, &ana, PW, &team(), &["telephoneNumber"]);
        assert!(
            stored.contains("telephoneNumber: +55 11 2345-6743"),
            "{stored}"
        );

        // Fixed and saved: back on the registry's page, with the new number.
        type_into(&c, "#f-telephoneNumber", "+55 11 2345-0000").await;
        click(&c, "form.edit button[type=submit]").await;
        wait_path(&c, "/cctld/br").await;
        let point = text(&c, "section.contact.point").await;
        assert!(point.contains("+55 11 2345-0000"), "{point}");

        // The registry confirms its data.
        click(&c, "form.confirm button[type=submit]").await;
        wait_text(&c, "section.contact.point dd.status", "confirmed").await;

        // Log out: the pages are closed again.
        click(&c, "form.logout button[type=submit]").await;
        wait_path(&c, "/login").await;
        c.goto(&format!("{base}/cctld/br")).await.expect("goto");
        wait_path(&c, "/login?next=%2Fcctld%2Fbr").await;

        // What ana did is in the directory, as ana, in her name.
        let stored = ldapsearch(
            &s,
            &ana,
            PW,
            &team(),
            &[
                "telephoneNumber",
                "cctldVerificationStatus",
                "modifiersName",
            ],
        );
        assert!(
            stored.contains("telephoneNumber: +55 11 2345-0000"),
            "{stored}"
        );
        assert!(
            stored.contains("cctldVerificationStatus: confirmed"),
            "{stored}"
        );
        assert!(
            stored
                .to_lowercase()
                .contains(&format!("modifiersname: {}", ana.to_lowercase())),
            "{stored}"
        );

        // A verifier: the header links to the queue, where the contact the registry just
        // confirmed waits for a check; the verifier calls and records it there.
        login(&c, &base, &v, VERIFIER_PW).await;
        click(&c, "header.site a[href='/verify']").await;
        wait_path(&c, "/verify").await;
        let form = format!("form[action='/verify/contact/{team_uuid}']");
        let section = text(
            &c,
            &format!("section.contact[aria-labelledby='q-{team_uuid}']"),
        )
        .await;
        assert!(
            section.contains("+55 11 2345-6729"),
            "the numbers to call: {section}"
        );
        screenshot(&c, "verify").await;
        click(&c, &format!("#method-{team_uuid} option[value='voice']")).await;
        click(
            &c,
            &format!("{form} input[name='result'][value='verified']"),
        )
        .await;
        type_into(
            &c,
            &format!("#note-{team_uuid}"),
            "called the emergency number",
        )
        .await;
        click(&c, &format!("{form} button[type=submit]")).await;
        wait_path(&c, "/verify?recorded=verified").await;
        let status = text(&c, "p[role=status]").await;
        assert!(status.contains("The verification was recorded"), "{status}");
        click(&c, "form.logout button[type=submit]").await;
        wait_path(&c, "/login").await;
        c.close().await.expect("close session");
    });

    // The verifier's check is stored, in the verifier's name, read back over LDAP.
    let stored = ldapsearch(
        &s,
        &v,
        VERIFIER_PW,
        &team(),
        &[
            "telephoneNumber",
            "cctldVerificationStatus",
            "cctldVerificationMethod",
            "cctldVerifiedBy",
            "cctldLastVerified",
            "cctldVerificationNote",
        ],
    );
    assert!(
        stored.contains("cctldVerificationNote: called the emergency number"),
        "{stored}"
    );
    assert!(
        stored.contains("telephoneNumber: +55 11 2345-0000"),
        "{stored}"
    );
    assert!(
        stored.contains("cctldVerificationStatus: verified"),
        "{stored}"
    );
    assert!(
        stored.contains("cctldVerificationMethod: voice"),
        "{stored}"
    );
    assert!(
        stored
            .to_lowercase()
            .contains(&format!("cctldverifiedby: {}", v.to_lowercase())),
        "{stored}"
    );
    assert!(stored.contains("cctldLastVerified: "), "{stored}");
    // Both the registry's confirmation and the verification are in the history.
    let url = s.ldap_url();
    let o = s.tool(
        "ldapsearch",
        &[
            "-x",
            "-LLL",
            "-o",
            "ldif-wrap=no",
            "-H",
            &url,
            "-D",
            &v,
            "-w",
            VERIFIER_PW,
            "-b",
            &format!("ou=history,{}", reg("br")),
            "(objectClass=cctldVerificationRecord)",
            "cctldVerificationStatus",
            "cctldVerifiedBy",
        ],
        None,
    );
    assert_eq!(code(&o), 0, "ldapsearch: {}", stderr(&o));
    let history = stdout(&o);
    assert!(
        history.contains("cctldVerificationStatus: confirmed")
            && history.contains("cctldVerificationStatus: verified"),
        "{history}"
    );
    drop(driver);
}

#[test]
fn portal_search_works_without_javascript() {
    let Some(driver) = Chromedriver::start() else {
        return;
    };
    let s = portal_server();
    let addr = s.server().portal_addr.expect("portal listener");
    let base = format!("https://localhost:{}", addr.port());
    run(async {
        let (c, _profile) = driver.browser(false).await;
        login(&c, &base, &person("bob", "br"), PW).await;
        // Typing does nothing by itself (no htmx without JavaScript) ...
        type_into(&c, "#q", "incident").await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(path(&c).await, "/", "nothing ran as the person typed");
        assert!(c
            .find_all(Locator::Css("#results a"))
            .await
            .expect("find")
            .is_empty());
        // ... and the form's submit button gets the results as a page of its own.
        click(&c, "form.search button[type=submit]").await;
        wait_path(&c, "/?q=incident").await;
        let results = text(&c, "#results").await;
        assert!(results.contains("Incident response .br"), "{results}");
        click(&c, "#results a[href='/cctld/br']").await;
        wait_path(&c, "/cctld/br").await;
        assert!(text(&c, "section.contact.point h2")
            .await
            .contains("Incident response .br"));
        // Logging out is a form too.
        click(&c, "form.logout button[type=submit]").await;
        wait_path(&c, "/login").await;
        c.close().await.expect("close session");
    });
    drop(driver);
}
