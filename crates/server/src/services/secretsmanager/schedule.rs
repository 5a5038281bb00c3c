//! Rotation schedules: `AutomaticallyAfterDays`, `rate(...)` and AWS's 6-field
//! `cron(minutes hours day-of-month month day-of-week year)`, with the 4-hour minimum
//! and the `Duration` window.

use time::{Date, Duration, Month, OffsetDateTime, Time};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    Every(Duration),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u8>,
    hours: Vec<u8>,
    /// `None` for `?` / `*`.
    days: Option<Vec<u8>>,
    months: Vec<u8>,
    /// 1 = Sunday ... 7 = Saturday; `None` for `?` / `*`.
    weekdays: Option<Vec<u8>>,
    years: Option<Vec<u16>>,
}

const MIN_INTERVAL: Duration = Duration::hours(4);

/// Parses a `ScheduleExpression` and checks the minimum interval.
pub fn parse(expr: &str) -> Result<Schedule, String> {
    let expr = expr.trim();
    let s = if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        Schedule::Every(parse_rate(body)?)
    } else if let Some(body) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        Schedule::Cron(Box::new(parse_cron(body)?))
    } else {
        return Err(format!("Invalid ScheduleExpression: {expr}"));
    };
    if s.min_gap() < MIN_INTERVAL {
        return Err(
            "The schedule expression must rotate no more often than every four hours.".into(),
        );
    }
    Ok(s)
}

fn parse_rate(body: &str) -> Result<Duration, String> {
    let mut parts = body.split_whitespace();
    let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("Invalid rate expression: rate({body})"));
    };
    let n: i64 = n
        .parse()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("Invalid rate expression: rate({body})"))?;
    match unit {
        "day" | "days" if n <= 1000 => Ok(Duration::days(n)),
        "hour" | "hours" => Ok(Duration::hours(n)),
        _ => Err(format!("Invalid rate expression: rate({body})")),
    }
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const WEEKDAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

fn parse_cron(body: &str) -> Result<Cron, String> {
    let f: Vec<&str> = body.split_whitespace().collect();
    if f.len() != 6 {
        return Err(format!(
            "Invalid cron expression: cron({body}) must have 6 fields"
        ));
    }
    let bad = |what: &str| format!("Invalid cron expression: cron({body}): bad {what} field");
    let any = |s: &str| s == "*" || s == "?";
    let minutes = field(f[0], 0, 59, &[]).ok_or_else(|| bad("minutes"))?;
    let hours = field(f[1], 0, 23, &[]).ok_or_else(|| bad("hours"))?;
    let days = if any(f[2]) {
        None
    } else {
        Some(field(f[2], 1, 31, &[]).ok_or_else(|| bad("day-of-month"))?)
    };
    let months = field(f[3], 1, 12, &MONTHS).ok_or_else(|| bad("month"))?;
    let weekdays = if any(f[4]) {
        None
    } else {
        Some(field(f[4], 1, 7, &WEEKDAYS).ok_or_else(|| bad("day-of-week"))?)
    };
    if days.is_some() && weekdays.is_some() {
        return Err(format!(
            "Invalid cron expression: cron({body}): day-of-month and day-of-week can't both be set; use ? in one"
        ));
    }
    let years = if any(f[5]) {
        None
    } else {
        let y = field(f[5], 1970, 2199, &[]).ok_or_else(|| bad("year"))?;
        Some(y.into_iter().map(|v| v as u16).collect())
    };
    let to_u8 = |v: Vec<u32>| v.into_iter().map(|x| x as u8).collect::<Vec<u8>>();
    Ok(Cron {
        minutes: to_u8(minutes),
        hours: to_u8(hours),
        days: days.map(to_u8),
        months: to_u8(months),
        weekdays: weekdays.map(to_u8),
        years,
    })
}

/// A field: `*`, or a list of `a`, `a-b`, `a/step`, `a-b/step`, `*/step` (names allowed
/// where `names` lists them, first name = `lo`).
fn field(s: &str, lo: u32, hi: u32, names: &[&str]) -> Option<Vec<u32>> {
    let value = |t: &str| -> Option<u32> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(t)) {
            return Some(lo + i as u32);
        }
        t.parse().ok().filter(|v| (lo..=hi).contains(v))
    };
    let mut out = Vec::new();
    for part in s.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, st)) => (r, st.parse::<u32>().ok().filter(|s| *s > 0)?),
            None => (part, 1),
        };
        let (a, b) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None => {
                    let v = value(r)?;
                    (v, if part.contains('/') { hi } else { v })
                }
            },
        };
        if a > b {
            return None;
        }
        out.extend((a..=b).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Some(out)
}

