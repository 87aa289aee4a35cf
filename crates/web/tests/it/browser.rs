//! End to end in Debian's headless Chromium: register → log in → 我的申报表, with
//! screenshots (desktop and phone) under `test-output/browser/`.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use pingxuan_store::testing::{TestDb, Which};
use pingxuan_web::CaptchaPolicy;

use crate::common::{PASSWORD, start};

struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn start_driver() -> Option<Driver> {
    let path = ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists());
    let Some(path) = path else {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!(
                "CI=true but chromedriver is not installed (apt-get install chromium chromium-driver)"
            );
        }
        eprintln!("skipping browser test: chromedriver not installed");
        return None;
    };
    let port = free_port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver { child, port };
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Some(driver);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not start");
}

async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    let profile = std::env::temp_dir().join(format!("pingxuan-chrome-{:x}", rand::random::<u64>()));
    let caps = serde_json::json!({
        "goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--disable-sync", format!("--window-size={width},{height}"),
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    ClientBuilder::native()
        .capabilities(caps.as_object().unwrap().clone())
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .expect("connect to chromedriver")
}

fn output_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../test-output/browser");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn fill(b: &Client, css: &str, text: &str) {
    b.find(Locator::Css(css))
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

async fn screenshot(b: &Client, name: &str) {
    let png = b.screenshot().await.unwrap();
    std::fs::write(output_dir().join(name), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_login_and_see_my_applications() {
    let Some(driver) = start_driver().await else {
        return;
    };
    let db = TestDb::new(Which::Sqlite).await.unwrap();
    let app = start(db, CaptchaPolicy::Off).await;
    app.seed("xinjiang-2023.toml").await;
    let b = browser(&driver, 1280, 860).await;

    b.goto(&format!("{}/register", app.url)).await.unwrap();
    fill(&b, "#name", "测试人员").await;
    fill(&b, "#login", "ceshi@example.com").await;
    fill(&b, "#password", PASSWORD).await;
    fill(&b, "#password2", PASSWORD).await;
    b.find(Locator::Css("input[name=consent]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    b.wait().for_element(Locator::Css(".notice")).await.unwrap();
    assert!(b.source().await.unwrap().contains("注册成功，请登录"));
    screenshot(&b, "1-login-after-register.png").await;
    fill(&b, "#login", "ceshi@example.com").await;
    fill(&b, "#password", PASSWORD).await;
    b.find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    b.wait()
        .for_element(Locator::LinkText("我的申报表"))
        .await
        .unwrap();
    assert!(b.current_url().await.unwrap().path().ends_with("/home"));
    screenshot(&b, "2-home.png").await;
    b.find(Locator::LinkText("我的申报表"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    b.wait().for_element(Locator::Css("h1")).await.unwrap();
    let h1 = b
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(h1, "我的申报表");
    let body = b.source().await.unwrap();
    assert!(body.contains("2023年“新疆最美科技工作者”学习宣传活动"));
    screenshot(&b, "3-my-applications.png").await;
    b.close().await.unwrap();

    // The same page on a phone-sized window.
    let phone = browser(&driver, 390, 844).await;
    phone.goto(&format!("{}/login", app.url)).await.unwrap();
    fill(&phone, "#login", "ceshi@example.com").await;
    fill(&phone, "#password", PASSWORD).await;
    phone
        .find(Locator::Css("button.primary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    phone
        .wait()
        .for_element(Locator::LinkText("我的申报表"))
        .await
        .unwrap();
    phone
        .find(Locator::LinkText("我的申报表"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    phone
        .wait()
        .for_element(Locator::Css("table.list"))
        .await
        .unwrap();
    screenshot(&phone, "4-my-applications-phone.png").await;
    phone.close().await.unwrap();
}
