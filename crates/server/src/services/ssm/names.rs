//! Parameter names, selectors (`name:3`, `name:label`) and labels, with AWS's rules and
//! error texts.

use super::SsmError;

/// The longest name AWS accepts, counted with the ARN before it
/// (`arn:aws:ssm:<region>:<account>:parameter/`), as its PutParameter reference says.
pub const MAX_NAME_LEN: usize = 1011;
/// Parameter hierarchies are at most fifteen levels deep.
pub const MAX_LEVELS: usize = 15;

const NAME_RULES: &str = "Parameter name: can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_";

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')
}

/// AWS trims spaces around a name; spaces inside it are an error (checked with the rest).
pub fn trim(name: &str) -> &str {
    name.trim_matches(' ')
}

/// A name given to a read, trimmed. Spaces left inside it fail the request: every read's
/// reference says so ("the request fails with a ValidationException error").
pub fn read_name(name: &str) -> Result<&str, SsmError> {
    let name = trim(name);
    if name.contains(' ') {
        return Err(SsmError::Validation(
            "Parameter name: can't contain spaces between characters.".into(),
        ));
    }
    Ok(name)
}

/// Whether `name` starts with a reserved prefix (`aws`, `ssm`, case-insensitive), with or
/// without its leading slash.
fn reserved(name: &str) -> bool {
    let bare = name.strip_prefix('/').unwrap_or(name).to_ascii_lowercase();
    bare.starts_with("aws") || bare.starts_with("ssm")
}

/// The rules a name must follow to be created (PutParameter); `arn` is the ARN it would
/// have, which the length limit counts.
pub fn validate_new(name: &str, arn: &str) -> Result<(), SsmError> {
    if arn.chars().count() > MAX_NAME_LEN {
        return Err(SsmError::Validation(format!(
            "Parameter name exceeds the maximum length of {MAX_NAME_LEN} characters."
        )));
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err(SsmError::Validation(
            "Parameter name must be a fully qualified name.".into(),
        ));
    }
    let segments: Vec<&str> = name.strip_prefix('/').unwrap_or(name).split('/').collect();
    let well_formed = segments
        .iter()
        .all(|s| !s.is_empty() && s.chars().all(name_char));
    if reserved(name) || !well_formed {
        return Err(SsmError::Validation(NAME_RULES.into()));
    }
    if segments.len() > MAX_LEVELS {
        return Err(SsmError::HierarchyLevelLimitExceeded(
            "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide.".into(),
        ));
    }
    Ok(())
}

/// Whether `name` can name a parameter at all (reads of other names find nothing).
pub fn plausible(name: &str) -> bool {
    !name.is_empty()
        && name.chars().count() <= MAX_NAME_LEN
        && name.chars().all(|c| name_char(c) || c == '/')
}

/// What a caller asked for: a name, optionally with a version or a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Latest,
    Version(u64),
    Label(String),
}

impl Selector {
    /// The `Selector` member of a returned parameter (`:3`, `:prod`).
    pub fn wire(&self) -> Option<String> {
        match self {
            Selector::Latest => None,
            Selector::Version(v) => Some(format!(":{v}")),
            Selector::Label(l) => Some(format!(":{l}")),
        }
    }
}

/// The length of an ARN's fixed part (`arn:aws:ssm:<region>:<account>:`), if `s` is one.
fn arn_prefix_len(s: &str) -> Option<usize> {
    if !s.starts_with("arn:") {
        return None;
    }
    s.match_indices(':').nth(4).map(|(i, _)| i + 1)
}

/// Splits `name:selector` (the name may be a parameter ARN). A selector of digits is a
/// version, anything else a label.
pub fn parse_selector(input: &str) -> Result<(String, Selector), SsmError> {
    let input = read_name(input)?;
    let skip = arn_prefix_len(input).unwrap_or(0);
    let Some((name, sel)) = input[skip..]
        .split_once(':')
        .map(|(n, s)| (&input[..skip + n.len()], s))
    else {
        return Ok((input.to_owned(), Selector::Latest));
    };
    if sel.is_empty() || sel.contains(':') {
        return Err(SsmError::Validation(format!(
            "Invalid label or version selector in parameter name: {input}"
        )));
    }
    if sel.bytes().all(|b| b.is_ascii_digit()) {
        let v = sel
            .parse::<u64>()
            .map_err(|_| SsmError::Validation(format!("Invalid version selector: {sel}")))?;
        return Ok((name.to_owned(), Selector::Version(v)));
    }
    Ok((name.to_owned(), Selector::Label(sel.to_owned())))
}

/// The names a read of `name` may mean in the caller's account and region: the name
/// itself, or for a parameter ARN the names it can stand for (`parameter/a` is `/a` or
/// `a`; `parameter/a/b` is `/a/b`). An ARN of another account or region names a shared
/// parameter, and coffer shares none, so it stands for nothing here.
pub fn candidates(name: &str, region: &str, account: &str) -> Vec<String> {
    let Some(rest) = name.strip_prefix("arn:aws:ssm:") else {
        return vec![name.to_owned()];
    };
    let mut parts = rest.splitn(3, ':');
    let (Some(r), Some(a), Some(resource)) = (parts.next(), parts.next(), parts.next()) else {
        return Vec::new();
    };
    let Some(bare) = resource.strip_prefix("parameter/") else {
        return Vec::new();
    };
    if r != region || a != account || bare.is_empty() {
        return Vec::new();
    }
    if bare.contains('/') {
        vec![format!("/{bare}")]
    } else {
        vec![format!("/{bare}"), bare.to_owned()]
    }
}

