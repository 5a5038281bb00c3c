//! Wildcard patterns (`*`, `?`) and policy variables (`${aws:username}`).
//!
//! A policy string is first expanded into [`Tok`]s. Keeping wildcards as tokens (instead of
//! characters) is what lets `${*}` mean a literal `*`, and lets a substituted variable value
//! that happens to contain `*` match only itself.

use crate::context::ConditionContext;
use std::borrow::Cow;

/// One element of an expanded pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    Lit(char),
    /// `*`: any sequence of characters, including none.
    Star,
    /// `?`: exactly one character.
    Quest,
}

/// A policy variable could not be resolved (missing or multi-valued key without a default,
/// or malformed `${...}`). AWS then treats the whole statement as not matching.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unresolved;

/// Expands `s` into tokens. With `vars` = `None` (policy version 2008-10-17) `${...}` is
/// literal text.
pub(crate) fn expand(s: &str, vars: Option<&ConditionContext>) -> Result<Vec<Tok>, Unresolved> {
    let mut out = Vec::with_capacity(s.len());
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        if let (Some(ctx), Some(body)) = (vars, rest.strip_prefix("${")) {
            rest = substitute(body, ctx, &mut out)?;
            continue;
        }
        out.push(match c {
            '*' => Tok::Star,
            '?' => Tok::Quest,
            c => Tok::Lit(c),
        });
        rest = rest.get(c.len_utf8()..).unwrap_or("");
    }
    Ok(out)
}

/// Handles the inside of one `${...}` (given `body` just after `${`); returns the text after
/// the closing `}`.
fn substitute<'a>(
    body: &'a str,
    ctx: &ConditionContext,
    out: &mut Vec<Tok>,
) -> Result<&'a str, Unresolved> {
    let (name, default, rest) = split_variable(body)?;
    let text = match name {
        "*" | "?" | "$" => name.to_owned(),
        _ => match (ctx.get(name), default) {
            ([one], _) => one.clone(),
            (_, Some(d)) => d,
            _ => return Err(Unresolved),
        },
    };
    out.extend(text.chars().map(Tok::Lit));
    Ok(rest)
}

/// Parses `key}` or `key, 'default'}`; `''` inside the default is one quote.
fn split_variable(body: &str) -> Result<(&str, Option<String>, &str), Unresolved> {
    let end = body.find([',', '}']).ok_or(Unresolved)?;
    let name = body.get(..end).ok_or(Unresolved)?.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(Unresolved);
    }
    let after = body.get(end..).ok_or(Unresolved)?;
    if let Some(rest) = after.strip_prefix('}') {
        return Ok((name, None, rest));
    }
    let quoted = after.get(1..).ok_or(Unresolved)?.trim_start();
    let (default, rest) = parse_quoted(quoted)?;
    let rest = rest.trim_start().strip_prefix('}').ok_or(Unresolved)?;
    Ok((name, Some(default), rest))
}

fn parse_quoted(s: &str) -> Result<(String, &str), Unresolved> {
    let mut rest = s.strip_prefix('\'').ok_or(Unresolved)?;
    let mut value = String::new();
    loop {
        let q = rest.find('\'').ok_or(Unresolved)?;
        value.push_str(rest.get(..q).ok_or(Unresolved)?);
        let after = rest.get(q + 1..).ok_or(Unresolved)?;
        match after.strip_prefix('\'') {
            Some(more) => {
                value.push('\'');
                rest = more;
            }
            None => return Ok((value, after)),
        }
    }
}

/// A policy string ready for matching: as written when there is nothing to substitute in
/// it (most policy strings), else expanded into tokens. The plain form matches ASCII text
/// byte by byte without allocating, which matters because every request is authorized;
/// anything else takes the general path through [`Tok`]s, with the same results.
pub(crate) enum Pattern<'a> {
    Plain(&'a str),
    Expanded(Vec<Tok>),
}

