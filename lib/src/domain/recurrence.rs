//! Recurrence rules: the spec's presets (`daily`, `weekly`, `monthly`, `yearly`) and RFC 5545
//! `RRULE` strings, expanded in the task's IANA time zone so local wall-clock times survive DST.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeZone, Utc};
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

use super::{FieldError, time};

/// Longest rule text accepted.
const RULE_MAX_CHARS: usize = 500;

/// A validated recurrence rule, kept in the text form the client gave (presets lower case,
/// RRULEs upper case without the `RRULE:` prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecurrenceRule {
    text: String,
    rrule: String,
}

impl RecurrenceRule {
    /// Validates a preset or an RRULE. Sub-hourly frequencies are refused: a task that recurs
    /// every minute is a mistake, and the rule engine is known to be weak there across DST.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let err = |m: String| FieldError::new("recurrence_rule", m);
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(err("must not be empty (use null to clear it)".into()));
        }
        if trimmed.chars().count() > RULE_MAX_CHARS {
            return Err(err(format!("must be at most {RULE_MAX_CHARS} characters")));
        }
        let preset = match trimmed.to_ascii_lowercase().as_str() {
            "daily" => Some(("daily", "FREQ=DAILY")),
            "weekly" => Some(("weekly", "FREQ=WEEKLY")),
            "monthly" => Some(("monthly", "FREQ=MONTHLY")),
            "yearly" => Some(("yearly", "FREQ=YEARLY")),
            _ => None,
        };
        if let Some((text, rrule)) = preset {
            return Ok(Self {
                text: text.to_string(),
                rrule: rrule.to_string(),
            });
        }
        let upper = trimmed.to_ascii_uppercase();
        let body = upper
            .strip_prefix("RRULE:")
            .unwrap_or(&upper)
            .trim()
            .to_string();
        if body.contains('\n') || body.contains('\r') || body.contains("DTSTART") {
            return Err(err(
                "must be a single RRULE line without DTSTART (the task's due date is the start)"
                    .into(),
            ));
        }
        if !body.starts_with("FREQ=") && !body.contains(";FREQ=") {
            return Err(err(
                "must be daily, weekly, monthly, yearly, or an RFC 5545 RRULE such as FREQ=WEEKLY;BYDAY=MO,WE".into(),
            ));
        }
        let body = rfc5545_checks(&body).map_err(err)?;
        let parsed = RRule::<Unvalidated>::from_str(&body)
            .map_err(|e| err(format!("invalid RRULE: {e}")))?;
        if matches!(parsed.get_freq(), Frequency::Minutely | Frequency::Secondly) {
            return Err(err("FREQ must be HOURLY or slower".into()));
        }
        let probe_start = rrule::Tz::UTC
            .with_ymd_and_hms(1900, 1, 1, 9, 0, 0)
            .single()
            .ok_or_else(|| err("internal: probe date".into()))?;
        if parsed.get_interval() == 0 {
            return Err(err("INTERVAL must be at least 1".into()));
        }
        // Seconds are no part of a task's schedule: one BYSECOND value at most (exports write
        // BYSECOND=0).
        if parsed.get_by_second().len() > 1 {
            return Err(err("BYSECOND may name one second at most".into()));
        }
        days_check(&body, parsed.get_freq(), probe_start).map_err(err)?;
        // From a fixed start (a Monday at 09:00). A rule that has no occurrence from there may
        // still have some from the task's own start (FREQ=DAILY;INTERVAL=7;BYDAY=TU for a
        // Tuesday task): the task's check (`check_schedule`) decides, from that start.
        match density(parsed.clone(), probe_start, false) {
            Ok(()) => {}
            // Without its INTERVAL a rule has no phase to miss: if it has no occurrence then
            // either (FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30), it never has one.
            Err(Density::Never) => {
                if let Err(Density::Never) = density(parsed.interval(1), probe_start, false) {
                    return Err(err(Density::Never.to_string()));
                }
            }
            Err(e) => return Err(err(e.to_string())),
        }
        Ok(Self {
            text: body.clone(),
            rrule: body,
        })
    }

    /// A rule as stored (what `as_str` gave), taken as it is: rules accepted under older, looser
    /// checks stay readable.
    pub fn from_stored(text: &str) -> Self {
        let rrule = match text {
            "daily" => "FREQ=DAILY",
            "weekly" => "FREQ=WEEKLY",
            "monthly" => "FREQ=MONTHLY",
            "yearly" => "FREQ=YEARLY",
            other => other,
        };
        Self {
            text: text.to_string(),
            rrule: rrule.to_string(),
        }
    }

    /// A rule carried by an event (a `task.completed` snapshot), as [`from_stored`] takes it,
    /// but only within the bounds every rule this service ever wrote kept: at most 500
    /// characters, and a frequency of an hour or slower. Anything else did not come from here.
    ///
    /// [`from_stored`]: Self::from_stored
    pub fn from_snapshot(text: &str) -> Result<Self, String> {
        let rule = Self::from_stored(text);
        if text.chars().count() > RULE_MAX_CHARS {
            return Err(format!("recurrence_rule over {RULE_MAX_CHARS} characters"));
        }
        let freq = rule.part("FREQ").map(|f| f.trim().to_ascii_uppercase());
        match freq.as_deref() {
            Some("HOURLY" | "DAILY" | "WEEKLY" | "MONTHLY" | "YEARLY") => Ok(rule),
            _ => Err(format!(
                "recurrence_rule {text:?} is not one this service writes"
            )),
        }
    }

    /// The text stored and returned to clients.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The equivalent RRULE body (presets expanded).
    pub fn as_rrule(&self) -> &str {
        &self.rrule
    }

    /// Whether the rule repeats within a day by its frequency (`FREQ=HOURLY`; anything denser
    /// is refused at parsing).
    pub fn is_hourly(&self) -> bool {
        self.part("FREQ")
            .is_some_and(|f| f.trim().eq_ignore_ascii_case("HOURLY"))
    }

    /// How many values the rule gives its part `name` (`BYHOUR`), `None` when it has none.
    pub fn values_of(&self, name: &str) -> Option<usize> {
        self.part(name).map(|v| v.split(',').count())
    }

    /// The value of the rule's part `name` (`BYHOUR` → `9,17`).
    fn part(&self, name: &str) -> Option<&str> {
        self.rrule
            .split(';')
            .filter_map(|part| part.trim().split_once('='))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Whether the rule names more than one time of day (`BYHOUR=9,17`, `BYMINUTE=0,30`).
    pub fn several_a_day(&self) -> bool {
        let values = |name: &str| self.values_of(name).unwrap_or(1);
        values("BYHOUR") * values("BYMINUTE") * values("BYSECOND") > 1
    }

    /// Whether the rule is one of the spec's presets (`daily`, `weekly`, `monthly`, `yearly`).
    fn is_preset(&self) -> bool {
        matches!(
            self.text.as_str(),
            "daily" | "weekly" | "monthly" | "yearly"
        )
    }

    /// The first occurrence strictly after `after`, for a series that started at
    /// `series_start` (the first occurrence's due time), expanded in `tz`.
    /// `None` when the rule has ended (past UNTIL). COUNT is not applied here: the caller counts
    /// occurrences (a series whose due dates were moved, or that restarted at a completion, has
    /// had other instances than the rule's from `series_start`).
    ///
    /// The rule is expanded on wall-clock time (the series start's local date and time, with no
    /// zone), and each wall-clock occurrence is then placed in `tz` as RFC 5545 §3.3.5 says: a
    /// time that occurs twice is the first of the two, and a time that does not occur (a DST
    /// gap) is read with the UTC offset before the gap, so 02:30 on the night New York springs
    /// forward is 03:30, and midnight on the night Santiago springs forward is 01:00 — the day
    /// is kept, never skipped. UNTIL (always UTC) is applied to the placed times, and a series
    /// ends before year 10000.
    pub fn next_after(
        &self,
        series_start: DateTime<Utc>,
        tz: chrono_tz::Tz,
        after: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        self.next_after_from(series_start, tz, after, true)
    }

    /// [`next_after`](Self::next_after), with the series start moved close to `after` first
    /// ([`rebased`]) or not (for tests that compare the two).
    fn next_after_from(
        &self,
        series_start: DateTime<Utc>,
        tz: chrono_tz::Tz,
        after: DateTime<Utc>,
        rebase: bool,
    ) -> Option<DateTime<Utc>> {
        let (mut parts, until) = self.unlimited()?;
        let after_wall = wall_clock(after, tz)?;
        let start_wall = wall_clock(series_start, tz)?;
        let mut rule = RRule::<Unvalidated>::from_str(&parts.join(";")).ok()?;
        // What a monthly or yearly rule takes from its start besides the time of day (the day
        // of the month, and the month), written out, so that the start can be moved.
        let defaults = start_defaults(&rule, start_wall, self.is_preset());
        if !defaults.is_empty() {
            parts.extend(defaults.iter().map(String::as_str));
            rule = RRule::<Unvalidated>::from_str(&parts.join(";")).ok()?;
        }
        let start_wall = if rebase {
            rebased(
                start_wall,
                after_wall - chrono::Duration::hours(26),
                rule.get_freq(),
                rule.get_interval(),
            )
        } else {
            start_wall
        };
        let set: RRuleSet = rule.build(start_wall).ok()?;
        // Wall-clock order and real order differ by at most the largest change of a zone's
        // offset (a day, when Samoa crossed the date line; 26 hours to be safe), and inside a
        // gap placed times can even run backwards. So: every occurrence whose wall-clock time
        // is within 26 hours of `after`'s is placed, and the earliest really after `after`
        // wins; past that window wall order is real order, and the first one there ends the
        // search. The rule is read a page at a time from the window's start (the rule engine's
        // `after` applies to `all`, not to its iterator).
        let window = chrono::Duration::hours(26);
        let last_wall = after_wall + window;
        let mut cursor = after_wall - window;
        let mut best: Option<DateTime<Utc>> = None;
        for _ in 0..MAX_PAGES {
            let page = set.clone().after(cursor).all(PAGE);
            for wall in &page.dates {
                let at = place(tz, wall.naive_utc())?;
                if at > after && best.is_none_or(|b| at < b) {
                    best = Some(at);
                }
                if *wall > last_wall {
                    return best.filter(|b| until.is_none_or(|u| *b <= u) && time::in_range(b));
                }
            }
            match page.dates.last() {
                Some(last) if page.dates.len() == usize::from(PAGE) => {
                    cursor = *last + chrono::Duration::seconds(1);
                }
                // The rule has no more occurrences.
                _ => break,
            }
        }
        best.filter(|b| until.is_none_or(|u| *b <= u) && time::in_range(b))
    }

    /// The rule's parts without COUNT and UNTIL, which the callers apply themselves, and its
    /// UNTIL; `None` when the UNTIL cannot be read.
    fn unlimited(&self) -> Option<(Vec<&str>, Option<DateTime<Utc>>)> {
        let mut until = None;
        let mut parts = Vec::new();
        for part in self.rrule.split(';') {
            let upper = part.trim().to_ascii_uppercase();
            if upper.starts_with("COUNT=") {
                continue;
            }
            if let Some(u) = upper.strip_prefix("UNTIL=") {
                until = Some(parse_until(u)?);
                continue;
            }
            parts.push(part);
        }
        Some((parts, until))
    }
}