/// AWS's label rules: letters, digits, `.`, `-`, `_`; at most 100 characters; not
/// starting with a digit, nor with `aws` or `ssm` (case-insensitive).
pub fn valid_label(label: &str) -> bool {
    let lower = label.to_ascii_lowercase();
    !label.is_empty()
        && label.chars().count() <= 100
        && label.chars().all(name_char)
        && !label.starts_with(|c: char| c.is_ascii_digit())
        && !lower.starts_with("aws")
        && !lower.starts_with("ssm")
}

/// The number of hierarchy levels of a name (`/a/b` has 2, `a` has 1).
pub fn levels(name: &str) -> usize {
    name.strip_prefix('/').unwrap_or(name).split('/').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The ARN `name` has in account 111122223333 of us-east-2 (45 characters before a
    /// name without its leading slash, as in AWS's example).
    fn arn(name: &str) -> String {
        format!(
            "arn:aws:ssm:us-east-2:111122223333:parameter/{}",
            name.strip_prefix('/').unwrap_or(name)
        )
    }

    fn validate_new(name: &str) -> Result<(), SsmError> {
        super::validate_new(name, &arn(name))
    }

    #[test]
    fn names() {
        assert!(validate_new("/app/db/password").is_ok());
        assert!(validate_new("plain-name_1.x").is_ok());
        for bad in [
            "/aws/x",
            "AWS-thing",
            "/SSM/x",
            "ssmx",
            "a b",
            "/a//b",
            "/a/b$",
        ] {
            assert!(
                matches!(validate_new(bad), Err(SsmError::Validation(_))),
                "{bad}"
            );
        }
        assert!(matches!(
            validate_new("a/b"),
            Err(SsmError::Validation(m)) if m.contains("fully qualified")
        ));
        let deep = "/l".repeat(16);
        assert!(matches!(
            validate_new(&deep),
            Err(SsmError::HierarchyLevelLimitExceeded(_))
        ));
        assert!(validate_new(&"/l".repeat(15)).is_ok());
        // The ARN's 45 characters count towards the 1011.
        assert!(validate_new(&format!("/{}", "x".repeat(1011 - 45))).is_ok());
        assert!(matches!(
            validate_new(&format!("/{}", "x".repeat(1011 - 44))),
            Err(SsmError::Validation(_))
        ));
        assert!(matches!(
            validate_new(&"x".repeat(1011 - 44)),
            Err(SsmError::Validation(_))
        ));
    }

    #[test]
    fn reads_refuse_names_with_spaces_inside() {
        assert_eq!(read_name("  /a/b ").unwrap(), "/a/b");
        for bad in ["/a/ b", "a b", " /a b:3 "] {
            assert!(
                matches!(read_name(bad), Err(SsmError::Validation(_))),
                "{bad}"
            );
            assert!(
                matches!(parse_selector(bad), Err(SsmError::Validation(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn selectors() {
        assert_eq!(
            parse_selector("/a:3").unwrap(),
            ("/a".into(), Selector::Version(3))
        );
        assert_eq!(
            parse_selector("/a:prod").unwrap(),
            ("/a".into(), Selector::Label("prod".into()))
        );
        assert_eq!(
            parse_selector(" /a ").unwrap(),
            ("/a".into(), Selector::Latest)
        );
        let arn = "arn:aws:ssm:us-east-1:111122223333:parameter/a/b";
        assert_eq!(
            parse_selector(&format!("{arn}:2")).unwrap(),
            (arn.to_owned(), Selector::Version(2))
        );
        assert_eq!(
            parse_selector(arn).unwrap(),
            (arn.to_owned(), Selector::Latest)
        );
        assert_eq!(candidates(arn, "us-east-1", "111122223333"), ["/a/b"]);
        assert_eq!(
            candidates(
                "arn:aws:ssm:us-east-1:111122223333:parameter/x",
                "us-east-1",
                "111122223333"
            ),
            ["/x", "x"]
        );
        assert!(candidates(arn, "us-east-1", "999999999999").is_empty());
        assert!(candidates(arn, "eu-west-1", "111122223333").is_empty());
        assert_eq!(candidates("/plain", "us-east-1", "1"), ["/plain"]);
        assert!(parse_selector("/a:").is_err());
        assert!(parse_selector("/a:1:2").is_err());
    }

    #[test]
    fn labels() {
        assert!(valid_label("prod"));
        assert!(valid_label("Release-1.2_x"));
        for bad in ["1st", "awsx", "SSM-a", "a/b", "a b", "", &"x".repeat(101)] {
            assert!(!valid_label(bad), "{bad}");
        }
    }
}
