//! GetRandomPassword: characters drawn uniformly from the OS CSPRNG (coffer_crypto), with
//! AWS's options and defaults (32 characters, every type included and required).

use super::access;
use super::error::{SmError, invalid_param};
use crate::api::{AuditInfo, Call};
use serde::Deserialize;
use serde_json::{Value, json};
use zeroize::Zeroizing;

const DEFAULT_LENGTH: i64 = 32;
const LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PasswordInput {
    pub password_length: Option<i64>,
    pub exclude_characters: Option<String>,
    pub exclude_numbers: Option<bool>,
    pub exclude_punctuation: Option<bool>,
    pub exclude_uppercase: Option<bool>,
    pub exclude_lowercase: Option<bool>,
    pub include_space: Option<bool>,
    pub require_each_included_type: Option<bool>,
}

pub fn get_random_password(
    call: &Call<'_>,
    i: PasswordInput,
    _audit: &mut AuditInfo,
) -> Result<Value, SmError> {
    coffer_storage::read(call.state.store.as_ref(), |t| {
        access::authorize_resource(call, t, "secretsmanager:GetRandomPassword", "*", Vec::new())
    })?;
    let p = generate(&i)?;
    Ok(json!({"RandomPassword": p.as_str()}))
}

/// The character classes left after the exclusions.
fn classes(i: &PasswordInput) -> Vec<Vec<char>> {
    let excluded = i.exclude_characters.as_deref().unwrap_or("");
    let sets = [
        (LOWER, i.exclude_lowercase),
        (UPPER, i.exclude_uppercase),
        (DIGITS, i.exclude_numbers),
        (PUNCTUATION, i.exclude_punctuation),
        (" ", i.include_space.map(|inc| !inc).or(Some(true))),
    ];
    sets.iter()
        .filter(|(_, ex)| !ex.unwrap_or(false))
        .map(|(set, _)| {
            set.chars()
                .filter(|c| !excluded.contains(*c))
                .collect::<Vec<_>>()
        })
        .filter(|set: &Vec<char>| !set.is_empty())
        .collect()
}

pub fn generate(i: &PasswordInput) -> Result<Zeroizing<String>, SmError> {
    let len = usize::try_from(i.password_length.unwrap_or(DEFAULT_LENGTH))
        .map_err(|_| invalid_param("PasswordLength must be positive."))?;
    let classes = classes(i);
    let all: Vec<char> = classes.iter().flatten().copied().collect();
    if all.is_empty() {
        return Err(invalid_param(
            "The password can't be generated: every character type is excluded.",
        ));
    }
    let require = i.require_each_included_type.unwrap_or(true);
    if require && len < classes.len() {
        return Err(invalid_param(format!(
            "The password length {len} is too short to include a character of each of the {} included types.",
            classes.len()
        )));
    }
    // Draw until every included type is present (when required): uniform over the valid
    // passwords, and with 4+ types at length 32 nearly always the first draw.
    loop {
        let mut out = Zeroizing::new(String::with_capacity(len));
        for _ in 0..len {
            out.push(all[uniform(all.len())]);
        }
        if !require || classes.iter().all(|c| out.chars().any(|x| c.contains(&x))) {
            return Ok(out);
        }
    }
}

/// A uniform index below `n` (rejection sampling over random u32s).
fn uniform(n: usize) -> usize {
    let n32 = u32::try_from(n).unwrap_or(u32::MAX);
    let zone = u32::MAX - (u32::MAX % n32);
    loop {
        let mut b = [0u8; 4];
        coffer_crypto::fill_random(&mut b);
        let x = u32::from_le_bytes(b);
        if x < zone {
            return (x % n32) as usize;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_32_characters_of_every_type_without_space() {
        let p = generate(&PasswordInput::default()).unwrap();
        assert_eq!(p.chars().count(), 32);
        assert!(p.chars().any(|c| c.is_ascii_lowercase()));
        assert!(p.chars().any(|c| c.is_ascii_uppercase()));
        assert!(p.chars().any(|c| c.is_ascii_digit()));
        assert!(p.chars().any(|c| PUNCTUATION.contains(c)));
        assert!(!p.contains(' '));
    }

    #[test]
    fn options_are_honoured() {
        let i = PasswordInput {
            password_length: Some(64),
            exclude_characters: Some("abc".into()),
            exclude_punctuation: Some(true),
            exclude_uppercase: Some(true),
            include_space: Some(true),
            ..Default::default()
        };
        for _ in 0..20 {
            let p = generate(&i).unwrap();
            assert_eq!(p.len(), 64);
            assert!(
                p.chars()
                    .all(|c| c == ' ' || c.is_ascii_digit() || ('d'..='z').contains(&c))
            );
            assert!(p.contains(' '));
        }
        let none = PasswordInput {
            exclude_numbers: Some(true),
            exclude_punctuation: Some(true),
            exclude_uppercase: Some(true),
            exclude_lowercase: Some(true),
            ..Default::default()
        };
        assert!(generate(&none).is_err());
        let short = PasswordInput {
            password_length: Some(3),
            ..Default::default()
        };
        assert!(generate(&short).is_err());
        let short_ok = PasswordInput {
            password_length: Some(3),
            require_each_included_type: Some(false),
            ..Default::default()
        };
        assert_eq!(generate(&short_ok).unwrap().len(), 3);
    }
}