impl<'a> Pattern<'a> {
    /// `s` with its policy variables substituted from `vars` (`None`: version 2008-10-17,
    /// where `${...}` is literal text).
    pub(crate) fn new(s: &'a str, vars: Option<&ConditionContext>) -> Result<Self, Unresolved> {
        match vars {
            Some(_) if s.contains("${") => expand(s, vars).map(Self::Expanded),
            _ => Ok(Self::Plain(s)),
        }
    }

    /// The text, wildcards as written, for operators without wildcards.
    pub(crate) fn literal(&self) -> Cow<'a, str> {
        match self {
            Self::Plain(s) => Cow::Borrowed(*s),
            Self::Expanded(toks) => Cow::Owned(literal(toks)),
        }
    }

    /// Glob match of the whole `text`; see [`glob`].
    pub(crate) fn glob(&self, text: &str, fold_case: bool) -> bool {
        match self {
            Self::Plain(p) if p.is_ascii() && text.is_ascii() => {
                glob_ascii(p.as_bytes(), text.as_bytes(), fold_case)
            }
            Self::Plain(p) => glob_str(p, text, fold_case),
            Self::Expanded(toks) => glob(toks, &text.chars().collect::<Vec<_>>(), fold_case),
        }
    }

    /// ARN match of `text`; see [`arn_match`].
    pub(crate) fn arn_match(&self, text: &str) -> bool {
        match self {
            Self::Plain(p) if p.is_ascii() && text.is_ascii() => arn_match_ascii(p, text),
            Self::Plain(p) => expand(p, None).is_ok_and(|toks| arn_match(&toks, text)),
            Self::Expanded(toks) => arn_match(toks, text),
        }
    }
}

/// Tokens back to plain text, for operators without wildcards (`StringEquals`).
pub(crate) fn literal(toks: &[Tok]) -> String {
    toks.iter()
        .map(|t| match t {
            Tok::Lit(c) => *c,
            Tok::Star => '*',
            Tok::Quest => '?',
        })
        .collect()
}

/// Glob match of the whole `text`. Iterative with single-star backtracking: linear memory,
/// O(n*m) worst case, no recursion on attacker-controlled input.
pub(crate) fn glob(pat: &[Tok], text: &[char], fold_case: bool) -> bool {
    let eq = |a: char, b: char| {
        if fold_case {
            a.to_lowercase().eq(b.to_lowercase())
        } else {
            a == b
        }
    };
    glob_with(pat, text, |t| *t, eq)
}

/// [`glob`] of an ASCII pattern as written (`*` and `?` are wildcards, every other byte is
/// itself) over ASCII text. For ASCII, byte case folding is what `char` folding does.
fn glob_ascii(pat: &[u8], text: &[u8], fold_case: bool) -> bool {
    let class = |b: &u8| match b {
        b'*' => Tok::Star,
        b'?' => Tok::Quest,
        b => Tok::Lit(char::from(*b)),
    };
    let eq = |a: char, b: u8| {
        let b = char::from(b);
        if fold_case {
            a.eq_ignore_ascii_case(&b)
        } else {
            a == b
        }
    };
    glob_with(pat, text, class, eq)
}

/// The glob algorithm over any pattern and text elements: `class` tells what a pattern
/// element is, `eq` whether a literal one matches a text element.
fn glob_with<P, T: Copy>(
    pat: &[P],
    text: &[T],
    class: impl Fn(&P) -> Tok,
    eq: impl Fn(char, T) -> bool,
) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        match (pat.get(p).map(&class), text.get(t)) {
            (Some(Tok::Star), _) => {
                backtrack = Some((p, t));
                p += 1;
            }
            (Some(Tok::Quest), _) => (p, t) = (p + 1, t + 1),
            (Some(Tok::Lit(a)), Some(b)) if eq(a, *b) => (p, t) = (p + 1, t + 1),
            _ => match backtrack {
                Some((bp, bt)) => {
                    backtrack = Some((bp, bt + 1));
                    (p, t) = (bp + 1, bt + 1);
                }
                None => return false,
            },
        }
    }
    pat.get(p..)
        .is_some_and(|r| r.iter().all(|e| class(e) == Tok::Star))
}

