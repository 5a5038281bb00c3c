//! AWS service models carry `java.util.regex` patterns, and AWS applies them with
//! `Matcher.matches()`: the whole value must match. This module rewrites the Java syntax
//! the models use into the `regex` crate's syntax with the same meaning.
//!
//! Where the two differ: Java's `\w \d \s` (and their negations) are ASCII-only while the
//! `regex` crate's are Unicode, so they become explicit ASCII classes; Java's `.` excludes
//! every line terminator (`\n \r \u0085 \u2028 \u2029`), not only `\n`; `\uXXXX` escapes
//! and escaped punctuation become `\x{..}`; and a `-` after a range or a class escape inside
//! `[...]` is a literal in Java. The one lookaround the models use, a leading negative
//! lookahead (`^(?!\s*$).+`), becomes a second regex the value must *not* start with.
//! Anything else the `regex` crate cannot express (backreferences, other lookarounds,
//! possessive quantifiers) is an error, so a new model pattern fails the tests rather than
//! being applied wrongly.

use regex::{Regex, RegexBuilder};

/// Patterns like `^.{1,100000}$` expand to large automata; this bound keeps them legal
/// while still refusing anything absurd.
const SIZE_LIMIT: usize = 256 * 1024 * 1024;

/// Above this many repetitions, `^atom{n,m}$` is checked as `atom*` plus a count: the
/// automaton for `.{1,100000}` takes over a second to build.
const LARGE_REPEAT: usize = 1000;

/// A Java pattern that could not be rewritten or compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pattern {pattern:?}: {reason}")]
pub struct PatternError {
    pub pattern: String,
    pub reason: String,
}

/// A compiled model pattern with Java `matches()` semantics.
#[derive(Debug)]
pub struct JavaPattern {
    whole: Regex,
    forbidden_prefix: Option<Regex>,
    /// For `^atom{min,max}$` with a large `max`: the bounds on the number of characters
    /// (code points, as Java's matcher counts them), `whole` being `atom*`.
    repeat: Option<(usize, usize)>,
}

impl JavaPattern {
    /// Rewrites and compiles `pattern`.
    pub fn compile(pattern: &str) -> Result<Self, PatternError> {
        Self::compile_limited(pattern, SIZE_LIMIT)
    }

    /// As `compile`, with a bound (bytes) on the compiled automaton: for patterns that
    /// callers supply (Parameter Store's AllowedPattern), so one request cannot make the
    /// server build a huge one.
    pub fn compile_limited(pattern: &str, size_limit: usize) -> Result<Self, PatternError> {
        let build = |source: &str| build(source, size_limit);
        let fail = |reason: String| PatternError {
            pattern: pattern.to_owned(),
            reason,
        };
        let (lookahead, rest) = split_leading_lookahead(pattern).map_err(fail)?;
        let (body, repeat) = match large_repeat(rest) {
            Some((atom, min, max)) => (
                format!("(?:{})*", translate(atom).map_err(fail)?),
                Some((min, max)),
            ),
            None => (translate(rest).map_err(fail)?, None),
        };
        let whole = build(&format!(r"\A(?:{body})\z")).map_err(fail)?;
        let forbidden_prefix = match lookahead {
            Some(body) => {
                Some(build(&format!(r"\A(?:{})", translate(body).map_err(fail)?)).map_err(fail)?)
            }
            None => None,
        };
        Ok(Self {
            whole,
            forbidden_prefix,
            repeat,
        })
    }

    /// Whether the whole of `value` matches, as `Pattern.matches` would say.
    pub fn matches(&self, value: &str) -> bool {
        self.repeat
            .is_none_or(|(min, max)| (min..=max).contains(&value.chars().count()))
            && self.whole.is_match(value)
            && !self
                .forbidden_prefix
                .as_ref()
                .is_some_and(|re| re.is_match(value))
    }
}

fn build(source: &str, size_limit: usize) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .size_limit(size_limit)
        .dfa_size_limit(size_limit)
        .build()
        .map_err(|e| e.to_string())
}

/// Recognises `^atom{min,max}$` (anchors optional) where `atom` is `.`, one escape or one
/// flat bracket class and `max` is large; returns the atom and the bounds.
fn large_repeat(pattern: &str) -> Option<(&str, usize, usize)> {
    let core = pattern.strip_prefix('^').unwrap_or(pattern);
    let core = core.strip_suffix('$').unwrap_or(core);
    let (atom, counts) = core.strip_suffix('}')?.rsplit_once('{')?;
    let (min, max) = counts.split_once(',')?;
    let (min, max) = (min.parse().ok()?, max.parse().ok()?);
    let single = atom == "."
        || (atom.len() == 2 && atom.starts_with('\\') && !atom.ends_with(['u', 'x', 'p', 'P']))
        || (atom.starts_with('[')
            && atom.ends_with(']')
            && !atom[1..atom.len() - 1].contains(['[', ']', '\\']));
    (single && max > LARGE_REPEAT && min <= max).then_some((atom, min, max))
}