/// `t`'s local date and time in `tz`, as a zone-less (floating) time the rule engine expands,
/// in whole seconds like the engine's occurrences (a due date at 08:00:00.5 is the occurrence
/// at 08:00:00, not one half a second from the next).
fn wall_clock(t: DateTime<Utc>, tz: chrono_tz::Tz) -> Option<DateTime<rrule::Tz>> {
    let wall = chrono::SubsecRound::trunc_subsecs(t, 0)
        .with_timezone(&tz)
        .naive_local();
    rrule::Tz::UTC.from_local_datetime(&wall).single()
}

/// The parts a monthly or yearly rule takes from its start when it names no day (RFC 5545
/// §3.3.10: "information, not contained in the rule, necessary to determine the various
/// recurrence instance start time and dates are derived from the Start Time"): the day of the
/// month, and for a yearly rule without BYMONTH the month. Written out, they stay when the
/// start moves ([`rebased`]). The time of day is kept by moving the start by whole days.
///
/// The `monthly` and `yearly` presets keep their day where the month has it and otherwise take
/// the month's last day: a task due on the 31st recurs on 28 or 29 February, 30 April and
/// 31 March, and one due on 29 February on the 28th in other years. (An RRULE keeps RFC 5545's
/// reading, which skips such months: `FREQ=MONTHLY` from the 31st has seven a year.)
fn start_defaults(
    rule: &RRule<Unvalidated>,
    start: DateTime<rrule::Tz>,
    preset: bool,
) -> Vec<String> {
    use chrono::Datelike;
    let names_a_day = !rule.get_by_month_day().is_empty()
        || !rule.get_by_weekday().is_empty()
        || !rule.get_by_year_day().is_empty()
        || !rule.get_by_week_no().is_empty();
    let mut parts = Vec::new();
    let day = start.day();
    match rule.get_freq() {
        Frequency::Monthly if preset && day >= 29 => {
            let days: Vec<String> = (28..=day).map(|d| d.to_string()).collect();
            parts.push(format!("BYMONTHDAY={}", days.join(",")));
            parts.push("BYSETPOS=-1".to_string());
        }
        Frequency::Yearly if preset && start.month() == 2 && day == 29 => {
            parts.push("BYMONTH=2".to_string());
            parts.push("BYMONTHDAY=28,29".to_string());
            parts.push("BYSETPOS=-1".to_string());
        }
        Frequency::Monthly if !names_a_day => parts.push(format!("BYMONTHDAY={day}")),
        Frequency::Yearly if !names_a_day => {
            parts.push(format!("BYMONTHDAY={day}"));
            if rule.get_by_month().is_empty() {
                parts.push(format!("BYMONTH={}", start.month()));
            }
        }
        _ => {}
    }
    parts
}

