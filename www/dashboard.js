/*
 * threadlab dashboard.
 *
 * Reads one JSON snapshot per sample period from the observer
 * (GET /stats once, then Server-Sent Events from GET /stats/stream; the format
 * is doc/stats-json.md) and updates the page in place:
 *   - DOM elements are created once per thread / core and then only their
 *     text, classes and widths are changed, and only when they differ;
 *   - the timeline canvas is redrawn in requestAnimationFrame;
 *   - the four time-series charts use Chart.js (served at /vendor/chart.js)
 *     with a bounded history and update('none') (no animation).
 * Plain ES2017, no build step, nothing loaded from the network.
 */
(function () {
  'use strict';

  var HISTORY = 120;                 // samples kept in the charts
  var NA = 'n/a';

  /* Exposed for tests and for the curious (open the console). */
  var api = {
    lastSeq: null,                   // seq of the last snapshot rendered
    lastRenderMs: null,              // parse + DOM update time of that snapshot
    lastDrawMs: null,                // time of the last timeline canvas draw
    threadsShown: 0,                 // rows in the thread table
    streamState: 'connecting',       // connecting | live | reconnecting
    snapshots: 0,                    // snapshots rendered since the page loaded
    snapshot: null                   // the last snapshot object
  };
  window.tlDashboard = api;

  /* ------------------------------------------------------------------ */
  /* small helpers                                                       */
  /* ------------------------------------------------------------------ */

  function $(id) { return document.getElementById(id); }

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function isNum(v) { return typeof v === 'number' && isFinite(v); }

  var numFormats = {};
  function fmt(v, digits) {
    if (!isNum(v)) return NA;
    var d = digits || 0;
    var f = numFormats[d];
    if (!f) {
      f = numFormats[d] = new Intl.NumberFormat('en-US', {
        minimumFractionDigits: d, maximumFractionDigits: d
      });
    }
    return f.format(v);
  }
  function fmtInt(v) { return fmt(v, 0); }
  function fmtPct(v) { return isNum(v) ? fmt(v, 1) + '%' : NA; }
  function fmtBytes(v) {
    if (!isNum(v)) return NA;
    if (v >= 1073741824) return fmt(v / 1073741824, 2) + ' GiB';
    if (v >= 1048576) return fmt(v / 1048576, 1) + ' MiB';
    if (v >= 1024) return fmt(v / 1024, 0) + ' KiB';
    return fmt(v, 0) + ' B';
  }
  function fmtDuration(s) {
    if (!isNum(s)) return NA;
    s = Math.floor(s);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    if (h > 0) return h + 'h ' + String(m).padStart(2, '0') + 'm ' + String(sec).padStart(2, '0') + 's';
    if (m > 0) return m + 'm ' + String(sec).padStart(2, '0') + 's';
    return sec + 's';
  }
  function clock(ms, tenths) {
    var d = new Date(ms);
    var s = String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0') +
      ':' + String(d.getSeconds()).padStart(2, '0');
    return tenths ? s + '.' + Math.floor(d.getMilliseconds() / 100) : s;
  }
  function get(obj, path) {
    var o = obj;
    for (var i = 0; i < path.length; i++) {
      if (o === null || o === undefined) return null;
      o = o[path[i]];
    }
    return o === undefined ? null : o;
  }
  /* Only touch the DOM when the value really changes. */
  function setText(e, s) { if (e && e.textContent !== s) e.textContent = s; }
  function setClass(e, c) { if (e.className !== c) e.className = c; }

  var ROLE_ORDER = { loop: 0, worker: 1, observer: 2, libuv: 3, other: 4 };
  function naturalCompare(a, b) {
    var ra = ROLE_ORDER[a.role] !== undefined ? ROLE_ORDER[a.role] : 5;
    var rb = ROLE_ORDER[b.role] !== undefined ? ROLE_ORDER[b.role] : 5;
    if (ra !== rb) return ra - rb;
    var ia = isNum(a.index) ? a.index : 1e9, ib = isNum(b.index) ? b.index : 1e9;
    if (ia !== ib) return ia - ib;
    return a.tid - b.tid;
  }

  function shortLabel(t) {
    switch (t.role) {
      case 'loop': return 'loop';
      case 'worker': return 'w' + (isNum(t.index) ? t.index : '?');
      case 'observer': return 'obs';
      case 'libuv': return 'uv';
      default: return String(t.name || t.tid).slice(0, 5);
    }
  }

  /* What a thread is doing, as a CSS class shared by scoreboard, chips and legend. */
  function threadClass(t) {
    if (t.state === 'D') return 's-blocked';
    if (t.state === 'Z' || t.state === 'X' || t.state === 'T' || t.state === 't') return 's-dead';
    var d = t.doing;
    if (d && d.what) {
      switch (d.what) {
        case 'idle': return 's-idle';
        case 'cpu': return 's-cpu';
        case 'io': return 's-io';
        case 'wait': return 's-wait';
        case 'loop': return 's-loop';
      }
    }
    return t.state === 'R' ? 's-run' : 's-sleep';
  }

  /* long: "CPU step 2 of task 812"; short (table cell): "CPU · task 812" */
  function doingText(d, short) {
    if (!d || !d.what) return NA;
    var task = isNum(d.task) ? 'task ' + d.task : '';
    var what = { idle: 'idle', cpu: 'CPU', io: 'I/O wait', wait: 'waiting', loop: 'event loop' }[d.what] || String(d.what);
    if (short) {
      if (d.what === 'idle' || !task) return what;
      return what + ' · ' + task + (isNum(d.step) ? ' step ' + d.step : '');
    }
    var step = isNum(d.step) ? 'step ' + d.step + (task ? ' of ' : '') : '';
    if (d.what === 'idle' || (!task && !step)) return what;
    return what + ' ' + step + task;
  }

  var STATE_NAMES = {
    R: 'running or runnable', S: 'sleeping (waiting for an event)', D: 'blocked in the kernel (uninterruptible)',
    T: 'stopped', t: 'stopped by a debugger', Z: 'zombie', X: 'dead', I: 'idle kernel thread'
  };

  var CORE_COLORS = ['#1c7ed6', '#f76707', '#2f9e44', '#ae3ec9', '#e64980', '#0c8599',
    '#a9790b', '#5f3dc4', '#c92a2a', '#5c940d', '#364fc7', '#d9480f'];
  function coreColor(c) {
    if (!isNum(c) || c < 0) return '#868e96';
    if (c < CORE_COLORS.length) return CORE_COLORS[c];
    return 'hsl(' + ((c * 137.508) % 360).toFixed(0) + ',65%,45%)';
  }

  /* ------------------------------------------------------------------ */
  /* header                                                              */
  /* ------------------------------------------------------------------ */

  var hdr = {};
  ['h-pid', 'h-uptime', 'server-mode', 'h-pool', 'h-threads', 'h-rss', 'h-cpu', 'h-ctx', 'h-rps',
    'h-conns', 'h-sends', 'h-delayacct', 'delayacct-hint', 'stats-off', 'footer-seq', 'footer-render']
    .forEach(function (id) { hdr[id] = $(id); });

  function renderHeader(s) {
    var p = s.process || {};
    var srv = s.server || {};
    setText(hdr['h-pid'], isNum(p.pid) ? String(p.pid) : NA);
    setText(hdr['h-uptime'], fmtDuration(isNum(p.uptime_s) ? p.uptime_s : (isNum(s.uptime_ms) ? s.uptime_ms / 1000 : null)));
    setText(hdr['server-mode'], srv.mode ? String(srv.mode) : NA);
    setText(hdr['h-pool'], isNum(srv.threads)
      ? srv.threads + ' worker' + (srv.threads === 1 ? '' : 's') + (srv.pinned ? ', pinned' : srv.pinned === false ? ', not pinned' : '')
      : NA);
    setText(hdr['h-threads'], fmtInt(p.threads));
    setText(hdr['h-rss'], fmtBytes(p.rss_bytes));
    setText(hdr['h-cpu'], fmtPct(p.cpu_user_pct) + ' / ' + fmtPct(p.cpu_sys_pct));
    setText(hdr['h-ctx'], fmt(p.ctx_voluntary_rate, 0) + ' / ' + fmt(p.ctx_involuntary_rate, 0));
    setText(hdr['h-rps'], fmt(get(srv, ['requests', 'rate']), 0));
    setText(hdr['h-conns'], fmtInt(get(srv, ['connections', 'open'])));
    var snd = srv.sends || {};
    setText(hdr['h-sends'], snd.io_uring === true
      ? 'io_uring · ' + (isNum(snd.writes_per_submission) ? fmt(snd.writes_per_submission, 1) + ' writes/submission' : 'idle')
      : snd.io_uring === false ? 'write per connection' + (snd.why_not ? ' (' + snd.why_not + ')' : '') : NA);

    var da = get(s, ['kernel', 'task_delayacct']);
    var dd = hdr['h-delayacct'];
    if (da === true) { setText(dd, 'measured'); setClass(dd, 'good'); }
    else if (da === false) { setText(dd, 'not measured'); setClass(dd, 'bad'); }
    else { setText(dd, NA); setClass(dd, ''); }
    hdr['delayacct-hint'].hidden = da !== false;
    hdr['stats-off'].hidden = s.stats_enabled !== false;
  }

  /* ------------------------------------------------------------------ */
  /* controls                                                            */
  /* ------------------------------------------------------------------ */

  var ctl = {
    mode: $('mode-select'), threads: $('threads-input'), pin: $('pin-checkbox'),
    apply: $('apply-control'), result: $('control-result'), dirty: false
  };
  [ctl.mode, ctl.threads, ctl.pin].forEach(function (e) {
    e.addEventListener('change', function () { ctl.dirty = true; });
    e.addEventListener('input', function () { ctl.dirty = true; });
  });

  function syncControls(s) {
    /* Follow the server until the user starts editing. */
    var srv = s.server || {};
    if (ctl.dirty) return;
    if (srv.mode && ctl.mode.value !== srv.mode) ctl.mode.value = srv.mode;
    if (isNum(srv.threads) && ctl.threads.value !== String(srv.threads) && document.activeElement !== ctl.threads) {
      ctl.threads.value = String(srv.threads);
    }
    if (typeof srv.pinned === 'boolean') ctl.pin.checked = srv.pinned;
  }

  function showControlResult(ok, text) {
    ctl.result.className = 'result ' + (ok ? 'ok' : 'err');
    ctl.result.textContent = text;
  }

  /* Enter in the form applies instead of reloading the page. */
  $('control-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    if (!ctl.apply.disabled) ctl.apply.click();
  });

  ctl.apply.addEventListener('click', function () {
    var n = Number(ctl.threads.value);
    if (!Number.isInteger(n) || n < 1) {
      showControlResult(false, 'error: worker threads must be a whole number ≥ 1');
      return;
    }
    var q = new URLSearchParams({ mode: ctl.mode.value, threads: String(n), pin: ctl.pin.checked ? '1' : '0' });
    ctl.apply.disabled = true;
    showControlResult(true, 'applying…');
    fetch('/control?' + q.toString(), { method: 'POST', cache: 'no-store' })
      .then(function (r) {
        return r.text().then(function (body) {
          var j = null;
          try { j = JSON.parse(body); } catch (e) { /* not JSON */ }
          if (!r.ok || !j || j.error || j.ok === false) {
            var msg = j && j.error ? j.error : (body.trim() || r.statusText);
            showControlResult(false, 'error ' + r.status + ': ' + msg);
            return;
          }
          ctl.dirty = false;
          showControlResult(true, 'applied: mode ' + j.mode + ', ' + j.threads + ' worker thread' +
            (j.threads === 1 ? '' : 's') + ', ' + (j.pinned ? 'pinned' : 'not pinned'));
        });
      })
      .catch(function (e) { showControlResult(false, 'error: ' + (e && e.message ? e.message : 'request failed')); })
      .then(function () { ctl.apply.disabled = false; });
  });

  /* ------------------------------------------------------------------ */
  /* cores                                                               */
  /* ------------------------------------------------------------------ */

  var coresBox = $('cores');
  var coreViews = new Map();       // cpu -> view
  var chips = new Map();           // tid -> chip element (a thread sits on one core)

  (function coreLegend() {
    var lg = el('div', 'legend meter-legend');
    [['user', 'user code'], ['sys', 'kernel (sys)'], ['iowait', 'iowait'], ['irq', 'irq'], ['idle', 'idle']]
      .forEach(function (p) {
        var s = el('span');
        var sw = el('span', 'sw');
        sw.style.background = 'var(--' + p[0] + ')';
        s.appendChild(sw);
        s.appendChild(document.createTextNode(p[1]));
        lg.appendChild(s);
      });
    coresBox.parentNode.insertBefore(lg, coresBox);
  })();

  function makeCoreView(cpu) {
    var root = el('div', 'core');
    root.setAttribute('data-cpu', String(cpu));
    var head = el('div', 'head');
    head.appendChild(el('span', 'name', 'core ' + cpu));
    var nums = el('span', 'nums');
    var v = { root: root, b: {}, seg: {}, chips: null };
    ['user', 'sys', 'iowait', 'irq', 'idle', 'steps', 'threads'].forEach(function (k, i) {
      if (i) nums.appendChild(document.createTextNode(' · '));
      var lbl = k === 'steps' ? 'steps/s ' : k === 'threads' ? 'threads ' : k + ' ';
      nums.appendChild(document.createTextNode(lbl));
      v.b[k] = el('b', null, NA);
      nums.appendChild(v.b[k]);
    });
    head.appendChild(nums);
    root.appendChild(head);
    var meter = el('div', 'meter');
    ['user', 'sys', 'iowait', 'irq'].forEach(function (k) {
      v.seg[k] = el('span', k);
      meter.appendChild(v.seg[k]);
    });
    meter.title = 'share of this core over the last period';
    root.appendChild(meter);
    v.chips = el('div', 'chips');
    root.appendChild(v.chips);
    return v;
  }

  function renderCores(s, threadsByTid) {
    var cores = Array.isArray(s.cores) ? s.cores.slice() : [];
    cores.sort(function (a, b) { return a.cpu - b.cpu; });
    var seen = new Set();
    var seenTids = new Set();
    var i, j;
    for (i = 0; i < cores.length; i++) {
      var c = cores[i];
      seen.add(c.cpu);
      var v = coreViews.get(c.cpu);
      if (!v) {
        v = makeCoreView(c.cpu);
        coreViews.set(c.cpu, v);
        coresBox.appendChild(v.root);
      }
      ['user', 'sys', 'iowait', 'irq', 'idle'].forEach(function (k) {
        var pct = c[k + '_pct'];
        setText(v.b[k], fmtPct(pct));
        if (v.seg[k]) {
          var w = isNum(pct) ? Math.max(0, Math.min(100, pct)).toFixed(1) + '%' : '0%';
          if (v.seg[k].style.width !== w) v.seg[k].style.width = w;
        }
      });
      setText(v.b.steps, fmt(c.steps_rate, 0));
      var tids = Array.isArray(c.threads) ? c.threads : [];
      setText(v.b.threads, String(tids.length));

      /* chips: one per thread, moved between cores as threads migrate */
      var list = [];
      for (j = 0; j < tids.length; j++) {
        var t = threadsByTid.get(tids[j]);
        list.push(t || { tid: tids[j], role: 'other', name: String(tids[j]) });
      }
      list.sort(naturalCompare);
      var kids = v.chips.children;
      var inOrder = kids.length === list.length;
      for (j = 0; j < list.length; j++) {
        var th = list[j];
        seenTids.add(th.tid);
        var chip = chips.get(th.tid);
        if (!chip) {
          chip = el('span', 'chip');
          chip.setAttribute('data-tid', String(th.tid));
          chips.set(th.tid, chip);
        }
        setText(chip, shortLabel(th));
        setClass(chip, 'chip ' + threadClass(th));
        var tip = th.name + ' (tid ' + th.tid + ', ' + th.role + ')';
        if (chip.title !== tip) chip.title = tip;
        if (inOrder && kids[j] !== chip) inOrder = false;
      }
      if (!inOrder) {
        for (j = 0; j < list.length; j++) v.chips.appendChild(chips.get(list[j].tid));
      }
    }
    coreViews.forEach(function (v, cpu) {
      if (!seen.has(cpu)) { v.root.remove(); coreViews.delete(cpu); }
    });
    chips.forEach(function (chip, tid) {
      if (!seenTids.has(tid)) { chip.remove(); chips.delete(tid); }
    });
  }

  /* ------------------------------------------------------------------ */
  /* scoreboard                                                          */
  /* ------------------------------------------------------------------ */

  var board = $('scoreboard');
  var cells = new Map();           // tid -> { root, label, sub }

  var STATE_LEGEND = [
    ['s-idle', 'idle'], ['s-cpu', 'running a CPU step'], ['s-io', 'waiting on I/O'], ['s-wait', 'waiting'],
    ['s-loop', 'event-loop work'], ['s-blocked', 'blocked (state D)'],
    ['s-run', 'other thread: running'], ['s-sleep', 'other thread: sleeping']
  ];
  (function scoreboardLegend() {
    var lg = $('scoreboard-legend');
    STATE_LEGEND.forEach(function (p) {
      var s = el('span');
      s.appendChild(el('span', 'sw ' + p[0]));
      s.appendChild(document.createTextNode(p[1]));
      lg.appendChild(s);
    });
  })();

  function renderScoreboard(threads) {
    var seen = new Set();
    var kids = board.children;
    var inOrder = kids.length === threads.length;
    for (var i = 0; i < threads.length; i++) {
      var t = threads[i];
      seen.add(t.tid);
      var c = cells.get(t.tid);
      if (!c) {
        c = { root: el('div', 'cell'), label: el('span'), sub: el('small') };
        c.root.setAttribute('data-tid', String(t.tid));
        c.root.appendChild(c.label);
        c.root.appendChild(c.sub);
        cells.set(t.tid, c);
        inOrder = false;
      }
      setClass(c.root, 'cell ' + threadClass(t));
      setText(c.label, shortLabel(t));
      setText(c.sub, isNum(t.core) ? 'core ' + t.core : t.state || '');
      var tip = t.name + ' · tid ' + t.tid + ' · ' + t.role + '\nstate ' + t.state +
        (STATE_NAMES[t.state] ? ' (' + STATE_NAMES[t.state] + ')' : '') +
        '\ndoing: ' + doingText(t.doing) + '\nlast core ' + (isNum(t.core) ? t.core : NA) +
        ' · CPU ' + fmtPct(t.cpu_pct);
      if (c.root.title !== tip) c.root.title = tip;
      if (inOrder && kids[i] !== c.root) inOrder = false;
    }
    cells.forEach(function (c, tid) {
      if (!seen.has(tid)) { c.root.remove(); cells.delete(tid); }
    });
    if (!inOrder) {
      for (var j = 0; j < threads.length; j++) board.appendChild(cells.get(threads[j].tid).root);
    }
  }

  /* ------------------------------------------------------------------ */
  /* thread table                                                        */
  /* ------------------------------------------------------------------ */

  function num(k, d) { return function (t) { return fmt(t[k], d); }; }
  function plainInt(k) { return function (t) { return isNum(t[k]) ? String(t[k]) : NA; }; }   // no thousands separator
  var DOING_COL = { k: 'doing', label: 'doing now', txt: true, cls: 'doing', text: function (t) { return doingText(t.doing, true); },
    sortVal: function (t) { return t.doing && t.doing.what ? t.doing.what : null; },
    title: 'what the thread is doing at the moment of the sample',
    draw: function (td, t, s) {
      var sp = td.firstChild;
      if (!sp) { sp = el('span'); td.appendChild(sp); }
      sp.textContent = s;
      sp.className = s === NA ? '' : threadClass(t);
      td.title = doingText(t.doing);
    } };
  var COLS = [
    { k: 'tid', label: 'tid', text: plainInt('tid') },
    { k: 'name', label: 'name', txt: true, cls: 'name', text: function (t) { return t.name ? String(t.name) : NA; } },
    { k: 'role', label: 'role', txt: true, text: function (t) { return t.role || NA; } },
    { k: 'index', label: 'index', text: plainInt('index'), title: 'worker index' },
    { k: 'state', label: 'state', txt: true, cls: 'state', text: function (t) { return t.state || NA; },
      draw: function (td, t, s) {
        var sp = td.firstChild;
        if (!sp) { sp = el('span'); td.appendChild(sp); }
        sp.textContent = s; sp.className = s;
        td.title = STATE_NAMES[s] || '';
      },
      title: 'kernel state: R running/runnable, S sleeping, D blocked (uninterruptible)' },
    DOING_COL,
    { k: 'core', label: 'core', text: plainInt('core'), title: 'core it last ran on' },
    { k: 'allowed', label: 'allowed', txt: true, text: function (t) { return t.allowed ? String(t.allowed) : NA; },
      title: 'cores it may run on (affinity)' },
    { k: 'cpu_user_s', g: 'CPU time', label: 'user s', text: num('cpu_user_s', 2) },
    { k: 'cpu_sys_s', g: 'CPU time', label: 'sys s', text: num('cpu_sys_s', 2) },
    { k: 'cpu_pct', g: 'CPU time', label: 'CPU %', bar: true, text: num('cpu_pct', 1),
      title: 'user+sys over the last period, % of one core' },
    { k: 'oncpu_s', g: 'scheduler', label: 'on-CPU s', text: num('oncpu_s', 3) },
    { k: 'runq_wait_s', g: 'scheduler', label: 'runq wait s', text: num('runq_wait_s', 3),
      title: 'time spent runnable but waiting for a core (needs kernel.task_delayacct=1)' },
    { k: 'runq_wait_pct', g: 'scheduler', label: 'wait %', bar: true, text: num('runq_wait_pct', 1),
      title: 'run-queue wait over the last period, % of the period' },
    { k: 'timeslices', g: 'scheduler', label: 'slices', text: num('timeslices', 0), title: 'timeslices: times it got a core' },
    { k: 'ctx_voluntary', g: 'vol. switches', label: 'total', text: num('ctx_voluntary', 0),
      title: 'gave up the core by itself (waiting for something)' },
    { k: 'ctx_voluntary_rate', g: 'vol. switches', label: '/s', rate: true, text: num('ctx_voluntary_rate', 0) },
    { k: 'ctx_involuntary', g: 'invol. switches', label: 'total', text: num('ctx_involuntary', 0),
      title: 'pushed off the core by the scheduler' },
    { k: 'ctx_involuntary_rate', g: 'invol. switches', label: '/s', rate: true, text: num('ctx_involuntary_rate', 0) },
    { k: 'migrations', g: 'migrations', label: 'total', text: num('migrations', 0), title: 'moves to another core' },
    { k: 'migrations_rate', g: 'migrations', label: '/s', rate: true, text: num('migrations_rate', 1) },
    { k: 'tasks', g: 'tasks', label: 'total', text: num('tasks', 0) },
    { k: 'tasks_rate', g: 'tasks', label: '/s', rate: true, text: num('tasks_rate', 0) },
    { k: 'steps', g: 'steps', label: 'total', text: num('steps', 0) },
    { k: 'steps_rate', g: 'steps', label: '/s', rate: true, text: num('steps_rate', 0) },
    { k: 'busy_pct', label: 'busy %', bar: true, text: num('busy_pct', 1),
      title: 'share of the period spent running tasks' }
  ];

  var tbody = $('threads-body');
  var rows = new Map();            // tid -> { tr, tds, last }
  var sortState = { key: null, dir: 1 };   // null = natural order (loop, workers, observer, ...)
  var headerCells = [];

  (function buildHead() {
    var thead = document.querySelector('#threads-table thead');
    var r1 = el('tr', 'group'), r2 = el('tr');
    var i = 0;
    while (i < COLS.length) {
      var c = COLS[i];
      if (!c.g) {
        var th = makeSortHeader(c);
        th.rowSpan = 2;
        r1.appendChild(th);
        i++;
        continue;
      }
      var n = 0;
      while (i + n < COLS.length && COLS[i + n].g === c.g) n++;
      var gh = el('th', null, c.g);
      gh.colSpan = n;
      r1.appendChild(gh);
      for (var j = 0; j < n; j++) r2.appendChild(makeSortHeader(COLS[i + j]));
      i += n;
    }
    thead.appendChild(r1);
    thead.appendChild(r2);
  })();

  function makeSortHeader(c) {
    var th = el('th', 'sortable' + (c.txt ? ' txt' : ''), c.label);
    th.setAttribute('data-key', c.k);
    th.title = (c.title ? c.title + ' — ' : '') + 'click to sort';
    th.tabIndex = 0;
    th.addEventListener('keydown', function (ev) {
      if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); th.click(); }
    });
    th.addEventListener('click', function () {
      if (sortState.key === c.k) {
        if (sortState.dir === (c.txt ? 1 : -1)) sortState.dir = -sortState.dir;
        else { sortState.key = null; }          // third click: back to natural order
      } else {
        sortState.key = c.k;
        sortState.dir = c.txt ? 1 : -1;         // numbers: biggest first
      }
      headerCells.forEach(function (h) {
        var k = h.getAttribute('data-key');
        h.classList.toggle('sorted-asc', k === sortState.key && sortState.dir === 1);
        h.classList.toggle('sorted-desc', k === sortState.key && sortState.dir === -1);
      });
      if (api.snapshot) renderTable(threadsSorted(api.snapshot.threads || []));
    });
    headerCells.push(th);
    return th;
  }

  function threadsSorted(list) {
    var a = list.slice();
    if (!sortState.key) return a.sort(naturalCompare);
    var col = COLS.filter(function (c) { return c.k === sortState.key; })[0];
    var val = col && col.sortVal ? col.sortVal : function (t) { var v = t[sortState.key]; return v === undefined ? null : v; };
    var dir = sortState.dir;
    return a.sort(function (x, y) {
      var vx = val(x), vy = val(y);
      if (vx === null && vy === null) return naturalCompare(x, y);
      if (vx === null) return 1;                 // n/a always last
      if (vy === null) return -1;
      var r = (typeof vx === 'number' && typeof vy === 'number') ? vx - vy : String(vx).localeCompare(String(vy));
      return r !== 0 ? r * dir : naturalCompare(x, y);
    });
  }

  function makeRow(t) {
    var tr = el('tr');
    tr.setAttribute('data-tid', String(t.tid));
    var tds = [];
    for (var i = 0; i < COLS.length; i++) {
      var c = COLS[i];
      var td = el('td', (c.txt ? 'txt ' : '') + (c.cls ? c.cls + ' ' : '') + (c.bar ? 'bar ' : '') + (c.rate ? 'rate' : ''));
      td.setAttribute('data-col', c.k);
      if (c.bar) { td.appendChild(el('i')); td.appendChild(el('span')); }
      tr.appendChild(td);
      tds.push(td);
    }
    return { tr: tr, tds: tds, last: new Array(COLS.length), role: null };
  }

  function renderTable(sorted) {
    var seen = new Set();
    var kids = tbody.children;
    var inOrder = kids.length === sorted.length;
    for (var r = 0; r < sorted.length; r++) {
      var t = sorted[r];
      seen.add(t.tid);
      var row = rows.get(t.tid);
      if (!row) { row = makeRow(t); rows.set(t.tid, row); inOrder = false; }
      if (row.role !== t.role) { row.role = t.role; row.tr.className = 'role-' + t.role; }
      for (var i = 0; i < COLS.length; i++) {
        var c = COLS[i];
        var s = c.text(t);
        var td = row.tds[i];
        if (c.k === 'doing') s = s + '\u0000' + threadClass(t);   // class changes count too
        if (row.last[i] === s) continue;
        row.last[i] = s;
        if (c.k === 'doing') s = s.slice(0, s.indexOf('\u0000'));
        td.classList.toggle('na', s === NA);
        if (c.draw) c.draw(td, t, s);
        else if (c.bar) {
          td.lastChild.textContent = s;
          var v = t[c.k];
          td.firstChild.style.width = isNum(v) ? Math.max(0, Math.min(100, v)).toFixed(1) + '%' : '0';
        } else td.textContent = s;
      }
      if (inOrder && kids[r] !== row.tr) inOrder = false;
    }
    rows.forEach(function (row, tid) {
      if (!seen.has(tid)) { row.tr.remove(); rows.delete(tid); }
    });
    if (!inOrder) {
      var frag = document.createDocumentFragment();
      for (var k = 0; k < sorted.length; k++) frag.appendChild(rows.get(sorted[k].tid).tr);
      tbody.appendChild(frag);
    }
    api.threadsShown = rows.size;
  }

  /* ------------------------------------------------------------------ */
  /* insights                                                            */
  /* ------------------------------------------------------------------ */

  var insightsBox = $('insights');
  var insightsKey = null;

  function renderInsights(list) {
    list = Array.isArray(list) ? list : [];
    var key = JSON.stringify(list);
    if (key === insightsKey) return;
    insightsKey = key;
    var frag = document.createDocumentFragment();
    if (list.length === 0) {
      frag.appendChild(el('li', 'empty', 'nothing unusual in the last period'));
    }
    list.forEach(function (it) {
      var lvl = String(it.level || 'info');
      var li = el('li', lvl);
      if (it.id) li.setAttribute('data-id', String(it.id));
      li.appendChild(el('span', 'lvl', lvl));
      li.appendChild(el('span', 'text', String(it.text || it.id || '')));
      var ev = it.evidence;
      if (ev && typeof ev === 'object') {
        var box = el('div', 'ev');
        Object.keys(ev).forEach(function (k) {
          var v = ev[k];
          var sp = el('span');
          sp.appendChild(document.createTextNode(k + ' '));
          sp.appendChild(el('b', null, v === null ? NA : typeof v === 'object' ? JSON.stringify(v) : String(v)));
          box.appendChild(sp);
        });
        li.appendChild(box);
      }
      frag.appendChild(li);
    });
    insightsBox.textContent = '';
    insightsBox.appendChild(frag);
  }

  /* ------------------------------------------------------------------ */
  /* charts (Chart.js 3.9.1 from /vendor/chart.js)                       */
  /* ------------------------------------------------------------------ */

  var charts = null;
  var prevStatus = null;           // previous by_status, to turn counters into rates

  function lineDs(label, color, extra) {
    var d = {
      label: label, data: [], borderColor: color, backgroundColor: color,
      borderWidth: 1.6, pointRadius: 0, pointHitRadius: 6, tension: 0, spanGaps: false, fill: false
    };
    if (extra) Object.keys(extra).forEach(function (k) { d[k] = extra[k]; });
    return d;
  }

  function makeChart(id, datasets, yTitle, extraScales) {
    var canvas = $(id);
    var scales = {
      x: { ticks: { maxTicksLimit: 7, maxRotation: 0, autoSkip: true, font: { size: 10 } }, grid: { display: false } },
      y: { beginAtZero: true, title: { display: !!yTitle, text: yTitle, font: { size: 11 } },
        ticks: { font: { size: 10 }, maxTicksLimit: 6 }, grace: '5%' }
    };
    if (extraScales) Object.keys(extraScales).forEach(function (k) { scales[k] = extraScales[k]; });
    return new window.Chart(canvas.getContext('2d'), {
      type: 'line',
      data: { labels: [], datasets: datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        normalized: true,
        interaction: { mode: 'index', intersect: false },
        scales: scales,
        plugins: {
          legend: { display: datasets.length > 1, position: 'top', align: 'end',
            labels: { boxWidth: 10, boxHeight: 10, font: { size: 11 } } },
          tooltip: { animation: false }
        }
      }
    });
  }

  function initCharts() {
    if (typeof window.Chart !== 'function') {
      $('charts-missing').hidden = false;
      return null;
    }
    window.Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
    window.Chart.defaults.color = '#5c6578';
    return {
      rps: makeChart('chart-rps', [
        lineDs('requests/s', '#1c7ed6', { fill: true, backgroundColor: 'rgba(28,126,214,0.12)' }),
        lineDs('errors/s (4xx+5xx)', '#e03131')
      ], 'per second'),
      latency: makeChart('chart-latency', [
        lineDs('p50', '#2b9a47'), lineDs('p90', '#f08c00'), lineDs('p99', '#e03131')
      ], 'ms'),
      queue: makeChart('chart-queue', [
        lineDs('queue depth', '#7048e8', { fill: true, backgroundColor: 'rgba(112,72,232,0.12)', stepped: true })
      ], 'tasks'),
      lag: makeChart('chart-lag', [
        lineDs('lag p50', '#2b9a47'), lineDs('lag p99', '#e03131'), lineDs('lag max', '#862e9c', { borderDash: [4, 3] }),
        lineDs('loop busy %', '#868e96', { yAxisID: 'y1', borderWidth: 1, fill: true, backgroundColor: 'rgba(134,142,150,0.10)' })
      ], 'ms', {
        y1: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false },
          title: { display: true, text: 'busy %', font: { size: 11 } }, ticks: { font: { size: 10 }, maxTicksLimit: 6 } }
      })
    };
  }

  function pushPoint(chart, label, values) {
    var labels = chart.data.labels;
    labels.push(label);
    var over = labels.length > HISTORY;
    if (over) labels.shift();
    for (var i = 0; i < values.length; i++) {
      var d = chart.data.datasets[i].data;
      d.push(isNum(values[i]) ? values[i] : null);
      if (over) d.shift();
    }
  }

  function clearCharts() {
    if (!charts) return;
    Object.keys(charts).forEach(function (k) {
      var c = charts[k];
      c.data.labels.length = 0;
      c.data.datasets.forEach(function (d) { d.data.length = 0; });
    });
  }

  function renderCharts(s) {
    if (!charts) return;
    var srv = s.server || {};
    var label = isNum(s.time_ms) ? clock(s.time_ms, !(s.period_ms >= 1000)) : String(s.seq);

    var st = get(srv, ['requests', 'by_status']);
    var errRate = null;
    if (st && prevStatus && isNum(s.period_ms) && s.period_ms > 0) {
      var now = (st['4xx'] || 0) + (st['5xx'] || 0);
      var before = (prevStatus['4xx'] || 0) + (prevStatus['5xx'] || 0);
      if (now >= before) errRate = (now - before) * 1000 / s.period_ms;
    }
    prevStatus = st;

    var lat = get(srv, ['latency_ms', 'period']) || {};
    var lag = get(srv, ['loop', 'lag_ms', 'period']) || {};
    pushPoint(charts.rps, label, [get(srv, ['requests', 'rate']), errRate]);
    pushPoint(charts.latency, label, [lat.p50, lat.p90, lat.p99]);
    pushPoint(charts.queue, label, [get(srv, ['queue', 'depth'])]);
    pushPoint(charts.lag, label, [lag.p50, lag.p99, lag.max, get(srv, ['loop', 'utilization_pct'])]);
    charts.rps.update('none');
    charts.latency.update('none');
    charts.queue.update('none');
    charts.lag.update('none');
  }

  /* ------------------------------------------------------------------ */
  /* timeline (hand-drawn canvas, redrawn in requestAnimationFrame)      */
  /* ------------------------------------------------------------------ */

  var tl = {
    canvas: $('timeline'), wrap: $('timeline-wrap'), tip: $('timeline-tip'), note: $('timeline-note'),
    legend: $('timeline-legend'), legendKey: '', windowSel: $('timeline-window'), windowMs: 0,
    lanes: [], laneOf: new Map(), byLane: [], from: 0, to: 1,
    gutter: 150, top: 20, laneH: 16, cssW: 0, cssH: 0,
    mouse: null, hoverTask: null, pending: false, pattern: null, sentFrom: null
  };

  function requestDraw() {
    if (tl.pending) return;
    tl.pending = true;
    window.requestAnimationFrame(drawTimeline);
  }

  function prepareTimeline(s, threads, threadsByTid) {
    var t = s.timeline || {};
    var steps = Array.isArray(t.steps) ? t.steps : [];
    /* lanes: the threads that run tasks (loop, workers) plus any other tid seen in steps */
    var lanes = threads.filter(function (th) { return th.role === 'loop' || th.role === 'worker'; });
    var have = new Set(lanes.map(function (th) { return th.tid; }));
    for (var i = 0; i < steps.length; i++) {
      var tid = steps[i].tid;
      if (!have.has(tid)) {
        have.add(tid);
        lanes.push(threadsByTid.get(tid) || { tid: tid, name: 'tid ' + tid, role: 'other', index: null });
      }
    }
    lanes.sort(naturalCompare);
    tl.lanes = lanes;
    tl.laneH = laneHeight(lanes.length);
    tl.laneOf = new Map();
    tl.byLane = lanes.map(function () { return []; });
    lanes.forEach(function (th, k) { tl.laneOf.set(th.tid, k); });
    for (i = 0; i < steps.length; i++) {
      var k = tl.laneOf.get(steps[i].tid);
      if (k !== undefined) tl.byLane[k].push(steps[i]);
    }
    tl.to = isNum(t.to_ms) ? t.to_ms : (isNum(s.uptime_ms) ? s.uptime_ms : 1);
    tl.sentFrom = isNum(t.from_ms) ? t.from_ms : tl.to - 10000;
    applyWindow();

    var span = (tl.to - tl.sentFrom) / 1000;
    var note = fmtInt(steps.length) + ' steps in the last ' + fmt(span, 1) + ' s on ' + lanes.length + ' lanes';
    if (t.sampled) note += ' — sampled: ' + fmtInt(t.dropped) + ' steps left out to keep it bounded';
    setText(tl.note, note);

    var ncpu = get(s, ['kernel', 'ncpu']);
    if (!isNum(ncpu)) ncpu = Array.isArray(s.cores) ? s.cores.length : 0;
    var lk = String(ncpu);
    if (lk !== tl.legendKey) {
      tl.legendKey = lk;
      tl.legend.textContent = '';
      for (var c = 0; c < ncpu && c < 64; c++) {
        var sp = el('span');
        var sw = el('span', 'sw');
        sw.style.background = coreColor(c);
        sp.appendChild(sw);
        sp.appendChild(document.createTextNode('core ' + c));
        tl.legend.appendChild(sp);
      }
      var w = el('span');
      var ws = el('span', 'sw');
      ws.style.background = 'repeating-linear-gradient(135deg,#adb5bd 0 2px,#fff 2px 4px)';
      w.appendChild(ws);
      w.appendChild(document.createTextNode('wait (I/O or timer, no CPU used)'));
      tl.legend.appendChild(w);
    }
    updateHover();
    requestDraw();
  }

  function laneHeight(n) { return Math.max(9, Math.min(22, Math.floor(560 / Math.max(1, n)))); }

  function applyWindow() {
    tl.from = tl.sentFrom;
    if (tl.windowMs > 0 && tl.to - tl.windowMs > tl.from) tl.from = tl.to - tl.windowMs;
    if (tl.to <= tl.from) tl.to = tl.from + 1;
  }
  tl.windowSel.addEventListener('change', function () {
    tl.windowMs = Number(tl.windowSel.value) || 0;
    if (isNum(tl.sentFrom)) { applyWindow(); updateHover(); requestDraw(); }
  });

  function hatch(ctx) {
    if (tl.pattern) return tl.pattern;
    var p = document.createElement('canvas');
    p.width = p.height = 6;
    var g = p.getContext('2d');
    g.fillStyle = '#f1f3f5';
    g.fillRect(0, 0, 6, 6);
    g.strokeStyle = '#868e96';
    g.lineWidth = 1.2;
    g.beginPath();
    g.moveTo(0, 6); g.lineTo(6, 0);
    g.moveTo(-1, 1); g.lineTo(1, -1);
    g.moveTo(5, 7); g.lineTo(7, 5);
    g.stroke();
    tl.pattern = ctx.createPattern(p, 'repeat');
    return tl.pattern;
  }

  function tickStep(spanMs, px) {
    var target = spanMs / Math.max(2, Math.floor(px / 90));
    var steps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000, 30000, 60000];
    for (var i = 0; i < steps.length; i++) if (steps[i] >= target) return steps[i];
    return 120000;
  }
  function fmtTick(ms, stepMs) {
    if (stepMs >= 1000) return (ms / 1000) + ' s';
    if (stepMs >= 100 && ms >= 1000) return (ms / 1000).toFixed(1) + ' s';
    return ms + ' ms';
  }

  function drawTimeline() {
    tl.pending = false;
    var t0 = performance.now();
    var canvas = tl.canvas;
    var n = tl.lanes.length;
    var cssW = Math.max(300, tl.wrap.clientWidth);
    tl.laneH = laneHeight(n);
    var cssH = tl.top + Math.max(1, n) * tl.laneH + 4;
    var dpr = window.devicePixelRatio || 1;
    if (cssW !== tl.cssW || cssH !== tl.cssH || canvas.width !== Math.round(cssW * dpr)) {
      tl.cssW = cssW; tl.cssH = cssH;
      canvas.width = Math.round(cssW * dpr);
      canvas.height = Math.round(cssH * dpr);
      canvas.style.height = cssH + 'px';
    }
    var ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, cssW, cssH);

    var gx = tl.gutter, plotW = cssW - gx - 8, top = tl.top, lh = tl.laneH;
    var from = tl.from, span = tl.to - tl.from;
    var scale = plotW / span;

    /* lanes and labels */
    ctx.font = (lh >= 13 ? 11 : 9) + 'px ui-monospace, "DejaVu Sans Mono", monospace';
    ctx.textBaseline = 'middle';
    for (var i = 0; i < n; i++) {
      var y = top + i * lh;
      if (i % 2 === 0) { ctx.fillStyle = '#f6f7f9'; ctx.fillRect(0, y, cssW, lh); }
      var th = tl.lanes[i];
      ctx.fillStyle = th.role === 'loop' ? '#1971c2' : '#343a40';
      var name = th.name || String(th.tid);
      if (name.length > 15) name = name.slice(0, 14) + '…';
      ctx.fillText(name, 4, y + lh / 2);
      ctx.fillStyle = '#868e96';
      ctx.textAlign = 'right';
      ctx.fillText(String(th.tid), gx - 6, y + lh / 2);
      ctx.textAlign = 'left';
    }

    /* time grid, labelled relative to the newest sample */
    var stepMs = tickStep(span, plotW);
    ctx.strokeStyle = '#e3e6ea';
    ctx.fillStyle = '#5c6578';
    ctx.lineWidth = 1;
    ctx.font = '10px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.beginPath();
    for (var back = 0; back <= span + 0.001; back += stepMs) {
      var x = Math.round(gx + (span - back) * scale) + 0.5;
      ctx.moveTo(x, top - 3);
      ctx.lineTo(x, cssH);
      var lbl = back === 0 ? 'now' : '−' + fmtTick(back, stepMs);
      ctx.fillText(lbl, Math.min(Math.max(x, gx + 14), cssW - 16), 9);
    }
    ctx.stroke();
    ctx.textAlign = 'left';

    /* steps: batch the rectangles by colour, one fill per colour */
    var buckets = new Map();
    var waits = [];
    var hoverRects = [];
    var pad = lh >= 12 ? 2 : 1;
    for (i = 0; i < n; i++) {
      var arr = tl.byLane[i];
      var yy = top + i * lh;
      for (var j = 0; j < arr.length; j++) {
        var st = arr[j];
        var s0 = isNum(st.start_ms) ? st.start_ms : from;
        var s1 = isNum(st.end_ms) ? st.end_ms : tl.to;      // still running: up to now
        if (s1 < from || s0 > tl.to) continue;
        var x0 = gx + Math.max(0, s0 - from) * scale;
        var w = Math.max(1, (Math.min(s1, tl.to) - Math.max(s0, from)) * scale);
        var rect = [x0, yy + pad, w, lh - 2 * pad];
        if (st.kind === 'cpu') {
          var col = coreColor(st.core);
          var b = buckets.get(col);
          if (!b) { b = []; buckets.set(col, b); }
          b.push(rect);
        } else {
          var h = Math.max(2, Math.round((lh - 2 * pad) * 0.45));
          waits.push([x0, yy + (lh - h) / 2, w, h]);
        }
        if (tl.hoverTask !== null && st.task === tl.hoverTask) hoverRects.push(rect);
      }
    }
    var k;
    if (waits.length) {
      ctx.fillStyle = hatch(ctx);
      ctx.beginPath();
      for (k = 0; k < waits.length; k++) ctx.rect(waits[k][0], waits[k][1], waits[k][2], waits[k][3]);
      ctx.fill();
      ctx.strokeStyle = '#adb5bd';
      ctx.lineWidth = 0.5;
      ctx.stroke();
    }
    buckets.forEach(function (list, color) {
      ctx.fillStyle = color;
      ctx.beginPath();
      for (var q = 0; q < list.length; q++) ctx.rect(list[q][0], list[q][1], list[q][2], list[q][3]);
      ctx.fill();
    });

    /* the hovered task: outline its steps and join them in time order */
    if (hoverRects.length) {
      hoverRects.sort(function (a, b2) { return a[0] - b2[0]; });
      ctx.strokeStyle = '#111';
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      for (k = 0; k < hoverRects.length; k++) {
        var r = hoverRects[k];
        ctx.rect(r[0] - 1, r[1] - 1, r[2] + 2, r[3] + 2);
      }
      ctx.stroke();
      if (hoverRects.length > 1) {
        ctx.setLineDash([3, 3]);
        ctx.beginPath();
        for (k = 0; k < hoverRects.length; k++) {
          var rr = hoverRects[k];
          var cx = rr[0] + rr[2] / 2, cy = rr[1] + rr[3] / 2;
          if (k === 0) ctx.moveTo(cx, cy); else ctx.lineTo(cx, cy);
        }
        ctx.stroke();
        ctx.setLineDash([]);
      }
    }

    /* gutter separator */
    ctx.strokeStyle = '#ced4da';
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(gx - 0.5, top - 3);
    ctx.lineTo(gx - 0.5, cssH);
    ctx.stroke();

    if (n === 0) {
      ctx.fillStyle = '#868e96';
      ctx.font = '12px system-ui, sans-serif';
      ctx.fillText('no task-running threads yet', gx + 10, top + 10);
    }
    api.lastDrawMs = Math.round((performance.now() - t0) * 100) / 100;
  }

  function stepAt(mx, my) {
    var lane = Math.floor((my - tl.top) / tl.laneH);
    if (lane < 0 || lane >= tl.lanes.length || mx < tl.gutter) return null;
    var scale = (tl.cssW - tl.gutter - 8) / (tl.to - tl.from);
    var tms = tl.from + (mx - tl.gutter) / scale;
    var tol = 3 / scale;            // 3 px of tolerance for very short steps
    var best = null, bestD = Infinity;
    var arr = tl.byLane[lane];
    for (var i = 0; i < arr.length; i++) {
      var s = arr[i];
      var s0 = s.start_ms, s1 = isNum(s.end_ms) ? s.end_ms : tl.to;
      var d = tms < s0 ? s0 - tms : tms > s1 ? tms - s1 : 0;
      if (d <= tol && (d < bestD || (d === bestD && s.kind === 'cpu'))) { best = s; bestD = d; }
    }
    return best;
  }

  /* Tooltip for the step under the mouse; re-run after each snapshot since the bars move. */
  function updateHover() {
    if (!tl.mouse) return;
    var mx = tl.mouse.x, my = tl.mouse.y;
    var s = stepAt(mx, my);
    if (!s) {
      tl.tip.hidden = true;
      if (tl.hoverTask !== null) { tl.hoverTask = null; requestDraw(); }
      return;
    }
    var th = tl.lanes[tl.laneOf.get(s.tid)] || {};
    var dur = isNum(s.end_ms) ? fmt(s.end_ms - s.start_ms, 2) + ' ms' : 'still running';
    tl.tip.textContent = 'task ' + s.task + ' · step ' + s.step + ' (' + s.kind + ')\n' +
      'thread ' + (th.name || '?') + ' (tid ' + s.tid + ')\n' +
      'core ' + (isNum(s.core) ? s.core : NA) + ' · ' + dur + '\n' +
      'at ' + fmt((s.start_ms - tl.to) / 1000, 3) + ' s';
    tl.tip.hidden = false;
    var tx = mx + 14, ty = my + 14;
    if (tx + tl.tip.offsetWidth > tl.cssW) tx = mx - tl.tip.offsetWidth - 10;
    if (ty + tl.tip.offsetHeight > tl.cssH) ty = my - tl.tip.offsetHeight - 10;
    tl.tip.style.left = Math.max(0, tx) + 'px';
    tl.tip.style.top = Math.max(0, ty) + 'px';
    if (tl.hoverTask !== s.task) { tl.hoverTask = s.task; requestDraw(); }
  }
  tl.canvas.addEventListener('mousemove', function (ev) {
    var rect = tl.canvas.getBoundingClientRect();
    tl.mouse = { x: ev.clientX - rect.left, y: ev.clientY - rect.top };
    updateHover();
  });
  tl.canvas.addEventListener('mouseleave', function () {
    tl.mouse = null;
    tl.tip.hidden = true;
    if (tl.hoverTask !== null) { tl.hoverTask = null; requestDraw(); }
  });
  window.addEventListener('resize', requestDraw);

  /* ------------------------------------------------------------------ */
  /* one snapshot                                                        */
  /* ------------------------------------------------------------------ */

  var lastEventAt = 0;
  var lastUptime = null;

  function handleSnapshot(text) {
    var t0 = performance.now();
    var s;
    try { s = JSON.parse(text); } catch (e) { console.warn('threadlab: bad snapshot', e); return; }
    if (!s || typeof s !== 'object') return;
    lastEventAt = Date.now();
    if (api.streamState !== 'live' && source && source.readyState === 1) setStreamState('live');
    if (isNum(s.seq) && s.seq === api.lastSeq) return;           // already shown (initial GET + stream)
    if (isNum(s.seq) && isNum(api.lastSeq) && s.seq < api.lastSeq) {
      /* older snapshot: either a late reply, or the server restarted */
      if (!(isNum(s.uptime_ms) && isNum(lastUptime) && s.uptime_ms < lastUptime)) return;
      clearCharts();
      prevStatus = null;
    }
    lastUptime = s.uptime_ms;

    var threads = Array.isArray(s.threads) ? s.threads : [];
    var byTid = new Map();
    for (var i = 0; i < threads.length; i++) byTid.set(threads[i].tid, threads[i]);
    var natural = threads.slice().sort(naturalCompare);

    api.snapshot = s;
    renderHeader(s);
    syncControls(s);
    renderCores(s, byTid);
    renderScoreboard(natural);
    renderTable(sortState.key ? threadsSorted(threads) : natural);
    renderInsights(s.insights);
    renderCharts(s);
    prepareTimeline(s, natural, byTid);

    api.lastSeq = isNum(s.seq) ? s.seq : api.lastSeq;
    api.snapshots++;
    api.lastRenderMs = Math.round((performance.now() - t0) * 100) / 100;
    setText(hdr['footer-seq'], 'seq ' + api.lastSeq + ' · period ' + fmt(s.period_ms, 1) + ' ms');
    setText(hdr['footer-render'], 'last update rendered in ' + fmt(api.lastRenderMs, 1) + ' ms, timeline drawn in ' +
      (isNum(api.lastDrawMs) ? fmt(api.lastDrawMs, 1) : NA) + ' ms');
  }

  /* ------------------------------------------------------------------ */
  /* the live stream                                                     */
  /* ------------------------------------------------------------------ */

  var source = null;
  var retryTimer = null;
  var statusEl = $('stream-status');
  var ageEl = $('stream-age');

  function setStreamState(st) {
    api.streamState = st;
    setText(statusEl, st);
    setClass(statusEl, 'status ' + st);
    statusEl.title = st === 'live' ? 'connected to /stats/stream'
      : st === 'reconnecting' ? 'the stream was lost; the browser keeps retrying' : 'connecting to /stats/stream';
  }

  function connect() {
    retryTimer = null;
    if (source) source.close();
    if (typeof window.EventSource !== 'function') { setStreamState('reconnecting'); return; }
    source = new EventSource('/stats/stream');
    source.onopen = function () { setStreamState('live'); };
    source.onmessage = function (ev) { handleSnapshot(ev.data); };
    source.onerror = function () {
      setStreamState('reconnecting');
      /* CONNECTING: the browser retries by itself. CLOSED (e.g. HTTP error): retry ourselves. */
      if (source.readyState === 2 && !retryTimer) retryTimer = setTimeout(connect, 2000);
    };
  }

  function tickAge() {
    if (!lastEventAt) return;
    var age = (Date.now() - lastEventAt) / 1000;
    var period = api.snapshot && isNum(api.snapshot.period_ms) ? api.snapshot.period_ms / 1000 : 0.5;
    var stale = api.streamState !== 'live' || age > Math.max(2.5, 3 * period);
    setText(ageEl, 'last update ' + (age < 10 ? fmt(age, 1) : fmt(age, 0)) + ' s ago');
    ageEl.classList.toggle('stale', stale);
    document.body.classList.toggle('stale', stale);
  }

  charts = initCharts();
  setStreamState('connecting');
  connect();
  setInterval(tickAge, 250);
  /* Show something at once rather than after the first period. */
  fetch('/stats', { cache: 'no-store' })
    .then(function (r) { return r.ok ? r.text() : null; })
    .then(function (t) { if (t) handleSnapshot(t); })
    .catch(function () { /* the stream will bring data, or show the error */ });
})();
