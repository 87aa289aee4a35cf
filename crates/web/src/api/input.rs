//! Extractors for the JSON API that refuse bad input the way every other refusal is
//! answered: `{"error":{"code","message","field"}}` in Chinese with a 4xx, never the
//! framework's English plain text. The body and query are read with
//! `serde_path_to_error`, so a refusal names the field it is about.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Failure};

/// A JSON body (`Content-Type: application/json`).
pub struct ApiJson<T>(pub T);

/// Path parameters; a value that cannot name a record (an id that is not a number)
/// is “not found”, as an id that names nothing is.
pub struct ApiPath<T>(pub T);

/// Query parameters.
pub struct ApiQuery<T>(pub T);

fn is_json(parts: &axum::http::HeaderMap) -> bool {
    parts
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
        .is_some_and(|m| {
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
}

fn body_failure(r: BytesRejection) -> Failure {
    if r.status() == StatusCode::PAYLOAD_TOO_LARGE {
        Failure::Request {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            code: "too_large",
            message: "提交的内容过大".to_owned(),
            field: None,
        }
    } else {
        Failure::Request {
            status: StatusCode::BAD_REQUEST,
            code: "bad_body",
            message: "请求内容未能完整读取，请重试".to_owned(),
            field: None,
        }
    }
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Failure> {
    let syntax = |e: &serde_json::Error| Failure::Request {
        status: StatusCode::BAD_REQUEST,
        code: "bad_json",
        message: format!(
            "提交的内容不是有效的 JSON（第 {} 行第 {} 列附近）",
            e.line(),
            e.column()
        ),
        field: None,
    };
    // Every body this API takes is an object; serde would read an array as the
    // struct's fields in order and complain about the wrong one.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        return Err(Failure::Invalid {
            code: "invalid_input",
            message: "提交的内容 应为对象（JSON 对象，不是数组）".to_owned(),
            field: None,
        });
    }
    let refuse = |e: serde_path_to_error::Error<serde_json::Error>| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return syntax(&inner);
        }
        let (field, message) = in_words(&path, &strip_position(&inner.to_string()));
        Failure::Invalid {
            code: "invalid_input",
            message,
            field,
        }
    };
    let mut de = serde_json::Deserializer::from_slice(bytes);
    match serde_path_to_error::deserialize(&mut de) {
        Ok(value) => {
            // Anything after the value is as broken as a value cut short.
            de.end().map_err(|e| syntax(&e))?;
            Ok(value)
        }
        // Read once more from the parsed value (only then, so duplicate keys and the
        // order in which problems are named stay as the body has them) when the body is
        // JSON but of another shape: a whole number written as `3.0` where an integer is
        // expected reads as that integer; a list where a field value (`{"text": …}`) is
        // expected is bad input in that field (422), not broken JSON (400), which is what
        // the streaming reader calls it.
        Err(e)
            if e.inner()
                .to_string()
                .starts_with("invalid type: floating point")
                || (e.inner().is_syntax()
                    && serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_ok()) =>
        {
            let raw: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| syntax(&e))?;
            serde_path_to_error::deserialize(whole_numbers(raw)).map_err(refuse)
        }
        Err(e) => Err(refuse(e)),
    }
}

/// JSON has one kind of number: `3.0` is the whole number 3 (JSON Schema agrees), so it
/// reads as an integer where one is expected; `2.5` still does not.
fn whole_numbers(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) if !n.is_i64() && !n.is_u64() => match n.as_f64() {
            // Every whole f64 in i64's range converts exactly.
            Some(f)
                if f.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) =>
            {
                Value::from(f as i64)
            }
            _ => Value::Number(n),
        },
        Value::Array(items) => Value::Array(items.into_iter().map(whole_numbers).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, whole_numbers(v)))
                .collect(),
        ),
        other => other,
    }
}

/// serde_json appends “ at line 1 column 9”; the field says where.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

