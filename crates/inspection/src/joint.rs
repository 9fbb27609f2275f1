//! Joint inspections (部门联合, "进一次门、查多项事"): when several plans draw
//! the same entity in overlapping windows, their tasks become one visit with
//! one team.

use serde::{Deserialize, Serialize};

use crate::plan::Window;

/// A drawn task, as the merge sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTask {
    pub task: i64,
    pub plan: String,
    pub uscc: String,
    pub window: Window,
    pub inspectors: Vec<String>,
}

/// One visit to an entity covering one or more tasks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub uscc: String,
    /// The window every merged task allows.
    pub window: Window,
    pub tasks: Vec<i64>,
    pub plans: Vec<String>,
    /// Every merged task's inspectors, once each.
    pub team: Vec<String>,
}

/// Merges tasks into visits: per entity, tasks are taken by window start and
/// joined to the open visit while the windows still share a day and the plan
/// is not already in it. Returns the visits in (entity, window) order.
pub fn merge(tasks: &[PlannedTask]) -> Vec<Visit> {
    let mut sorted: Vec<&PlannedTask> = tasks.iter().collect();
    sorted.sort_by(|a, b| {
        (a.uscc.as_str(), a.window.start, a.window.end, a.task).cmp(&(
            b.uscc.as_str(),
            b.window.start,
            b.window.end,
            b.task,
        ))
    });
    let mut visits: Vec<Visit> = Vec::new();
    for task in sorted {
        if let Some(visit) = visits.last_mut()
            && visit.uscc == task.uscc
            && visit.window.overlaps(&task.window)
            && !visit.plans.contains(&task.plan)
        {
            visit.window = Window {
                start: visit.window.start.max(task.window.start),
                end: visit.window.end.min(task.window.end),
            };
            visit.tasks.push(task.task);
            visit.plans.push(task.plan.clone());
            for inspector in &task.inspectors {
                if !visit.team.contains(inspector) {
                    visit.team.push(inspector.clone());
                }
            }
            continue;
        }
        visits.push(Visit {
            uscc: task.uscc.clone(),
            window: task.window,
            tasks: vec![task.task],
            plans: vec![task.plan.clone()],
            team: task.inspectors.clone(),
        });
    }
    visits
}

/// Visits saved by merging: tasks minus visits.
pub fn saved(tasks: usize, visits: &[Visit]) -> usize {
    tasks.saturating_sub(visits.len())
}