impl Cron {
    fn day_matches(&self, d: Date) -> bool {
        let month_ok = self.months.contains(&(u8::from(d.month())));
        let year_ok = self
            .years
            .as_ref()
            .is_none_or(|y| y.contains(&(d.year() as u16)));
        let dom_ok = self.days.as_ref().is_none_or(|v| v.contains(&d.day()));
        let dow = d.weekday().number_from_sunday();
        let dow_ok = self.weekdays.as_ref().is_none_or(|v| v.contains(&dow));
        month_ok && year_ok && dom_ok && dow_ok
    }

    /// The first firing strictly after `t`, searching five years ahead.
    fn next_after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        let mut day = t.date();
        for _ in 0..(366 * 5) {
            if self.day_matches(day) {
                for &h in &self.hours {
                    for &m in &self.minutes {
                        let at = Time::from_hms(h, m, 0).ok()?;
                        let cand = day.with_time(at).assume_utc();
                        if cand > t {
                            return Some(cand);
                        }
                    }
                }
            }
            day = day.next_day()?;
        }
        None
    }
}

impl Schedule {
    /// When the schedule next fires after `t`.
    pub fn next_after(&self, t: OffsetDateTime) -> Option<OffsetDateTime> {
        match self {
            Schedule::Every(d) => Some(t + *d),
            Schedule::Cron(c) => c.next_after(t),
        }
    }

    /// The shortest gap between firings over the coming period (for the 4-hour rule).
    pub fn min_gap(&self) -> Duration {
        match self {
            Schedule::Every(d) => *d,
            Schedule::Cron(c) => {
                let start = Date::from_calendar_date(2030, Month::January, 1)
                    .map(|d| d.midnight().assume_utc())
                    .unwrap_or(OffsetDateTime::UNIX_EPOCH);
                let mut prev = match c.next_after(start) {
                    Some(p) => p,
                    None => return Duration::MAX,
                };
                let mut gap = Duration::MAX;
                for _ in 0..200 {
                    let Some(n) = c.next_after(prev) else { break };
                    gap = gap.min(n - prev);
                    prev = n;
                }
                gap
            }
        }
    }
}

/// `Duration` of the rotation window: `Nh`, 1 to 24 hours.
pub fn parse_window(s: &str) -> Result<Duration, String> {
    s.strip_suffix('h')
        .and_then(|n| n.parse::<i64>().ok())
        .filter(|n| (1..=24).contains(n))
        .map(Duration::hours)
        .ok_or_else(|| format!("Invalid Duration: {s}. The window must be 1h to 24h."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn rates() {
        assert_eq!(
            parse("rate(10 days)"),
            Ok(Schedule::Every(Duration::days(10)))
        );
        assert_eq!(
            parse("rate(4 hours)"),
            Ok(Schedule::Every(Duration::hours(4)))
        );
        assert!(parse("rate(3 hours)").is_err());
        assert!(parse("rate(0 days)").is_err());
        assert!(parse("rate(1001 days)").is_err());
        assert!(parse("rate(2 weeks)").is_err());
        assert!(parse("every day").is_err());
    }

    #[test]
    fn crons() {
        let s = parse("cron(0 16 1,15 * ? *)").unwrap();
        let t = datetime!(2026-03-01 17:00 UTC);
        assert_eq!(s.next_after(t), Some(datetime!(2026-03-15 16:00 UTC)));
        // Every Monday (2 = MON) at 08:30.
        let s = parse("cron(30 8 ? * MON *)").unwrap();
        let t = datetime!(2026-11-23 09:00 UTC); // a Monday, after 08:30
        assert_eq!(s.next_after(t), Some(datetime!(2026-11-30 08:30 UTC)));
        let s = parse("cron(0 */6 * * ? *)").unwrap();
        assert_eq!(s.min_gap(), Duration::hours(6));
        assert!(
            parse("cron(0 */2 * * ? *)").is_err(),
            "every 2 hours is too often"
        );
        assert!(parse("cron(0 0 1 * MON *)").is_err(), "both day fields set");
        assert!(parse("cron(0 0 * *)").is_err());
        assert!(parse("cron(0 25 * * ? *)").is_err());
        let s = parse("cron(0 0 1 JAN ? 2027)").unwrap();
        assert_eq!(
            s.next_after(datetime!(2026-06-01 00:00 UTC)),
            Some(datetime!(2027-01-01 00:00 UTC))
        );
    }

    #[test]
    fn windows() {
        assert_eq!(parse_window("3h"), Ok(Duration::hours(3)));
        assert!(parse_window("0h").is_err());
        assert!(parse_window("25h").is_err());
        assert!(parse_window("3d").is_err());
    }
}