/// The series start moved forward by whole periods of the rule (INTERVAL hours, days, weeks,
/// months or years of wall-clock time) to at least one period before `before`: the same
/// occurrences from there on, without the engine walking every one since the start (an hourly
/// series started in year 100 took 8.5 s a completion; a monthly one with 744 occurrences a
/// month, started in year 0 and moved to 9999, 13 s). Everything the engine takes from the
/// start is kept: the time of day, the weekday, the week, month or year an INTERVAL counts
/// from, and (written out by [`start_defaults`]) the day of the month and the month. A monthly
/// or yearly start moves to the first day of its month or year, at its time of day; what the
/// engine would make of that day as an occurrence of its own lies before `before` by at least a
/// period, outside any search.
fn rebased(
    start: DateTime<rrule::Tz>,
    before: DateTime<rrule::Tz>,
    freq: Frequency,
    interval: u16,
) -> DateTime<rrule::Tz> {
    use chrono::Datelike;
    let interval = i64::from(interval.max(1));
    let unit = match freq {
        Frequency::Hourly => chrono::Duration::hours(1),
        Frequency::Daily => chrono::Duration::days(1),
        Frequency::Weekly => chrono::Duration::weeks(1),
        Frequency::Monthly | Frequency::Yearly => {
            let months_per_period = if freq == Frequency::Monthly { 1 } else { 12 } * interval;
            let month_index =
                |t: DateTime<rrule::Tz>| i64::from(t.year()) * 12 + i64::from(t.month0());
            let periods = (month_index(before) - month_index(start)) / months_per_period - 1;
            if periods < 1 {
                return start;
            }
            let target = month_index(start) + periods * months_per_period;
            let (Ok(year), Ok(month0)) = (
                i32::try_from(target.div_euclid(12)),
                u32::try_from(target.rem_euclid(12)),
            ) else {
                return start;
            };
            let first = if freq == Frequency::Monthly {
                month0 + 1
            } else {
                1
            };
            return chrono::NaiveDate::from_ymd_opt(year, first, 1)
                .map(|d| d.and_time(start.time()))
                .and_then(|n| rrule::Tz::UTC.from_local_datetime(&n).single())
                .unwrap_or(start);
        }
        _ => return start,
    };
    let period = unit * i32::try_from(interval).unwrap_or(1);
    let gap = before - start - period;
    if gap <= period {
        return start;
    }
    let periods = gap.num_seconds() / period.num_seconds();
    i32::try_from(periods)
        .ok()
        .and_then(|n| start.checked_add_signed(period * n))
        .unwrap_or(start)
}

/// Why a rule's first occurrences are refused.
enum Density {
    /// None at all from the start.
    Never,
    /// More than [`DENSITY_PER_DAY`] in 24 hours.
    PerDay,
    /// Two less than an hour apart (minutes apart).
    Gap(i64),
    /// The rule engine refused the start.
    Invalid(String),
}

impl fmt::Display for Density {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Density::Never => f.write_str("the rule never produces an occurrence"),
            Density::PerDay => write!(
                f,
                "must not recur more often than hourly (more than {DENSITY_PER_DAY} occurrences in 24 hours)"
            ),
            Density::Gap(m) => write!(
                f,
                "must not recur more often than hourly (occurrences {m} minutes apart)"
            ),
            Density::Invalid(e) => write!(f, "invalid RRULE: {e}"),
        }
    }
}

/// The first [`DENSITY_PROBE`] occurrences of `rule` from `start` (wall-clock time): there must
/// be some, and HOURLY or slower is meant, whatever the FREQ: BYMINUTE and BYHOUR lists can
/// pack more into a day (FREQ=HOURLY;BYMINUTE=0,1,...,59 is every minute), or two occurrences
/// into a few minutes (FREQ=DAILY;BYHOUR=9;BYMINUTE=0,1).
///
/// With `start_occurs`, the start is an occurrence of its own (a task's due date is the
/// series' first occurrence, whether or not the rule produces it), so it is measured with them:
/// `FREQ=DAILY;BYHOUR=9;BYMINUTE=1` on a task due at 09:00 comes back a minute later.
fn density(
    rule: RRule<Unvalidated>,
    start: DateTime<rrule::Tz>,
    start_occurs: bool,
) -> Result<(), Density> {
    let mut first = rule
        .build(start)
        .map_err(|e| Density::Invalid(e.to_string()))?
        .all(DENSITY_PROBE)
        .dates;
    if start_occurs && first.first().is_some_and(|f| *f > start) {
        first.insert(0, start);
    }
    if first.is_empty() {
        return Err(Density::Never);
    }
    let per_day = usize::from(DENSITY_PER_DAY);
    if first
        .windows(per_day + 1)
        .any(|w| w[per_day] - w[0] < chrono::Duration::hours(24))
    {
        return Err(Density::PerDay);
    }
    if let Some(w) = first
        .windows(2)
        .find(|w| w[1] - w[0] < chrono::Duration::hours(1))
    {
        return Err(Density::Gap((w[1] - w[0]).num_minutes()));
    }
    Ok(())
}

