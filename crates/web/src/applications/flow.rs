//! The application's flow for the web layer: the use cases live in
//! `pingxuan_app::applications` (re-exported here for the handlers); what stays is
//! reading the 推荐表 out of posted fields, which is HTML's business.

use pingxuan_rules::campaign::{Campaign, FieldKey, FormField};
use pingxuan_rules::form::{FieldValue, FormValues};

pub use pingxuan_app::applications::*;

/// The HTML name of a field: `f.deeds`, `f.stories`, `f.resume.when` …
pub fn field_name(key: FieldKey) -> String {
    format!("f.{}", field_key_name(key))
}

/// Reads a posted form: the campaign's fields and, when the campaign asks any, the
/// answers to its eligibility questions (`e.<key>` = 是/否).
pub fn read_form(campaign: &Campaign, pairs: &[(String, String)]) -> FormValues {
    let mut values = form_from_pairs(&campaign.form.fields, pairs);
    let questions = pingxuan_rules::eligibility::questions(campaign);
    if !questions.is_empty() {
        let rows = questions
            .iter()
            .map(|q| {
                let name = format!("e.{}", q.key);
                let answer = pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| v.trim().to_owned())
                    .unwrap_or_default();
                (q.key.clone(), answer)
            })
            .filter(|(_, a)| !a.is_empty())
            .collect();
        values.insert(FieldKey::Eligibility, FieldValue::Rows(rows));
    }
    values
}

/// Reads the campaign's fields from posted name/value pairs.
pub fn form_from_pairs(fields: &[FormField], pairs: &[(String, String)]) -> FormValues {
    let all = |name: &str| -> Vec<String> {
        pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    let mut values = FormValues::new();
    for f in fields {
        let name = field_name(f.key);
        let value = match f.key {
            FieldKey::Resume => {
                let when = all(&format!("{name}.when"));
                let what = all(&format!("{name}.what"));
                let rows: Vec<(String, String)> = when
                    .into_iter()
                    .zip(what)
                    .filter(|(a, b)| !(a.is_empty() && b.is_empty()))
                    .collect();
                FieldValue::Rows(rows)
            }
            FieldKey::Stories => FieldValue::List(all(&name)),
            _ if f.key.is_choice() && f.multiple => {
                FieldValue::List(all(&name).into_iter().filter(|v| !v.is_empty()).collect())
            }
            _ => FieldValue::Text(all(&name).into_iter().next().unwrap_or_default()),
        };
        values.insert(f.key, value);
    }
    values
}
