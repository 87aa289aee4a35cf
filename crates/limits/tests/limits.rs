//! The limits count the same in memory and in Redis (127.0.0.1:6379, as on CI); two
//! limiters on one Redis count together, as two servers behind one proxy do, while two
//! in memory count apart.

use pingxuan_limits::{Limiter, Rate, Wait};

const RATE: Rate = Rate {
    limit: 3,
    window_secs: 60,
};

/// Redis for the tests: required under CI, skipped elsewhere when it is not running.
async fn redis() -> Option<Limiter> {
    let url = std::env::var("PINGXUAN_TEST_REDIS_URL")
        .unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    match Limiter::redis(&url).await {
        Ok(l) => Some(l),
        Err(e) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("Redis is required under CI: {e}")
        }
        Err(e) => {
            eprintln!("skipped: {e}");
            None
        }
    }
}

/// A scope no other run shares (Redis keeps counts between runs for a minute).
fn scope() -> String {
    format!("test-{}", rand_suffix())
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

async fn counts_within_a_window(l: &Limiter) {
    let s = scope();
    let t = 1_699_999_990; // 10 s into a minute
    for _ in 0..3 {
        assert_eq!(l.hit(&s, "203.0.113.9", RATE, t).await, Ok(()));
    }
    assert_eq!(l.hit(&s, "203.0.113.9", RATE, t + 5).await, Err(Wait(45)));
    // Another key has its own count; the next window starts again.
    assert_eq!(l.hit(&s, "203.0.113.10", RATE, t).await, Ok(()));
    assert_eq!(l.hit(&s, "203.0.113.9", RATE, t + 50).await, Ok(()));
}

#[tokio::test]
async fn memory_counts_within_a_window() {
    counts_within_a_window(&Limiter::memory()).await;
}

#[tokio::test]
async fn redis_counts_within_a_window() {
    if let Some(l) = redis().await {
        assert!(l.is_shared());
        counts_within_a_window(&l).await;
    }
}

#[tokio::test]
async fn servers_on_one_redis_count_together() {
    let (Some(a), Some(b), Some(other)) = (redis().await, redis().await, redis().await) else {
        return;
    };
    let (a, b) = (a.with_prefix("one"), b.with_prefix("one"));
    let other = other.with_prefix("another");
    let s = scope();
    let t = 1_700_000_000;
    assert_eq!(a.hit(&s, "phone", RATE, t).await, Ok(()));
    assert_eq!(b.hit(&s, "phone", RATE, t).await, Ok(()));
    assert_eq!(a.hit(&s, "phone", RATE, t).await, Ok(()));
    assert!(b.hit(&s, "phone", RATE, t).await.is_err());
    // Another installation on the same Redis counts apart.
    assert_eq!(other.hit(&s, "phone", RATE, t).await, Ok(()));
    // In memory, each server counts its own.
    let (a, b) = (Limiter::memory(), Limiter::memory());
    for _ in 0..3 {
        assert_eq!(a.hit(&s, "phone", RATE, t).await, Ok(()));
        assert_eq!(b.hit(&s, "phone", RATE, t).await, Ok(()));
    }
}

#[tokio::test]
async fn many_at_once_never_pass_the_limit() {
    let Some(l) = redis().await else { return };
    let s = scope();
    let t = 1_700_000_000;
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let (l, s) = (l.clone(), s.clone());
            tokio::spawn(async move { l.hit(&s, "ip", RATE, t).await.is_ok() })
        })
        .collect();
    let mut passed = 0;
    for t in tasks {
        passed += usize::from(t.await.unwrap());
    }
    assert_eq!(passed, 3);
}

#[tokio::test]
async fn an_unreachable_redis_stops_the_start() {
    let e = Limiter::redis("redis://127.0.0.1:1").await.unwrap_err();
    assert!(e.contains("Redis"), "{e}");
}