/// An hourly or daily rule's days, read as a yearly rule (which the engine walks a year at a
/// time), must be frequent: an hourly rule's at least [`HOURLY_DAYS_PER_YEAR`] in a year, a
/// daily rule's at least one a year. The engine walks such a rule a day at a time between
/// occurrences, and one that names few days (BYYEARDAY=366 with BYDAY=SU, or 29 February on a
/// Monday: one day in about 28 years) cost up to a second of CPU per occurrence, at every
/// create and completion. Such a schedule is a monthly or yearly rule (with BYHOUR).
fn days_check(body: &str, freq: Frequency, start: DateTime<rrule::Tz>) -> Result<(), String> {
    let (days_needed, message) = match freq {
        Frequency::Hourly => (
            HOURLY_DAYS_PER_YEAR,
            "FREQ=HOURLY must fall on at least 12 days a year; for rarer days use FREQ=DAILY, MONTHLY or YEARLY with BYHOUR",
        ),
        Frequency::Daily => (
            2,
            "FREQ=DAILY must fall on at least one day a year; for rarer days use FREQ=MONTHLY or YEARLY",
        ),
        _ => return Ok(()),
    };
    let day_parts: Vec<&str> = body
        .split(';')
        .filter(|p| {
            let key = p.split_once('=').map_or(*p, |(k, _)| k);
            matches!(
                key,
                "BYMONTH" | "BYMONTHDAY" | "BYYEARDAY" | "BYWEEKNO" | "BYDAY" | "WKST"
            )
        })
        .collect();
    // Whole months (BYMONTH alone) are days enough; so is no day part at all.
    if day_parts
        .iter()
        .all(|p| p.starts_with("WKST=") || p.starts_with("BYMONTH="))
    {
        return Ok(());
    }
    let days = RRule::<Unvalidated>::from_str(&format!("FREQ=YEARLY;{}", day_parts.join(";")))
        .and_then(|r| r.build(start))
        .map_err(|e| format!("invalid RRULE: {e}"))?
        .all(days_needed)
        .dates;
    match (days.first(), days.last()) {
        (Some(first), Some(last))
            if days.len() == usize::from(days_needed)
                && *last - *first < chrono::Duration::days(366) =>
        {
            Ok(())
        }
        _ => Err(message.to_string()),
    }
}

/// The fewest days a year an hourly rule may fall on (see [`days_check`]).
const HOURLY_DAYS_PER_YEAR: u16 = 12;

/// Positions BYSETPOS may name at most: each is looked for in every period's set.
const MAX_SET_POSITIONS: usize = 10;

/// Occurrences of a new rule looked at for its density, and the most it may have in 24 hours.
const DENSITY_PROBE: u16 = 25;
const DENSITY_PER_DAY: u16 = 24;

/// Occurrences read from the rule engine at a time.
const PAGE: u16 = 100;
/// Pages read for one next occurrence at most: 52 hours of even a minute-by-minute rule.
const MAX_PAGES: usize = 32;

/// An RRULE's UNTIL value (checked at parse time to be `YYYYMMDDTHHMMSSZ`).
fn parse_until(v: &str) -> Option<DateTime<Utc>> {
    chrono::NaiveDateTime::parse_from_str(v.trim_end_matches('Z'), "%Y%m%dT%H%M%S")
        .ok()
        .map(|n| n.and_utc())
}

/// A wall-clock time in `tz`, as RFC 5545 §3.3.5 reads it: the earlier of two, and inside a
/// gap, with the UTC offset in force just before the gap.
pub fn place(tz: chrono_tz::Tz, wall: chrono::NaiveDateTime) -> Option<DateTime<Utc>> {
    use chrono::offset::LocalResult;
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Some(first.with_timezone(&Utc)),
        LocalResult::None => {
            // Step back to the last wall-clock time before the gap (gaps are whole quarter
            // hours, and at most a day long) and read `wall` with that time's offset.
            let quarter = chrono::Duration::minutes(15);
            let mut probe = wall;
            for _ in 0..(4 * 26) {
                probe -= quarter;
                if let Some(before) = tz.from_local_datetime(&probe).earliest() {
                    let offset = chrono::Offset::fix(before.offset());
                    return Some((wall - offset).and_utc());
                }
            }
            None
        }
    }
}

