//! Joint inspections: tasks on one entity in overlapping windows from
//! different plans become one visit.
#![allow(clippy::unwrap_used)]

use chrono::NaiveDate;
use inspection::joint::{self, PlannedTask};
use inspection::plan::Window;

fn window(start: &str, end: &str) -> Window {
    let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    Window {
        start: day(start),
        end: day(end),
    }
}

fn task(task: i64, plan: &str, uscc: &str, w: Window, team: &[&str]) -> PlannedTask {
    PlannedTask {
        task,
        plan: plan.to_string(),
        uscc: uscc.to_string(),
        window: w,
        inspectors: team.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn overlapping_plans_on_one_entity_merge_into_one_visit() {
    let tasks = vec![
        task(
            1,
            "samr-1",
            "X",
            window("2026-09-01", "2026-10-31"),
            &["a", "b"],
        ),
        task(
            2,
            "ecology-1",
            "X",
            window("2026-10-01", "2026-12-31"),
            &["c", "d"],
        ),
        task(
            3,
            "emergency-1",
            "X",
            window("2026-10-15", "2026-11-15"),
            &["e", "b"],
        ),
        // another entity: its own visit
        task(
            4,
            "samr-1",
            "Y",
            window("2026-09-01", "2026-10-31"),
            &["a", "b"],
        ),
    ];
    let visits = joint::merge(&tasks);
    assert_eq!(visits.len(), 2);
    let x = &visits[0];
    assert_eq!(x.uscc, "X");
    assert_eq!(x.tasks, vec![1, 2, 3]);
    assert_eq!(x.window, window("2026-10-15", "2026-10-31"));
    assert_eq!(x.team, vec!["a", "b", "c", "d", "e"]);
    assert_eq!(joint::saved(tasks.len(), &visits), 2);
}

#[test]
fn disjoint_windows_and_the_same_plan_do_not_merge() {
    let tasks = vec![
        task(
            1,
            "samr-1",
            "X",
            window("2026-01-01", "2026-03-31"),
            &["a", "b"],
        ),
        task(
            2,
            "ecology-1",
            "X",
            window("2026-04-01", "2026-06-30"),
            &["c", "d"],
        ),
        task(
            3,
            "ecology-1",
            "X",
            window("2026-04-01", "2026-06-30"),
            &["c", "d"],
        ),
    ];
    let visits = joint::merge(&tasks);
    assert_eq!(visits.len(), 3);
    assert_eq!(joint::saved(tasks.len(), &visits), 0);
}

#[test]
fn a_merged_window_only_takes_tasks_that_fit_it() {
    // 1 and 2 share October; 3 overlaps 1 but not the shared October window
    let tasks = vec![
        task(1, "p1", "X", window("2026-09-01", "2026-10-31"), &["a"]),
        task(2, "p2", "X", window("2026-10-01", "2026-12-31"), &["b"]),
        task(3, "p3", "X", window("2026-09-10", "2026-09-20"), &["c"]),
    ];
    let visits = joint::merge(&tasks);
    for visit in &visits {
        for t in &visit.tasks {
            let original = tasks.iter().find(|x| x.task == *t).unwrap();
            assert!(original.window.start <= visit.window.start);
            assert!(visit.window.end <= original.window.end);
        }
    }
    assert_eq!(visits.iter().map(|v| v.tasks.len()).sum::<usize>(), 3);
}