/// Glob-matches a plain string pattern (no variables).
pub(crate) fn glob_str(pattern: &str, text: &str, fold_case: bool) -> bool {
    let Ok(pat) = expand(pattern, None) else {
        return false;
    };
    let text: Vec<char> = text.chars().collect();
    glob(&pat, &text, fold_case)
}

/// ARN matching as AWS does it: when both sides have the six `arn:p:s:r:a:resource`
/// parts, each part is globbed separately (so `*` in the region cannot swallow a colon);
/// otherwise the whole string is globbed. Case-sensitive.
pub(crate) fn arn_match(pat: &[Tok], text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    let pat_parts = split_toks(pat);
    if parts.len() != 6 || pat_parts.len() != 6 {
        let chars: Vec<char> = text.chars().collect();
        return glob(pat, &chars, false);
    }
    pat_parts.iter().zip(parts).all(|(p, t)| {
        let chars: Vec<char> = t.chars().collect();
        glob(p, &chars, false)
    })
}

/// [`arn_match`] of an ASCII pattern as written over ASCII text: every colon of a plain
/// pattern is literal, so splitting it at its first five colons is what [`split_toks`]
/// does to its tokens.
fn arn_match_ascii(pat: &str, text: &str) -> bool {
    let colons = |s: &str| s.bytes().filter(|&b| b == b':').count();
    let whole = |p: &str, t: &str| glob_ascii(p.as_bytes(), t.as_bytes(), false);
    if colons(pat) < 5 || colons(text) < 5 {
        return whole(pat, text);
    }
    pat.splitn(6, ':')
        .zip(text.splitn(6, ':'))
        .all(|(p, t)| whole(p, t))
}