/// What RFC 5545 §3.3.10 says of a rule's parts that the rule engine lets through (it would
/// then quietly ignore them or repeat daily). Returns the rule with empty parts (`;;`) dropped.
fn rfc5545_checks(body: &str) -> Result<String, String> {
    let parts: Vec<(&str, &str)> = body
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let get = |name: &str| parts.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    if let Some((k, _)) = parts.iter().find(|(_, v)| v.trim().is_empty()) {
        return Err(format!("{k} needs a value"));
    }
    if get("BYSETPOS").is_some_and(|v| v.split(',').count() > MAX_SET_POSITIONS) {
        return Err(format!(
            "BYSETPOS may name {MAX_SET_POSITIONS} positions at most"
        ));
    }
    if let Some(days) = get("BYDAY")
        && days.split(',').any(|d| {
            let n = d.trim().trim_end_matches(|c: char| c.is_ascii_alphabetic());
            !n.is_empty()
                && n.trim_start_matches(['+', '-'])
                    .parse::<u32>()
                    .is_ok_and(|n| n == 0)
        })
    {
        return Err(format!(
            "BYDAY positions run from 1 to 53 or -53 to -1 (got {days})"
        ));
    }
    if get("COUNT").is_some() && get("UNTIL").is_some() {
        return Err("COUNT and UNTIL cannot both be given".into());
    }
    if let Some(until) = get("UNTIL") {
        let b = until.as_bytes();
        let shape = b.len() == 16
            && b[8] == b'T'
            && b[15] == b'Z'
            && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
        if !shape {
            return Err(format!(
                "UNTIL must be a UTC date-time such as 20270101T090000Z (got {until})"
            ));
        }
    }
    if let Some(until) = get("UNTIL")
        && until < "19000101T000000Z"
    {
        return Err(format!("UNTIL must be in 1900 or later (got {until})"));
    }
    // RFC 5545: BYSETPOS picks among the set another BYxxx part makes.
    if get("BYSETPOS").is_some()
        && !parts
            .iter()
            .any(|(k, _)| k.starts_with("BY") && *k != "BYSETPOS")
    {
        return Err("BYSETPOS needs another BYxxx part (such as BYDAY) to choose from".into());
    }
    let freq = get("FREQ").unwrap_or_default();
    if let Some(days) = get("BYDAY")
        && !matches!(freq, "MONTHLY" | "YEARLY")
        && days.split(',').any(|d| {
            d.trim()
                .starts_with(|c: char| c.is_ascii_digit() || c == '+' || c == '-')
        })
    {
        return Err(format!(
            "BYDAY with a number (like 1MO or -1FR) needs FREQ=MONTHLY or YEARLY (got FREQ={freq})"
        ));
    }
    // RFC 5545 §3.3.10: BYWEEKNO only in a YEARLY rule; BYYEARDAY not in a DAILY, WEEKLY or
    // MONTHLY one (nor, here, in an HOURLY one: see `days_check`).
    if get("BYWEEKNO").is_some() && freq != "YEARLY" {
        return Err(format!("BYWEEKNO needs FREQ=YEARLY (got FREQ={freq})"));
    }
    if get("BYYEARDAY").is_some() && freq != "YEARLY" {
        return Err(format!("BYYEARDAY needs FREQ=YEARLY (got FREQ={freq})"));
    }
    for (name, max) in [
        ("BYMONTHDAY", 31),
        ("BYYEARDAY", 366),
        ("BYWEEKNO", 53),
        ("BYSETPOS", 366),
    ] {
        if let Some(list) = get(name) {
            for v in list.split(',') {
                match v.trim().parse::<i32>() {
                    Ok(n) if n != 0 && n.abs() <= max => {}
                    _ => {
                        return Err(format!(
                            "{name} values must be 1 to {max} or -{max} to -1 (got {v})"
                        ));
                    }
                }
            }
        }
    }
    Ok(parts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";"))
}

impl RecurrenceRule {
    /// The rule's UNTIL, if any.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.unlimited().and_then(|(_, until)| until)
    }

    /// Checks the rule against the series it is set on: it started at `series_start` (the
    /// first occurrence's due time) in `tz`, and the task it is set on is due at `from`. The
    /// rule's first occurrences from that start must be hourly or slower (the rule's own check
    /// read them from a fixed start), and it must have an occurrence after `from`: a rule
    /// whose UNTIL has passed, or that never falls on the series' days and hours
    /// (FREQ=HOURLY;INTERVAL=2;BYHOUR=9,11 for a task due at 10:00), would end the series at
    /// its next completion, which is never what the client meant.
    ///
    /// With `until_ends_it`, a `from` past UNTIL is no error: the series ends there, as the
    /// rule says (a due date moved past UNTIL).
    pub fn check_schedule(
        &self,
        series_start: DateTime<Utc>,
        from: DateTime<Utc>,
        tz: chrono_tz::Tz,
        until_ends_it: bool,
    ) -> Result<(), FieldError> {
        let err = |m: String| FieldError::new("recurrence_rule", m);
        if let Some(until) = self.until()
            && until < from
        {
            if until_ends_it {
                return Ok(());
            }
            return Err(err(format!(
                "UNTIL ({}) is before the task's due date ({}): the series would end at once",
                time::format_utc(&until),
                time::format_utc(&from)
            )));
        }
        let rule = self
            .unlimited()
            .and_then(|(parts, _)| RRule::<Unvalidated>::from_str(&parts.join(";")).ok());
        if let (Some(rule), Some(wall)) = (rule, wall_clock(series_start, tz)) {
            match density(rule, wall, true) {
                Ok(()) | Err(Density::Never) => {}
                Err(e) => return Err(err(e.to_string())),
            }
        }
        // (In the last year before 10000 a series may end for want of room: not refused.)
        let near_the_end = !time::in_range(&(from + chrono::Duration::days(366)));
        if !near_the_end && self.next_after(series_start, tz, from).is_none() {
            return Err(err(format!(
                "the rule has no occurrence after the task's due date ({}) in {tz}: the series would end at once",
                time::format_utc(&from)
            )));
        }
        Ok(())
    }

    /// The rule's COUNT, if any.
    pub fn count(&self) -> Option<u32> {
        RRule::<Unvalidated>::from_str(&self.rrule)
            .ok()
            .and_then(|r| r.get_count())
    }
}

impl fmt::Display for RecurrenceRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// What the next occurrence is computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecurrenceAnchor {
    /// From the schedule: the next slot after the current due date (a late completion does not
    /// shift the series).
    #[default]
    Schedule,
    /// From the completion time: the next slot after the moment the task was completed.
    Completion,
}

impl RecurrenceAnchor {
    /// Wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            RecurrenceAnchor::Schedule => "schedule",
            RecurrenceAnchor::Completion => "completion",
        }
    }
}

impl FromStr for RecurrenceAnchor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "schedule" => Ok(Self::Schedule),
            "completion" => Ok(Self::Completion),
            _ => Err("must be one of: schedule, completion".into()),
        }
    }
}

