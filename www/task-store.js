/*
 * The steps of recent tasks, by task id, from every snapshot (paused or
 * not), so that a task can be followed after the timeline has moved on.
 * Bounded: the oldest tasks are forgotten first. No DOM: task-card.js draws.
 */

export const MAX_TASKS = 20000;

export function createTaskStore(max = MAX_TASKS) {
  const store = new Map();            // task id -> Map(step index -> step record)
  const threadNames = new Map();      // tid -> name, from the snapshots
  let newest = null;

  /* The snapshot's threads (names) and its timeline's steps. */
  function ingest(s) {
    for (const t of Array.isArray(s.threads) ? s.threads : []) threadNames.set(t.tid, t.name);
    const steps = s.timeline && Array.isArray(s.timeline.steps) ? s.timeline.steps : [];
    for (const st of steps) {
      if (!Number.isFinite(st.task) || !Number.isInteger(st.step)) continue;
      let m = store.get(st.task);
      if (!m) {
        m = new Map();
        store.set(st.task, m);
        if (newest === null || st.task > newest) newest = st.task;
      }
      m.set(st.step, st);
    }
    /* Maps iterate in insertion order: the first keys are the oldest. */
    let drop = store.size - max;
    for (const key of store.keys()) {
      if (drop-- <= 0) break;
      store.delete(key);
    }
  }

  /* The steps seen of task id, in step order (none: []). */
  function steps(id) {
    const m = store.get(id);
    return m ? [...m.values()].sort((a, b) => a.step - b.step) : [];
  }

  /* Rows of the card: every step index from 0 to the highest seen, the
   * ones not seen as { step, missing: true }. */
  function rows(id) {
    const seen = steps(id);
    if (!seen.length) return [];
    const out = [];
    let k = 0;
    for (let i = 0; i <= seen[seen.length - 1].step; i++) {
      if (k < seen.length && seen[k].step === i) out.push(seen[k++]);
      else out.push({ step: i, missing: true });
    }
    return out;
  }

  /* found: some step of it is held; waiting: newer than any task seen;
   * gone: older, and not held (fell out, or a task without steps). */
  function status(id) {
    if (store.has(id)) return 'found';
    return newest === null || id > newest ? 'waiting' : 'gone';
  }

  function oldest() {
    for (const k of store.keys()) return k;
    return null;
  }

  return {
    ingest, steps, rows, status, oldest,
    has: (id) => store.has(id),
    newest: () => newest,
    threadName: (tid) => threadNames.get(tid),
    size: () => store.size,
  };
}