/// Splits tokens at the first five literal colons.
fn split_toks(pat: &[Tok]) -> Vec<&[Tok]> {
    let mut out = Vec::with_capacity(6);
    let mut rest = pat;
    while out.len() < 5 {
        let Some(i) = rest.iter().position(|t| *t == Tok::Lit(':')) else {
            break;
        };
        out.push(rest.get(..i).unwrap_or(&[]));
        rest = rest.get(i + 1..).unwrap_or(&[]);
    }
    out.push(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ConditionContext {
        let mut c = ConditionContext::new();
        c.insert("aws:username", "alice");
        c.insert("aws:TagKeys", "a");
        c.insert("aws:TagKeys", "b");
        c
    }

    fn exp(s: &str) -> Option<String> {
        expand(s, Some(&ctx())).ok().map(|t| literal(&t))
    }

    #[test]
    fn glob_basics() {
        assert!(glob_str("kms:*", "kms:Encrypt", false));
        assert!(glob_str("kms:Describe*", "kms:DescribeKey", false));
        assert!(!glob_str("kms:Describe*", "kms:describekey", false));
        assert!(glob_str("kms:Describe*", "kms:describekey", true));
        assert!(glob_str("a?c", "abc", false));
        assert!(!glob_str("a?c", "ac", false));
        assert!(glob_str("*", "", false));
        assert!(glob_str("a*b*c", "aXbYbZc", false));
        assert!(!glob_str("a*b*c", "aXbYbZ", false));
        assert!(glob_str("**", "x", false));
        assert!(!glob_str("", "x", false));
    }

    #[test]
    fn variables_substitute_case_insensitively() {
        assert_eq!(
            exp("home/${aws:UserName}/*").as_deref(),
            Some("home/alice/*")
        );
        assert_eq!(exp("${missing}"), None);
        assert_eq!(
            exp("${aws:TagKeys}"),
            None,
            "multi-valued keys do not substitute"
        );
        assert_eq!(exp("${missing, 'dflt'}").as_deref(), Some("dflt"));
        assert_eq!(exp("${ aws:username , 'x' }").as_deref(), Some("alice"));
        assert_eq!(exp("${m, 'it''s'}").as_deref(), Some("it's"));
        assert_eq!(
            exp("${m, '${aws:username}'}").as_deref(),
            Some("${aws:username}")
        );
        assert_eq!(exp("${$}{x}").as_deref(), Some("${x}"));
        assert_eq!(exp("${}"), None);
        assert_eq!(exp("${unclosed"), None);
        assert_eq!(exp("${a b}"), None);
        assert_eq!(exp("${m, nodefault}"), None);
    }

    #[test]
    fn escaped_wildcards_are_literal() {
        let pat = expand("a${*}b${?}", Some(&ctx())).unwrap();
        let text = |s: &str| s.chars().collect::<Vec<_>>();
        assert!(glob(&pat, &text("a*b?"), false));
        assert!(!glob(&pat, &text("aXXbY"), false));
        let star = expand("a*", Some(&ctx())).unwrap();
        assert!(glob(&star, &text("aXX"), false));
    }

    #[test]
    fn substituted_values_are_literal() {
        let mut c = ConditionContext::new();
        c.insert("aws:username", "*");
        let pat = expand("user/${aws:username}", Some(&c)).unwrap();
        let text: Vec<char> = "user/bob".chars().collect();
        assert!(!glob(&pat, &text, false));
    }

    #[test]
    fn version_2008_keeps_variables_literal() {
        let pat = expand("${aws:username}", None).unwrap();
        assert_eq!(literal(&pat), "${aws:username}");
    }

    /// Strings over a small alphabet with wildcards, colons, case and one non-ASCII letter
    /// (the Kelvin sign folds to `k`), so that matches and near misses are both common.
    fn text() -> impl proptest::strategy::Strategy<Value = String> {
        proptest::string::string_regex("[aAkK:*?/\u{212A}]{0,12}").unwrap()
    }

    proptest::proptest! {
        /// The allocation-free path for plain ASCII patterns decides exactly as the general
        /// path through tokens, for globs (either case rule) and ARNs.
        #[test]
        fn plain_patterns_match_as_tokens_do(pat in text(), t in text(), fold in proptest::bool::ANY) {
            let toks = expand(&pat, None).unwrap();
            let chars: Vec<char> = t.chars().collect();
            proptest::prop_assert_eq!(Pattern::Plain(&pat).glob(&t, fold), glob(&toks, &chars, fold));
            proptest::prop_assert_eq!(Pattern::Plain(&pat).arn_match(&t), arn_match(&toks, &t));
        }
    }

    #[test]
    fn plain_and_expanded_patterns() {
        let c = ctx();
        assert!(matches!(
            Pattern::new("a/*", Some(&c)),
            Ok(Pattern::Plain("a/*"))
        ));
        assert!(matches!(
            Pattern::new("${aws:username}", None),
            Ok(Pattern::Plain(_))
        ));
        let p = Pattern::new("home/${aws:username}/*", Some(&c)).unwrap();
        assert_eq!(p.literal(), "home/alice/*");
        assert!(p.glob("home/alice/x", false));
        assert!(!p.glob("home/bob/x", false));
        assert!(Pattern::new("${missing}", Some(&c)).is_err());
    }

    #[test]
    fn arn_segments() {
        let p = |s: &str| expand(s, None).unwrap();
        let arn = "arn:aws:kms:us-east-1:111122223333:key/abc";
        assert!(arn_match(&p("arn:aws:kms:*:111122223333:key/*"), arn));
        assert!(arn_match(&p("arn:aws:kms:*:*:*"), arn));
        assert!(!arn_match(&p("arn:aws:kms:*:222233334444:key/*"), arn));
        assert!(!arn_match(&p("arn:aws:kms:*:111122223333:alias/*"), arn));
        // A star in one segment cannot span into the next.
        let odd = "arn:aws:kms:us:east:111122223333:key/abc";
        assert!(!arn_match(&p("arn:aws:kms:*:111122223333:key/abc"), odd));
        assert!(arn_match(
            &p("arn:aws:s3:::bucket/*"),
            "arn:aws:s3:::bucket/a:b/c"
        ));
        assert!(!arn_match(&p("arn:aws:kms:*:111122223333:key/*"), "*"));
    }
}