/// Convenience for tests and callers holding a local wall-clock time.
pub fn local_to_utc(
    tz: chrono_tz::Tz,
    y: i32,
    mo: u32,
    d: u32,
    h: u32,
    mi: u32,
) -> Option<DateTime<Utc>> {
    tz.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .map(|dt| dt.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    #[test]
    fn presets_and_rrules_parse() {
        assert_eq!(
            RecurrenceRule::parse("Weekly").expect("valid").as_str(),
            "weekly"
        );
        let r = RecurrenceRule::parse("rrule:freq=monthly;bymonthday=-1").expect("valid");
        assert_eq!(r.as_str(), "FREQ=MONTHLY;BYMONTHDAY=-1");
        assert!(RecurrenceRule::parse("FREQ=MONTHLY;BYDAY=1MO,-1FR").is_ok());
        assert!(RecurrenceRule::parse("FREQ=MONTHLY;BYDAY=TU;BYSETPOS=2").is_ok());
    }

    #[test]
    fn bad_rules_are_rejected_with_a_reason() {
        for bad in [
            "",
            "fortnightly",
            "FREQ=SOMETIMES",
            "FREQ=DAILY;INTERVAL=0",
            "FREQ=MINUTELY",
            "DTSTART:20260101T090000Z\nRRULE:FREQ=DAILY",
            "FREQ=WEEKLY;BYDAY=XX",
            "FREQ=MONTHLY;BYMONTHDAY=32",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
        ] {
            let e = RecurrenceRule::parse(bad).expect_err(bad);
            assert_eq!(e.field, "recurrence_rule");
        }
    }

    #[test]
    fn nine_oclock_stays_nine_across_dst() {
        // DST starts in New York on 2026-03-08.
        let r = RecurrenceRule::parse("daily").expect("valid");
        let start = local_to_utc(New_York, 2026, 3, 6, 9, 0).expect("time");
        let mut cur = start;
        for day in 7..=10 {
            cur = r.next_after(start, New_York, cur).expect("next");
            assert_eq!(
                cur,
                local_to_utc(New_York, 2026, 3, day, 9, 0).expect("time")
            );
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("test datetime")
            .with_timezone(&Utc)
    }

    #[test]
    fn a_day_whose_midnight_does_not_exist_keeps_its_occurrence() {
        // Santiago springs forward at midnight on 2026-09-06 (00:00 -04 becomes 01:00 -03).
        let tz = chrono_tz::America::Santiago;
        let r = RecurrenceRule::parse("daily").expect("valid");
        let start = utc("2026-09-05T04:00:00Z"); // 00:00 local
        let next = r.next_after(start, tz, start).expect("next");
        assert_eq!(
            next,
            utc("2026-09-06T04:00:00Z"),
            "01:00 local, not a day later"
        );
        let after = r.next_after(start, tz, next).expect("after");
        assert_eq!(after, utc("2026-09-07T03:00:00Z"), "midnight again");
    }

    #[test]
    fn times_in_a_gap_or_a_fold_are_placed_as_rfc_5545_says() {
        // New York: 02:30 does not exist on 2026-03-08 (read as 03:30 EDT); 01:30 happens
        // twice on 2026-11-01 (the first, EDT, is meant).
        let r = RecurrenceRule::parse("daily").expect("valid");
        let start = local_to_utc(New_York, 2026, 3, 7, 2, 30).expect("time");
        assert_eq!(
            r.next_after(start, New_York, start),
            Some(utc("2026-03-08T07:30:00Z"))
        );
        let start = local_to_utc(New_York, 2026, 10, 31, 1, 30).expect("time");
        assert_eq!(
            r.next_after(start, New_York, start),
            Some(utc("2026-11-01T05:30:00Z"))
        );
        // An hourly rule through the gap: 01:00 EST, then 03:00 EDT (02:00 read as 03:00),
        // then 04:00 EDT; nothing twice.
        let r = RecurrenceRule::parse("FREQ=HOURLY").expect("valid");
        let start = utc("2026-03-08T06:00:00Z");
        let second = r.next_after(start, New_York, start).expect("second");
        let third = r.next_after(start, New_York, second).expect("third");
        assert_eq!(
            (second, third),
            (utc("2026-03-08T07:00:00Z"), utc("2026-03-08T08:00:00Z"))
        );
        // Samoa skipped 2011-12-30 altogether: a daily series goes from the 29th to the 31st.
        let apia = chrono_tz::Pacific::Apia;
        let r = RecurrenceRule::parse("daily").expect("valid");
        let start = utc("2011-12-29T19:00:00Z"); // 09:00 -10
        let next = r.next_after(start, apia, start).expect("next");
        assert_eq!(next, utc("2011-12-30T19:00:00Z"), "09:00 +14 on the 31st");
        assert_eq!(
            r.next_after(start, apia, next),
            Some(utc("2011-12-31T19:00:00Z"))
        );
    }

    #[test]
    fn a_long_series_goes_on() {
        // Years into a daily series and a month into an hourly one: the next occurrence is
        // looked for around `after`, not among the first few hundred from the start.
        let daily = RecurrenceRule::parse("daily").expect("valid");
        let start = local_to_utc(New_York, 2026, 1, 1, 9, 0).expect("time");
        let late = local_to_utc(New_York, 2028, 7, 1, 9, 0).expect("time");
        assert_eq!(
            daily.next_after(start, New_York, late),
            local_to_utc(New_York, 2028, 7, 2, 9, 0)
        );
        let hourly = RecurrenceRule::parse("FREQ=HOURLY").expect("valid");
        let start = utc("2026-01-01T00:00:00Z");
        let late = utc("2026-02-15T07:00:00Z");
        assert_eq!(
            hourly.next_after(start, chrono_tz::UTC, late),
            Some(utc("2026-02-15T08:00:00Z"))
        );
        // A dense rule (every 10 minutes, stored before such rules were refused) far from
        // its start.
        let dense = RecurrenceRule::from_stored("FREQ=HOURLY;BYMINUTE=0,10,20,30,40,50");
        assert_eq!(
            dense.next_after(start, chrono_tz::UTC, late),
            Some(utc("2026-02-15T07:10:00Z"))
        );
    }

    #[test]
    fn a_series_far_from_its_start_keeps_its_phase() {
        // Every 5 hours from 03:00 on 0100-01-01: the slots are the hours since then that are
        // multiples of 5, however far on; every other week on Mondays and Fridays from a
        // Monday in 1970.
        let r = RecurrenceRule::parse("FREQ=HOURLY;INTERVAL=5").expect("valid");
        let start = utc("0100-01-01T03:00:00Z");
        let after = utc("2026-11-27T22:00:00Z");
        let next = r.next_after(start, chrono_tz::UTC, after).expect("next");
        let hours = (next - start).num_hours();
        assert_eq!(
            (hours % 5, (next - after).num_hours() < 5),
            (0, true),
            "{next}"
        );
        assert_eq!((next - start).num_seconds() % 3600, 0);
        let r = RecurrenceRule::parse("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,FR").expect("valid");
        let start = utc("1970-01-05T09:00:00Z"); // a Monday
        let mut cur = utc("2026-11-27T12:00:00Z"); // a Friday, after 09:00
        let mut got = Vec::new();
        for _ in 0..4 {
            cur = r.next_after(start, chrono_tz::UTC, cur).expect("next");
            got.push(cur);
        }
        for d in &got {
            let weeks = (*d - start).num_days() / 7;
            assert_eq!(weeks % 2, 0, "{d} is in an off week");
        }
        assert_eq!(got[0].format("%a %H:%M").to_string(), "Mon 09:00");
    }

    #[test]
    fn hourly_rules_on_rare_days_are_refused() {
        // Each of these cost the engine up to a second a create (it walks an hourly rule a
        // day at a time); the same schedules as daily or yearly rules are accepted.
        let rare = "at least 12 days a year";
        let yearly = "needs FREQ=YEARLY";
        for (rule, says) in [
            (
                "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO;BYHOUR=9",
                rare,
            ),
            ("FREQ=HOURLY;BYMONTH=12;BYMONTHDAY=25", rare),
            ("FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30", rare),
            (
                "FREQ=HOURLY;BYYEARDAY=366;BYHOUR=23;BYMINUTE=59;BYSECOND=59;BYDAY=SU",
                yearly,
            ),
            ("FREQ=DAILY;BYYEARDAY=100", yearly),
            ("FREQ=MONTHLY;BYWEEKNO=3", yearly),
        ] {
            let e = RecurrenceRule::parse(rule).expect_err(rule);
            assert!(e.message.contains(says), "{rule}: {}", e.message);
        }
        for rule in [
            "FREQ=HOURLY;INTERVAL=3;BYMONTH=6,7,8",
            "FREQ=HOURLY;BYDAY=MO,TU,WE,TH,FR;BYHOUR=9,13,17",
            "FREQ=HOURLY;BYMONTHDAY=1",
            "FREQ=DAILY;BYMONTH=12;BYMONTHDAY=25;BYHOUR=0,6,12,18",
            "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYDAY=MO",
            "FREQ=YEARLY;BYYEARDAY=366;BYDAY=SU;BYHOUR=23",
        ] {
            RecurrenceRule::parse(rule).unwrap_or_else(|e| panic!("{rule}: {}", e.message));
        }
    }

    #[test]
    fn moving_the_start_of_a_monthly_or_yearly_series_changes_no_occurrence() {
        // The next occurrence with the series start moved near `after` and without: equal,
        // for rules that take their day or month from the start, count their INTERVAL from it,
        // or pick days by position, from starts on the 31st, on 29 February and at midnight.
        let rules = [
            "monthly",
            "yearly",
            "FREQ=MONTHLY",
            "FREQ=MONTHLY;INTERVAL=5",
            "FREQ=MONTHLY;BYDAY=-1FR",
            "FREQ=MONTHLY;BYMONTHDAY=-1",
            "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=2",
            "FREQ=MONTHLY;INTERVAL=2;BYMONTH=3,8",
            "FREQ=MONTHLY;BYMONTHDAY=1,15;BYHOUR=0,12",
            "FREQ=YEARLY",
            "FREQ=YEARLY;INTERVAL=3",
            "FREQ=YEARLY;BYMONTH=3",
            "FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
            "FREQ=YEARLY;BYYEARDAY=100",
            "FREQ=YEARLY;INTERVAL=2;BYMONTH=11;BYDAY=4TH",
        ];
        let starts = [
            (chrono_tz::Europe::Paris, 2000, 1, 31, 9, 30),
            (chrono_tz::America::Santiago, 2000, 2, 29, 0, 0),
            (New_York, 2001, 7, 15, 23, 45),
        ];
        let offsets = [1, 37, 400, 3_670, 11_050];
        for rule in rules {
            let r = RecurrenceRule::parse(rule).expect(rule);
            for (tz, y, mo, d, h, mi) in starts {
                let start = local_to_utc(tz, y, mo, d, h, mi).expect("start");
                for days in offsets {
                    let after = start + chrono::Duration::days(days);
                    assert_eq!(
                        r.next_after_from(start, tz, after, true),
                        r.next_after_from(start, tz, after, false),
                        "{rule} from {start} in {tz}, after {after}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_monthly_and_yearly_presets_fall_back_to_the_last_day_of_a_short_month() {
        let paris = chrono_tz::Europe::Paris;
        let series = |rule: &str, start: DateTime<Utc>, n: usize| {
            let r = RecurrenceRule::parse(rule).expect(rule);
            let mut due = start;
            (0..n)
                .map(|_| {
                    due = r.next_after(start, paris, due).expect("next");
                    due.with_timezone(&paris)
                        .format("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .collect::<Vec<_>>()
        };
        let jan31 = local_to_utc(paris, 2027, 1, 31, 9, 0).expect("time");
        assert_eq!(
            series("monthly", jan31, 4),
            [
                "2027-02-28 09:00",
                "2027-03-31 09:00",
                "2027-04-30 09:00",
                "2027-05-31 09:00"
            ]
        );
        let jan30 = local_to_utc(paris, 2028, 1, 30, 9, 0).expect("time");
        assert_eq!(
            series("monthly", jan30, 2),
            ["2028-02-29 09:00", "2028-03-30 09:00"]
        );
        let feb29 = local_to_utc(paris, 2028, 2, 29, 9, 0).expect("time");
        assert_eq!(
            series("yearly", feb29, 4),
            [
                "2029-02-28 09:00",
                "2030-02-28 09:00",
                "2031-02-28 09:00",
                "2032-02-29 09:00"
            ]
        );
        // Days every month has, and an RRULE, keep RFC 5545's reading.
        let jan15 = local_to_utc(paris, 2027, 1, 15, 9, 0).expect("time");
        assert_eq!(series("monthly", jan15, 1), ["2027-02-15 09:00"]);
        assert_eq!(
            series("FREQ=MONTHLY", jan31, 2),
            ["2027-03-31 09:00", "2027-05-31 09:00"]
        );
    }

    #[test]
    fn a_dense_monthly_series_from_year_0_reaches_year_9999() {
        // Every hour of every day of every month (744 occurrences a month), started in year 0
        // and moved to 9999: the engine once walked the 89 million occurrences in between
        // (13 s, every completion).
        let hours = (0..24).map(|h| h.to_string()).collect::<Vec<_>>().join(",");
        let days = (1..=31)
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let r =
            RecurrenceRule::from_stored(&format!("FREQ=MONTHLY;BYMONTHDAY={days};BYHOUR={hours}"));
        let start = utc("0000-01-01T00:00:00Z");
        let after = utc("9999-06-01T09:00:00Z");
        assert_eq!(
            r.next_after(start, chrono_tz::UTC, after),
            Some(utc("9999-06-01T10:00:00Z"))
        );
        let yearly = RecurrenceRule::parse("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29").expect("valid");
        assert_eq!(
            yearly.next_after(start, chrono_tz::UTC, after),
            None,
            "no 29 February after June 9999"
        );
        assert_eq!(
            yearly.next_after(start, chrono_tz::UTC, utc("2026-11-27T00:00:00Z")),
            Some(utc("2028-02-29T00:00:00Z"))
        );
    }

    #[test]
    fn rules_denser_than_hourly_are_refused() {
        for rule in [
            "FREQ=DAILY;BYHOUR=9;BYMINUTE=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23",
            "FREQ=HOURLY;INTERVAL=2;BYMINUTE=0,1",
            "FREQ=DAILY;BYHOUR=9,17;BYMINUTE=0,30",
            "FREQ=HOURLY;BYMINUTE=0,30",
            "FREQ=HOURLY;BYMINUTE=0,1,2,3,4,5,6,7,8,9",
            "FREQ=DAILY;BYHOUR=9;BYSECOND=0,30",
            "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,30",
        ] {
            let e = RecurrenceRule::parse(rule).expect_err(rule);
            assert!(
                e.message.contains("hourly") || e.message.contains("BYSECOND"),
                "{rule}: {}",
                e.message
            );
        }
        for rule in [
            "FREQ=HOURLY",
            "FREQ=DAILY;BYHOUR=9,10,17;BYMINUTE=0",
            "FREQ=DAILY;BYHOUR=9;BYMINUTE=0;BYSECOND=0",
        ] {
            assert!(RecurrenceRule::parse(rule).is_ok(), "{rule}");
        }
    }

    #[test]
    fn inside_a_gap_the_earliest_next_moment_wins() {
        // Lord Howe springs forward half an hour at 02:00 on 2026-10-04 (+10:30 to +11):
        // 02:00 and 02:20 are read as 02:30 and 02:50, and 02:40 is real. Every 20 minutes
        // from 01:40, nothing may be skipped or repeated.
        let tz = chrono_tz::Australia::Lord_Howe;
        let r = RecurrenceRule::from_stored("FREQ=HOURLY;BYMINUTE=0,20,40");
        let start = utc("2026-10-03T15:10:00Z"); // 01:40 +10:30
        let mut got = vec![start];
        for _ in 0..4 {
            let last = *got.last().expect("one");
            got.push(r.next_after(start, tz, last).expect("next"));
        }
        let want: Vec<DateTime<Utc>> = [
            "2026-10-03T15:10:00Z",
            "2026-10-03T15:30:00Z",
            "2026-10-03T15:40:00Z",
            "2026-10-03T15:50:00Z",
            "2026-10-03T16:00:00Z",
        ]
        .iter()
        .map(|s| utc(s))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn until_is_a_moment_not_a_wall_clock_time() {
        // 09:00 in New York is 14:00 UTC: an UNTIL of 12:00 UTC on the 3rd excludes the 3rd.
        let r = RecurrenceRule::parse("FREQ=DAILY;UNTIL=20260103T120000Z").expect("valid");
        let start = local_to_utc(New_York, 2026, 1, 1, 9, 0).expect("time");
        let second = r.next_after(start, New_York, start).expect("second");
        assert_eq!(second, utc("2026-01-02T14:00:00Z"));
        assert_eq!(r.next_after(start, New_York, second), None);
    }

    #[test]
    fn count_is_left_to_the_caller() {
        let r = RecurrenceRule::parse("FREQ=DAILY;COUNT=2").expect("valid");
        assert_eq!(r.count(), Some(2));
        let start = local_to_utc(New_York, 2026, 1, 1, 9, 0).expect("time");
        let second = r.next_after(start, New_York, start).expect("second");
        // The series counts its occurrences (Task::next_occurrence); the expansion goes on.
        assert!(r.next_after(start, New_York, second).is_some());
    }

    #[test]
    fn february_30_is_skipped() {
        let r = RecurrenceRule::parse("FREQ=MONTHLY;BYMONTHDAY=30").expect("valid");
        let start = local_to_utc(New_York, 2026, 1, 30, 9, 0).expect("time");
        let next = r.next_after(start, New_York, start).expect("next");
        assert_eq!(
            next,
            local_to_utc(New_York, 2026, 3, 30, 9, 0).expect("time")
        );
    }

    #[test]
    fn rules_rfc_5545_forbids_are_refused_with_our_words() {
        for (rule, says) in [
            ("FREQ=WEEKLY;BYDAY=1MO", "needs FREQ=MONTHLY or YEARLY"),
            ("FREQ=DAILY;BYDAY=-1FR", "needs FREQ=MONTHLY or YEARLY"),
            (
                "FREQ=DAILY;COUNT=2;UNTIL=20270105T000000Z",
                "COUNT and UNTIL",
            ),
            ("FREQ=DAILY;UNTIL=20270101", "UNTIL must be a UTC date-time"),
            (
                "FREQ=DAILY;UNTIL=20270101T000000",
                "UNTIL must be a UTC date-time",
            ),
            ("FREQ=MONTHLY;BYMONTHDAY=0", "BYMONTHDAY values"),
            ("FREQ=MONTHLY;BYMONTHDAY=32", "BYMONTHDAY values"),
            ("FREQ=YEARLY;BYSETPOS=0;BYDAY=MO", "BYSETPOS values"),
            ("FREQ=MONTHLY;BYSETPOS=1", "BYSETPOS needs another"),
            ("FREQ=DAILY;UNTIL=18991231T000000Z", "1900 or later"),
        ] {
            let e = RecurrenceRule::parse(rule).expect_err(rule);
            assert!(e.message.contains(says), "{rule}: {}", e.message);
        }
        // What the RFC allows still parses; empty parts are dropped.
        for rule in [
            "FREQ=MONTHLY;BYDAY=1MO",
            "FREQ=YEARLY;BYDAY=-1FR",
            "FREQ=WEEKLY;BYDAY=MO,FR",
            "FREQ=DAILY;UNTIL=20270101T090000Z",
        ] {
            assert!(RecurrenceRule::parse(rule).is_ok(), "{rule}");
        }
        assert_eq!(
            RecurrenceRule::parse("FREQ=DAILY;;INTERVAL=2;")
                .expect("ok")
                .as_str(),
            "FREQ=DAILY;INTERVAL=2"
        );
    }
}
