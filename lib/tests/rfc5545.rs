//! The recurrence engine against the examples of RFC 5545 §3.8.5.3, expanded in
//! America/New_York the way the recurrence consumer expands them: the series start is the first
//! occurrence, each next one is the first strictly after the previous, and COUNT bounds the
//! number of occurrences.

use chrono::{DateTime, Utc};
use chrono_tz::America::New_York;
use tasks::domain::RecurrenceRule;
use tasks::domain::recurrence::local_to_utc;

fn ny(y: i32, mo: u32, d: u32, h: u32) -> DateTime<Utc> {
    local_to_utc(New_York, y, mo, d, h, 0).expect("valid local time")
}

/// The first `max` occurrences (fewer when the rule ends), starting at `start`. COUNT is applied
/// as the series applies it: to the number of occurrences, the first included.
fn expand(rule: &str, start: DateTime<Utc>, max: usize) -> Vec<DateTime<Utc>> {
    let r = RecurrenceRule::parse(rule).expect("valid rule");
    let max = r.count().map_or(max, |c| max.min(c as usize));
    let mut out = vec![start];
    while out.len() < max {
        match r.next_after(start, New_York, *out.last().expect("non-empty")) {
            Some(n) => out.push(n),
            None => break,
        }
    }
    out
}

fn days(dates: &[DateTime<Utc>]) -> Vec<String> {
    dates
        .iter()
        .map(|d| {
            d.with_timezone(&New_York)
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .collect()
}

fn expect(list: &[(i32, u32, u32)]) -> Vec<String> {
    list.iter()
        .map(|(y, m, d)| format!("{y}-{m:02}-{d:02} 09:00"))
        .collect()
}

#[test]
fn daily_for_10_occurrences() {
    let got = expand("FREQ=DAILY;COUNT=10", ny(1997, 9, 2, 9), 50);
    assert_eq!(
        days(&got),
        expect(&(2..=11).map(|d| (1997, 9, d)).collect::<Vec<_>>())
    );
}

#[test]
fn daily_until_december_24_keeps_9am_across_the_dst_change() {
    let got = expand("FREQ=DAILY;UNTIL=19971224T000000Z", ny(1997, 9, 2, 9), 500);
    assert_eq!(got.len(), 113);
    assert!(
        days(&got).iter().all(|d| d.ends_with("09:00")),
        "9:00 local on both sides of 26 October"
    );
    assert_eq!(
        days(&got).last().map(String::as_str),
        Some("1997-12-23 09:00")
    );
}

#[test]
fn every_other_day() {
    let got = expand("FREQ=DAILY;INTERVAL=2", ny(1997, 9, 2, 9), 5);
    assert_eq!(
        days(&got),
        expect(&[
            (1997, 9, 2),
            (1997, 9, 4),
            (1997, 9, 6),
            (1997, 9, 8),
            (1997, 9, 10)
        ])
    );
}

#[test]
fn weekly_on_tuesday_and_thursday_for_five_weeks() {
    let got = expand(
        "FREQ=WEEKLY;UNTIL=19971007T000000Z;WKST=SU;BYDAY=TU,TH",
        ny(1997, 9, 2, 9),
        50,
    );
    assert_eq!(
        days(&got),
        expect(&[
            (1997, 9, 2),
            (1997, 9, 4),
            (1997, 9, 9),
            (1997, 9, 11),
            (1997, 9, 16),
            (1997, 9, 18),
            (1997, 9, 23),
            (1997, 9, 25),
            (1997, 9, 30),
            (1997, 10, 2)
        ])
    );
}

#[test]
fn monthly_on_the_first_friday_for_10_occurrences() {
    let got = expand("FREQ=MONTHLY;COUNT=10;BYDAY=1FR", ny(1997, 9, 5, 9), 50);
    assert_eq!(
        days(&got),
        expect(&[
            (1997, 9, 5),
            (1997, 10, 3),
            (1997, 11, 7),
            (1997, 12, 5),
            (1998, 1, 2),
            (1998, 2, 6),
            (1998, 3, 6),
            (1998, 4, 3),
            (1998, 5, 1),
            (1998, 6, 5)
        ])
    );
}

#[test]
fn monthly_on_the_second_to_last_monday_for_6_months() {
    let got = expand("FREQ=MONTHLY;COUNT=6;BYDAY=-2MO", ny(1997, 9, 22, 9), 50);
    assert_eq!(
        days(&got),
        expect(&[
            (1997, 9, 22),
            (1997, 10, 20),
            (1997, 11, 17),
            (1997, 12, 22),
            (1998, 1, 19),
            (1998, 2, 16)
        ])
    );
}

#[test]
fn monthly_on_the_third_to_the_last_day() {
    let got = expand("FREQ=MONTHLY;BYMONTHDAY=-3", ny(1997, 9, 28, 9), 6);
    assert_eq!(
        days(&got),
        expect(&[
            (1997, 9, 28),
            (1997, 10, 29),
            (1997, 11, 28),
            (1997, 12, 29),
            (1998, 1, 29),
            (1998, 2, 26)
        ])
    );
}

#[test]
fn monthly_on_the_2nd_and_15th_for_10_occurrences() {
    let got = expand(
        "FREQ=MONTHLY;COUNT=10;BYMONTHDAY=2,15",
        ny(1997, 9, 2, 9),
        50,
    );
    assert_eq!(
        days(&got),
        expect(&[
            (1997, 9, 2),
            (1997, 9, 15),
            (1997, 10, 2),
            (1997, 10, 15),
            (1997, 11, 2),
            (1997, 11, 15),
            (1997, 12, 2),
            (1997, 12, 15),
            (1998, 1, 2),
            (1998, 1, 15)
        ])
    );
}

#[test]
fn the_last_work_day_of_the_month_with_bysetpos() {
    let got = expand(
        "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1",
        ny(1997, 9, 30, 9),
        7,
    );
    assert_eq!(
        days(&got),
        expect(&[
            (1997, 9, 30),
            (1997, 10, 31),
            (1997, 11, 28),
            (1997, 12, 31),
            (1998, 1, 30),
            (1998, 2, 27),
            (1998, 3, 31)
        ])
    );
}

#[test]
fn yearly_in_june_and_july_for_10_occurrences() {
    let got = expand("FREQ=YEARLY;COUNT=10;BYMONTH=6,7", ny(1997, 6, 10, 9), 50);
    let want: Vec<(i32, u32, u32)> = (1997..=2001)
        .flat_map(|y| [(y, 6, 10), (y, 7, 10)])
        .collect();
    assert_eq!(days(&got), expect(&want));
}

#[test]
fn wkst_changes_which_days_an_interval_2_week_covers() {
    let mo = expand(
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
        ny(1997, 8, 5, 9),
        50,
    );
    assert_eq!(
        days(&mo),
        expect(&[(1997, 8, 5), (1997, 8, 10), (1997, 8, 19), (1997, 8, 24)])
    );
    let su = expand(
        "FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
        ny(1997, 8, 5, 9),
        50,
    );
    assert_eq!(
        days(&su),
        expect(&[(1997, 8, 5), (1997, 8, 17), (1997, 8, 19), (1997, 8, 31)])
    );
}

#[test]
fn an_invalid_date_such_as_february_30_is_skipped() {
    let got = expand(
        "FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
        ny(2007, 1, 15, 9),
        50,
    );
    assert_eq!(
        days(&got),
        expect(&[
            (2007, 1, 15),
            (2007, 1, 30),
            (2007, 2, 15),
            (2007, 3, 15),
            (2007, 3, 30)
        ])
    );
}