/// A deserializer's complaint about `path` in words for people, with the field it is
/// about (`None` for the whole body).
fn in_words(path: &str, message: &str) -> (Option<String>, String) {
    let at = (path != "." && !path.is_empty()).then(|| path.to_owned());
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_owned).unwrap_or_default();
    let join = |parent: Option<&String>, name: &str| match parent {
        Some(p) => format!("{p}.{name}"),
        None => name.to_owned(),
    };
    if let Some(rest) = message.strip_prefix("missing field ") {
        let name = quoted(rest);
        let field = join(at.as_ref(), &name);
        return (Some(field.clone()), format!("缺少必填项 {field}"));
    }
    if let Some(rest) = message.strip_prefix("unknown field ") {
        let name = quoted(rest);
        // The path already ends at the unknown key.
        let field = match &at {
            Some(p) if p == &name || p.ends_with(&format!(".{name}")) => p.clone(),
            _ => join(at.as_ref(), &name),
        };
        return (Some(field.clone()), format!("不认识的字段 {field}"));
    }
    let field_words = at.clone().unwrap_or_else(|| "提交的内容".to_owned());
    if let Some(rest) = message.strip_prefix("unknown variant ") {
        let got = quoted(rest);
        let allowed: Vec<&str> = rest
            .split_once("expected")
            .map(|(_, e)| e)
            .unwrap_or("")
            .split('`')
            .skip(1)
            .step_by(2)
            .collect();
        return (
            at,
            format!(
                "{field_words} 的值“{got}”不在可选范围内（可选：{}）",
                allowed.join("、")
            ),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid type: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        return (
            at,
            format!(
                "{field_words} 应为{}，收到的是{}",
                kind_in_words(expected),
                kind_in_words(got)
            ),
        );
    }
    if let Some(rest) = message.strip_prefix("invalid value: ") {
        let (got, expected) = rest.split_once(", expected ").unwrap_or((rest, ""));
        let literal = quoted(got);
        let got = if literal.is_empty() {
            kind_in_words(got)
        } else {
            literal
        };
        return (
            at,
            format!(
                "{field_words} 应为{}，收到的是 {got}",
                kind_in_words(expected)
            ),
        );
    }
    if message.starts_with("invalid digit") || message.starts_with("cannot parse integer") {
        return (at, format!("{field_words} 应为整数"));
    }
    if message.starts_with("number too large") || message.starts_with("number too small") {
        return (at, format!("{field_words} 超出允许的范围"));
    }
    if let Some(rest) = message.strip_prefix("invalid length ") {
        let expected = rest.split_once(", expected ").map_or("", |(_, e)| e);
        // An array where an object belongs.
        if expected.starts_with("struct ") {
            return (at, format!("{field_words} 应为对象"));
        }
        return (at, format!("{field_words} 的个数不对（应为 {expected}）"));
    }
    (at, format!("{field_words} 的格式不对（{message}）"))
}

fn kind_in_words(kind: &str) -> String {
    let k = kind
        .trim()
        .trim_start_matches("an ")
        .trim_start_matches("a ");
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| k.starts_with(p));
    let words = if starts(&["string"]) {
        "文本"
    } else if starts(&["u8", "u16", "u32", "u64", "usize"]) {
        "不小于 0 的整数"
    } else if starts(&["integer", "i8", "i16", "i32", "i64", "isize"]) {
        "整数"
    } else if starts(&["floating point", "f32", "f64"]) {
        "数字"
    } else if starts(&["boolean"]) {
        "true 或 false"
    } else if starts(&["null", "unit value"]) {
        "空值（null）"
    } else if starts(&["sequence"]) {
        "数组"
    } else if starts(&["map", "struct"]) {
        "对象"
    } else {
        return k.to_owned();
    };
    words.to_owned()
}

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError(Failure::Request {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message: "请以 JSON 格式提交（Content-Type: application/json）".to_owned(),
                field: None,
            }));
        }
        let bytes = Bytes::from_request(req, state)
            .await
            .map_err(|r| ApiError(body_failure(r)))?;
        parse_json(&bytes).map(ApiJson).map_err(ApiError)
    }
}