/// Splits `^(?!X)rest` (or `(?!X)rest`) into `X` and `rest`.
fn split_leading_lookahead(pattern: &str) -> Result<(Option<&str>, &str), String> {
    let body_start = match pattern {
        p if p.starts_with("^(?!") => 4,
        p if p.starts_with("(?!") => 3,
        _ => return Ok((None, pattern)),
    };
    let close = group_end(pattern, body_start - 3)
        .ok_or_else(|| "unbalanced lookahead group".to_owned())?;
    Ok((Some(&pattern[body_start..close]), &pattern[close + 1..]))
}

/// The byte index of the `)` closing the group opened at `open`.
fn group_end(pattern: &str, open: usize) -> Option<usize> {
    let bytes = pattern.as_bytes();
    let (mut depth, mut i, mut in_class) = (0usize, open, 0usize);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 1,
            b'[' => in_class += 1,
            b']' if in_class > 0 => in_class -= 1,
            b'(' if in_class == 0 => depth += 1,
            b')' if in_class == 0 => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Java's line terminators, which `.` does not match.
const DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";
const WORD: &str = "0-9A-Za-z_";
const DIGIT: &str = "0-9";
const SPACE: &str = r"\t\n\x{0B}\x{0C}\r\x{20}";

/// Rewrites a Java pattern (without leading lookahead) into `regex` syntax.
fn translate(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut i = 0;
    while i < chars.len() {
        i = match chars[i] {
            '\\' => translate_escape(&chars, i, &mut out)?,
            '[' => translate_class(&chars, i, &mut out)?,
            '.' => {
                out.push_str(DOT);
                i + 1
            }
            '(' => translate_group_open(&chars, i, &mut out)?,
            '*' | '+' | '?' | '}' => translate_quantifier(&chars, i, &mut out)?,
            c => {
                out.push(c);
                i + 1
            }
        };
    }
    Ok(out)
}

/// Copies a quantifier, refusing Java's possessive form (`*+`), which `regex` lacks.
fn translate_quantifier(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    out.push(chars[i]);
    match chars.get(i + 1) {
        Some('+') => Err("possessive quantifiers are not supported".to_owned()),
        _ => Ok(i + 1),
    }
}

fn translate_group_open(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    if chars.get(i + 1) == Some(&'?') {
        let next = chars.get(i + 2).copied().unwrap_or(')');
        if matches!(next, '!' | '=' | '<' | '>') {
            return Err("lookaround, atomic and named groups are not supported".to_owned());
        }
    }
    out.push('(');
    Ok(i + 1)
}

/// An escape outside a character class.
fn translate_escape(chars: &[char], i: usize, out: &mut String) -> Result<usize, String> {
    let (item, next) = parse_escape(chars, i)?;
    match item {
        ClassItem::Char(c) => push_literal(out, c),
        ClassItem::Set(set) => out.push_str(&set.standalone()),
        ClassItem::Property(p) => out.push_str(&p),
    }
    Ok(next)
}

/// What one escape sequence denotes.
enum ClassItem {
    Char(char),
    Set(AsciiSet),
    Property(String),
}

/// Java's ASCII-only predefined classes.
#[derive(Clone, Copy)]
enum AsciiSet {
    Word(bool),
    Digit(bool),
    Space(bool),
}

impl AsciiSet {
    fn parts(self) -> (&'static str, bool) {
        match self {
            AsciiSet::Word(neg) => (WORD, neg),
            AsciiSet::Digit(neg) => (DIGIT, neg),
            AsciiSet::Space(neg) => (SPACE, neg),
        }
    }

    /// The set as a class of its own: `[0-9]` or `[^0-9]`.
    fn standalone(self) -> String {
        let (body, negated) = self.parts();
        format!("[{}{body}]", if negated { "^" } else { "" })
    }

    /// The set inside an enclosing class: bare ranges, or a nested negated class.
    fn inside_class(self) -> String {
        match self.parts() {
            (body, false) => body.to_owned(),
            (body, true) => format!("[^{body}]"),
        }
    }
}

/// Parses the escape at `chars[i] == '\\'`; returns what it denotes and the next index.
fn parse_escape(chars: &[char], i: usize) -> Result<(ClassItem, usize), String> {
    let c = *chars.get(i + 1).ok_or("trailing backslash")?;
    let set = |s| Ok((ClassItem::Set(s), i + 2));
    let ch = |c| Ok((ClassItem::Char(c), i + 2));
    match c {
        'w' => set(AsciiSet::Word(false)),
        'W' => set(AsciiSet::Word(true)),
        'd' => set(AsciiSet::Digit(false)),
        'D' => set(AsciiSet::Digit(true)),
        's' => set(AsciiSet::Space(false)),
        'S' => set(AsciiSet::Space(true)),
        't' => ch('\t'),
        'n' => ch('\n'),
        'r' => ch('\r'),
        'f' => ch('\x0C'),
        'e' => ch('\x1B'),
        'a' => ch('\x07'),
        'u' => hex_escape(chars, i + 2, 4),
        'x' => hex_escape(chars, i + 2, 2),
        'p' | 'P' => property(chars, i),
        c if c.is_ascii_alphanumeric() => Err(format!("unsupported escape \\{c}")),
        c => ch(c),
    }
}

fn hex_escape(chars: &[char], start: usize, len: usize) -> Result<(ClassItem, usize), String> {
    let digits: String = chars
        .get(start..start + len)
        .ok_or("short hex escape")?
        .iter()
        .collect();
    let code = u32::from_str_radix(&digits, 16).map_err(|_| format!("bad hex escape {digits}"))?;
    let c = char::from_u32(code).ok_or_else(|| format!("bad code point {digits}"))?;
    Ok((ClassItem::Char(c), start + len))
}

/// `\p{L}` and friends: the general categories mean the same in both engines.
fn property(chars: &[char], i: usize) -> Result<(ClassItem, usize), String> {
    if chars.get(i + 2) != Some(&'{') {
        return Err("single-letter \\p without braces is not supported".to_owned());
    }
    let close = (i + 3..chars.len())
        .find(|&j| chars[j] == '}')
        .ok_or("unterminated \\p{")?;
    Ok((
        ClassItem::Property(chars[i..=close].iter().collect()),
        close + 1,
    ))
}

/// Writes `c` so that it is a literal both inside and outside a class.
fn push_literal(out: &mut String, c: char) {
    if c.is_alphanumeric() {
        out.push(c);
    } else {
        out.push_str(&format!("\\x{{{:X}}}", u32::from(c)));
    }
}

/// Translates the class starting at `chars[open] == '['`; returns the index after `]`.
fn translate_class(chars: &[char], open: usize, out: &mut String) -> Result<usize, String> {
    out.push('[');
    let mut i = open + 1;
    if chars.get(i) == Some(&'^') {
        out.push('^');
        i += 1;
    }
    // The last plain character written, which a following `-x` turns into a range.
    let mut range_start: Option<char> = None;
    let mut first = true;
    loop {
        let c = *chars.get(i).ok_or("unterminated character class")?;
        match c {
            ']' if !first => {
                out.push(']');
                return Ok(i + 1);
            }
            '[' => {
                i = translate_class(chars, i, out)?;
                range_start = None;
            }
            '&' if chars.get(i + 1) == Some(&'&') => {
                out.push_str("&&");
                i += 2;
                range_start = None;
            }
            '-' if range_start.is_some() && ends_range(chars, i) => {
                let (end, next) = class_char(chars, i + 1)?;
                out.push('-');
                push_literal(out, end);
                i = next;
                range_start = None;
            }
            _ => {
                let (item, next) = class_item(chars, i)?;
                range_start = match item {
                    ClassItem::Char(ch) => {
                        push_literal(out, ch);
                        Some(ch)
                    }
                    ClassItem::Set(set) => {
                        out.push_str(&set.inside_class());
                        None
                    }
                    ClassItem::Property(p) => {
                        out.push_str(&p);
                        None
                    }
                };
                i = next;
            }
        }
        first = false;
    }
}

/// Whether the `-` at `i` joins two characters into a range (Java treats `-]`, `-[` and
/// `-` before a class escape as a literal hyphen).
fn ends_range(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        None | Some(']') | Some('[') => false,
        Some('\\') => class_char(chars, i + 1).is_ok(),
        Some(_) => true,
    }
}

/// A single character at `i` inside a class (literal or escaped).
fn class_char(chars: &[char], i: usize) -> Result<(char, usize), String> {
    match class_item(chars, i)? {
        (ClassItem::Char(c), next) => Ok((c, next)),
        _ => Err("a class escape cannot end a range".to_owned()),
    }
}

fn class_item(chars: &[char], i: usize) -> Result<(ClassItem, usize), String> {
    match chars[i] {
        '\\' => parse_escape(chars, i),
        c => Ok((ClassItem::Char(c), i + 1)),
    }
}
