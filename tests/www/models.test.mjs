// Unit tests of the dashboard's models (no DOM): colours, thread order and
// classes, label layout, the timeline's lanes, the task store, the charts'
// series. node --test tests/www/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coreColor, stateColor, useCssLookup, translucent, NO_CORE } from '../../www/colors.js';
import { naturalCompare, threadClass, doingClass, doingText, sortThreads, shortLabel, lockWaitText } from '../../www/thread-info.js';
import { layoutLabels } from '../../www/labels.js';
import { share, buildLanes, viewWindow, tickStep, fmtTick } from '../../www/timeline-model.js';
import { createTaskStore } from '../../www/task-store.js';
import { addEvents, resetEvents, eventList, markerLabel } from '../../www/events.js';

test('colours: a hue per core from the page, a fallback beyond, grey for no core', () => {
  useCssLookup((name) => ({ '--core-0': '#111', '--st-runq': '#c2255c' })[name] || '');
  assert.equal(coreColor(0), '#111');
  assert.match(coreColor(5), /^hsl\(\d+,60%,42%\)$/);
  assert.notEqual(coreColor(5), coreColor(6));
  assert.equal(coreColor(null), NO_CORE);
  assert.equal(stateColor('runq'), '#c2255c');
  assert.equal(stateColor('nothing'), NO_CORE);
  useCssLookup(() => '');
  assert.equal(translucent('#0b7285', 0.35), 'rgba(11,114,133,0.35)');
  assert.equal(translucent('#fff', 0.5), 'rgba(255,255,255,0.5)');
  assert.equal(translucent('hsl(12,60%,42%)', 0.2), 'hsla(12,60%,42%,0.2)');
});

test('threads in natural order: loops, workers by index, observer, libuv, others', () => {
  const t = [{ role: 'libuv', tid: 9 }, { role: 'worker', index: 1, tid: 5 }, { role: 'observer', tid: 3 },
    { role: 'worker', index: 0, tid: 7 }, { role: 'loop', index: 0, tid: 1 }];
  assert.deepEqual([...t].sort(naturalCompare).map((x) => x.tid), [1, 7, 5, 3, 9]);
  assert.equal(shortLabel({ role: 'worker', index: 3 }), 'w3');
});

test('sorting: biggest first, n/a last whatever the direction, ties in natural order', () => {
  const t = [{ tid: 1, role: 'worker', index: 0, cpu_pct: 5 }, { tid: 2, role: 'worker', index: 1, cpu_pct: null },
    { tid: 3, role: 'worker', index: 2, cpu_pct: 50 }, { tid: 4, role: 'worker', index: 3, cpu_pct: 5 }];
  assert.deepEqual(sortThreads(t, 'cpu_pct', -1).map((x) => x.tid), [3, 1, 4, 2]);
  assert.deepEqual(sortThreads(t, 'cpu_pct', 1).map((x) => x.tid), [1, 4, 3, 2]);
  assert.deepEqual(sortThreads(t, null, 1).map((x) => x.tid), [1, 2, 3, 4]);
});

test('an idle thread waiting for a core: the scoreboard says waiting, "doing now" says idle in the idle hue', () => {
  const loop = { role: 'loop', state: 'S', doing: { what: 'idle' }, runq_pct: 60, on_cpu_pct: 20, sleep_pct: 20 };
  assert.equal(threadClass(loop), 's-runq');
  assert.equal(doingClass(loop), 's-idle');
  assert.equal(doingText(loop.doing, true), 'idle');
  assert.equal(doingClass({ state: 'R', doing: { what: 'cpu', task: 3 } }), 's-cpu');
  assert.equal(doingText({ what: 'cpu', task: 812, step: 2 }), 'CPU step 2 of task 812');
});

test('labels: none overlaps another in its row, each ends inside the plot', () => {
  const items = [0, 5, 10, 15, 200, 203].map((x) => ({ x, width: 60 }));
  const out = layoutLabels(items, 300, 3, 6);
  const placed = out.map((p, i) => (p ? { ...p, right: p.left + items[i].width } : null)).filter(Boolean);
  for (const a of placed) {
    assert.ok(a.right <= 300);
    for (const b of placed) {
      if (a === b || a.row !== b.row) continue;
      assert.ok(a.right + 6 <= b.left || b.right + 6 <= a.left, `overlap ${JSON.stringify([a, b])}`);
    }
  }
  assert.equal(out.filter(Boolean).length, 5, 'three rows hold the first three of the crowded four, then two more');
  assert.equal(out[3], null);
  assert.deepEqual(layoutLabels([{ x: 290, width: 50 }], 300)[0], { row: 0, left: 250 });
  /* two labels 2 px apart after the first one's end: the gap sends the second to the next row */
  const near = layoutLabels([{ x: 0, width: 60 }, { x: 62, width: 60 }], 300, 3, 6);
  assert.deepEqual(near.map((p) => p.row), [0, 1]);
});