/// No body at all (no Content-Type, nothing sent) is `None`; a body is read as above.
impl<T, S> OptionalFromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, Self::Rejection> {
        if req.headers().get(header::CONTENT_TYPE).is_none() {
            let bytes = Bytes::from_request(req, state)
                .await
                .map_err(|r| ApiError(body_failure(r)))?;
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(None);
            }
            return Err(ApiError(Failure::Request {
                status: StatusCode::UNSUPPORTED_MEDIA_TYPE,
                code: "unsupported_media_type",
                message: "请以 JSON 格式提交（Content-Type: application/json）".to_owned(),
                field: None,
            }));
        }
        <ApiJson<T> as FromRequest<S>>::from_request(req, state)
            .await
            .map(Some)
    }
}

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| ApiPath(p.0))
            .map_err(|_| ApiError(Failure::NotFound))
    }
}

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let (field, message) = in_words(&path, &e.into_inner().to_string());
                ApiError(Failure::Request {
                    status: StatusCode::BAD_REQUEST,
                    code: "bad_query",
                    message: format!("查询参数有误：{message}"),
                    field,
                })
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    #[serde(deny_unknown_fields)]
    struct In {
        name: String,
        count: Option<u32>,
        kind: Option<Kind>,
        items: Option<Vec<Item>>,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Pending,
        Done,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Item {
        title: String,
    }

    #[test]
    fn json_of_another_shape_is_bad_input_not_broken_json() {
        // A unit variant's name given a list: the streaming reader calls that a syntax
        // error; the body is JSON, so the field is named instead.
        let (status, code, _, field) = refusal(r#"{"name": "x", "kind": []}"#);
        assert_eq!(
            (status, code),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
        );
        assert_eq!(field.as_deref(), Some("kind"));
        // A whole number written with a point is that number.
        assert!(parse_json::<In>(br#"{"name": "x", "count": 3.0}"#).is_ok());
        let (_, _, message, field) = refusal(r#"{"name": "x", "count": 2.5}"#);
        assert_eq!(field.as_deref(), Some("count"), "{message}");
        // Broken JSON is still broken JSON.
        assert_eq!(refusal(r#"{"name": "x", "kind": [}"#).1, "bad_json");
    }

    fn refusal(body: &str) -> (StatusCode, &'static str, String, Option<String>) {
        let Err(f) = parse_json::<In>(body.as_bytes()) else {
            panic!("{body} should be refused");
        };
        match f {
            Failure::Request {
                status,
                code,
                message,
                field,
            } => (status, code, message, field),
            Failure::Invalid {
                code,
                message,
                field,
            } => (StatusCode::UNPROCESSABLE_ENTITY, code, message, field),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn broken_json_is_a_bad_request_with_its_place() {
        let (status, code, message, field) = refusal("{\"name\": ");
        assert_eq!(
            (status, code, field),
            (StatusCode::BAD_REQUEST, "bad_json", None)
        );
        assert!(message.contains("不是有效的 JSON（第 1 行"), "{message}");
        let (status, code, _, _) = refusal("{\"name\":\"a\"} trailing");
        assert_eq!((status, code), (StatusCode::BAD_REQUEST, "bad_json"));
    }

    #[test]
    fn each_kind_of_bad_field_is_named_in_chinese() {
        let cases = [
            ("{}", Some("name"), "缺少必填项 name"),
            (
                "{\"name\":\"a\",\"extra\":1}",
                Some("extra"),
                "不认识的字段 extra",
            ),
            ("{\"name\":5}", Some("name"), "name 应为文本，收到的是整数"),
            (
                "{\"name\":\"a\",\"count\":\"x\"}",
                Some("count"),
                "count 应为",
            ),
            (
                "{\"name\":\"a\",\"count\":-1}",
                Some("count"),
                "count 应为不小于 0 的整数，收到的是 -1",
            ),
            (
                "{\"name\":\"a\",\"kind\":\"other\"}",
                Some("kind"),
                "kind 的值“other”不在可选范围内（可选：pending、done）",
            ),
            (
                "{\"name\":\"a\",\"items\":[{}]}",
                Some("items[0].title"),
                "缺少必填项 items[0].title",
            ),
            ("[1]", None, "提交的内容 应为对象"),
        ];
        for (body, field, words) in cases {
            let (status, code, message, got_field) = refusal(body);
            assert_eq!(
                (status, code),
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
                "{body}"
            );
            assert_eq!(got_field.as_deref(), field, "{body}: {message}");
            assert!(message.contains(words), "{body}: {message}");
            assert!(!message.contains("line"), "{body}: {message}");
        }
    }

    #[test]
    fn content_types_that_are_json() {
        let mut h = axum::http::HeaderMap::new();
        assert!(!is_json(&h));
        for (value, json) in [
            ("application/json", true),
            ("application/json; charset=utf-8", true),
            ("Application/JSON", true),
            ("application/problem+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
        ] {
            h.insert(header::CONTENT_TYPE, value.parse().unwrap());
            assert_eq!(is_json(&h), json, "{value}");
        }
    }
}