test('a step split into on a core and waiting', () => {
  assert.deepEqual(share({ start_ms: 0, end_ms: 10, cpu_us: 4000 }),
    { wall: 10, cpu: 4, waiting: 6, onShare: 0.4, waitingShare: 0.6 });
  assert.equal(share({ start_ms: 0, end_ms: 10, cpu_us: 11000 }).waiting, 0, 'cpu clipped to wall');
  assert.equal(share({ start_ms: 0, end_ms: null, cpu_us: 1 }).waiting, null);
});

test('lanes: loops and workers, other tids seen in steps, the rest folded into one lane', () => {
  const threads = Array.from({ length: 6 }, (_, i) => ({ tid: 10 + i, role: 'worker', index: i, name: `w${i}` }));
  threads.unshift({ tid: 1, role: 'loop', index: 0, name: 'loop' });
  const steps = [{ tid: 15, task: 1 }, { tid: 99, task: 2 }, { tid: 1, task: 3 }];
  const all = buildLanes(threads, new Map(), steps, 48);
  assert.equal(all.lanes.length, 8);
  assert.equal(all.lanes[7].name, 'tid 99');
  assert.equal(all.folded, null);
  const f = buildLanes(threads, new Map(), steps, 4);
  assert.equal(f.lanes.length, 4);
  assert.deepEqual(f.folded, { count: 5, first: 'w2', last: 'tid 99' });
  assert.equal(f.laneOf.get(99), 3);
  assert.deepEqual(f.byLane[3].map((s) => s.task), [1, 2]);
});

test('the window and the time grid', () => {
  assert.deepEqual(viewWindow(0, 10000, 2000), [8000, 10000]);
  assert.deepEqual(viewWindow(5000, 10000, 0), [5000, 10000]);
  assert.deepEqual(viewWindow(5000, 5000, 0), [5000, 5001]);
  assert.equal(tickStep(10000, 900), 1000);
  assert.equal(fmtTick(2000, 1000), '2 s');
  assert.equal(fmtTick(1500, 500), '1.5 s');
  assert.equal(fmtTick(20, 10), '20 ms');
});

test('the task store: every step index up to the highest seen, the missing ones marked', () => {
  const st = createTaskStore(3);
  st.ingest({ threads: [{ tid: 7, name: 'worker-0' }],
    timeline: { steps: [{ task: 5, step: 2, tid: 7 }, { task: 5, step: 0, tid: 7 }, { task: 6, step: 0, tid: 7 }] } });
  assert.deepEqual(st.rows(5).map((r) => (r.missing ? `-${r.step}` : r.step)), [0, '-1', 2]);
  assert.equal(st.status(5), 'found');
  assert.equal(st.status(9), 'waiting');
  assert.equal(st.status(4), 'gone');
  assert.equal(st.threadName(7), 'worker-0');
  st.ingest({ timeline: { steps: [{ task: 7, step: 0, tid: 7 }, { task: 8, step: 0, tid: 7 }] } });
  assert.equal(st.size(), 3, 'bounded');
  assert.equal(st.has(5), false, 'the oldest task is forgotten first');
  assert.equal(st.oldest(), 6);
});

test('events kept by id, oldest first; marker labels', () => {
  resetEvents();
  assert.equal(addEvents([{ id: 2, kind: 'control', key: 'mode', to: 'async', time_ms: 2 }, { id: 1, kind: 'load_end', time_ms: 1 }]), true);
  assert.equal(addEvents([{ id: 2 }]), false, 'a known id is not new');
  assert.deepEqual(eventList().map((e) => e.id), [1, 2]);
  assert.equal(markerLabel(eventList()[1]), 'mode → async');
  /* the rate at the start is the first, partly loaded period's: not on the chart */
  assert.equal(markerLabel({ kind: 'load_start', text: 'load started: 120 req/s' }), 'load started');
  resetEvents();
});

test('lock waits: why a thread sleeps, in the period cell and "doing now"', () => {
  const w = { role: 'worker', index: 0, sleep_pct: 64, lock_wait_ms: 812.5, lock_wait_pct: 39.6, lock_wants: 0 };
  assert.equal(lockWaitText(w, true), 'lock wait 40% · on lock 0');
  assert.match(lockWaitText(w), /^waited for a lock 39\.6% of the last period .*; blocked on lock 0 now$/);
  // Waited, holds none now: the share only.
  assert.equal(lockWaitText({ ...w, lock_wants: null }, true), 'lock wait 40%');
  // Waiting now on its first sample (no share yet): the lock only.
  assert.equal(lockWaitText({ ...w, lock_wait_pct: null }, true), 'on lock 0');
  assert.equal(lockWaitText({ ...w, lock_wait_pct: null, lock_wants: 2 }, true), 'on lock 2');
  // No lock figures (the loop, libuv) or a negligible wait: nothing said.
  assert.equal(lockWaitText({ role: 'loop', sleep_pct: 90 }, true), '');
  assert.equal(lockWaitText({ ...w, lock_wait_pct: 0.2, lock_wants: null }, true), '');
  assert.equal(lockWaitText({ ...w, lock_wait_pct: 0, lock_wants: null }), '');
  assert.equal(lockWaitText(null, true), '');
});
