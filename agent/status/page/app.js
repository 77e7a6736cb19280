// allbit status page: one EventSource (/api/events, plus ?device=ID while a device is open),
// rendered in place (rows are created once and their text updated), so values change without the
// layout moving. Plain JS, no build step; every text goes in through textContent.
'use strict';

const $ = (id) => document.getElementById(id);
const PRIORITIES = ['critical', 'high', 'medium', 'low'];

/** Creates an element: h('td', { class: 'num', title: 'x' }, 'text', child…). */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}
function setText(el, text) {
  const t = String(text);
  if (el.textContent !== t) el.textContent = t;
}
function setClass(el, cls) {
  if (el.className !== cls) el.className = cls;
}

// ---- formatting --------------------------------------------------------------------------------

function fmtNumber(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e15) return v.toLocaleString('en-US');
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : a >= 10 ? 2 : 3;
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
function fmtValue(v) {
  if (typeof v === 'number') return fmtNumber(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return String(v);
}
function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return s + ' s';
  const m = Math.floor(s / 60);
  if (m < 60) return m + ' min ' + String(s % 60).padStart(2, '0') + ' s';
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return hrs + ' h ' + String(m % 60).padStart(2, '0') + ' min';
  return Math.floor(hrs / 24) + ' d ' + (hrs % 24) + ' h';
}
function ago(ms, now) {
  return ms === null || ms === undefined ? 'never' : fmtDuration(now - ms) + ' ago';
}
function clockTime(ms) {
  return ms === null || ms === undefined ? '—' : new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
}
function rate(v) {
  return fmtNumber(Math.round(v * 10) / 10) + ' /s';
}

// ---- state -------------------------------------------------------------------------------------

const page = {
  overview: null,
  alarms: null,
  session: { authenticated: false, loginAvailable: true },
  device: undefined, // id of the open device (null: the overview; undefined: not routed yet)
  deviceRows: new Map(), // tag → { row, cells, spark }
  deviceRowsFor: null,
  lastEventMs: 0,
  historyTimer: null,
};

// ---- theme -------------------------------------------------------------------------------------

function applyTheme() {
  const theme = localStorage.getItem('allbit-theme');
  if (theme === 'dark' || theme === 'light') document.documentElement.dataset.theme = theme;
  else delete document.documentElement.dataset.theme;
  setText($('theme-label'), theme || 'auto');
  for (const { spark } of page.deviceRows.values()) if (spark) spark.redraw(false, false);
}
$('theme').addEventListener('click', () => {
  const order = [null, 'dark', 'light'];
  const next = order[(order.indexOf(localStorage.getItem('allbit-theme')) + 1) % order.length];
  if (next) localStorage.setItem('allbit-theme', next);
  else localStorage.removeItem('allbit-theme');
  applyTheme();
  // Chart colours come from the theme: rebuild the sparklines.
  if (page.device) { clearDeviceRows(); renderDeviceIfAny(); loadHistory(); }
});

// ---- overview ----------------------------------------------------------------------------------

function renderOverview(o) {
  page.overview = o;
  const now = o.nowMs;
  document.title = 'allbit ' + o.name;
  setText($('gw-name'), o.name);
  setText($('k-gateway'), o.id);
  setText($('k-version'), 'v' + o.version + (o.ready ? '' : ' · starting'));
  setText($('k-uptime'), fmtDuration(o.uptimeMs));
  setText($('k-started'), 'since ' + new Date(o.startedMs).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }));

  const b = o.broker;
  const bv = $('k-broker');
  setText(bv, b ? b.state : 'not started');
  setClass(bv, 'v ' + (b && b.state === 'connected' ? 'good' : 'bad'));
  setText($('k-broker-since'), b ? 'since ' + clockTime(b.sinceMs) + ' (' + fmtDuration(now - b.sinceMs) + ')' : '');
  $('k-broker-since').title = b ? 'since ' + new Date(b.sinceMs).toLocaleString() : '';
  const be = $('k-broker-error');
  be.hidden = !(b && b.lastError && b.state !== 'connected');
  if (!be.hidden) setText(be, 'Broker: ' + b.lastError);

  const buf = o.buffer;
  setText($('k-buffer'), buf ? fmtNumber(buf.readings) + ' readings' : '—');
  setText($('k-buffer-sub'), buf ? fmtNumber(buf.records) + ' msgs · ' + fmtBytes(buf.bytes) + ' / ' + fmtBytes(buf.maxBytes) : '');
  setText($('k-oldest'), buf && buf.oldestAgeMs !== null ? fmtDuration(buf.oldestAgeMs) : 'none');
  setText($('k-dropped'), buf ? fmtNumber(buf.droppedReadings) + ' readings dropped' : '');
  setText($('k-in'), rate(o.rates.inPerSec));
  setText($('k-in-total'), fmtNumber(o.readingsIn) + ' since start');
  setText($('k-out'), rate(o.rates.forwardedPerSec));
  setText($('k-reported'), 'forwarded; reported ' + rate(o.rates.reportedPerSec));
  $('k-reported').title = 'readings/s acknowledged by the broker; reported: committed to the outbox (report by exception)';

  const a = o.alarms;
  const av = $('k-alarms');
  if (a) {
    setText(av, a.total + ' active');
    setClass(av, 'v ' + (a.unacknowledged > 0 ? 'bad' : a.total > 0 ? 'uncertain' : 'good'));
    setText($('k-alarms-sub'), a.unacknowledged + ' unack · ' + a.shelved + ' shelved');
  } else {
    setText(av, 'no rules');
    setClass(av, 'v');
    setText($('k-alarms-sub'), 'no alarm rules configured');
  }

  const banner = $('banner');
  banner.hidden = !o.buffering;
  if (o.buffering) {
    setText(banner, 'Data is being buffered, not forwarded: the MQTT broker is ' + (b ? b.state : 'not connected') + (b ? ' since ' + clockTime(b.sinceMs) : '') + '. ' +
      (buf ? fmtNumber(buf.readings) + ' readings waiting, the oldest ' + (buf.oldestAgeMs === null ? '—' : fmtDuration(buf.oldestAgeMs)) + ' old.' : '') +
      (b && b.lastError ? ' Last error: ' + b.lastError : ''));
  }

  renderDeviceCards(o);
  renderBuses(o);
  if (page.alarms) renderAlarms(page.alarms);
}

function fmtBytes(n) {
  if (n < 1024) return n + ' B';
  if (n < 1024 * 1024) return (n / 1024).toFixed(1) + ' KB';
  if (n < 1024 ** 3) return (n / 1024 / 1024).toFixed(1) + ' MB';
  return (n / 1024 ** 3).toFixed(2) + ' GB';
}

function errorText(driver) {
  if (!driver) return 'none';
  const parts = Object.entries(driver.errors).filter(([, n]) => n > 0).map(([k, n]) => k + ' ' + fmtNumber(n));
  return parts.length ? parts.join(', ') : 'none';
}
function backoffText(health, now) {
  if (health.connected) return 'none';
  if (!health.backoffMs) return '—';
  return fmtDuration(health.backoffMs) + (health.nextConnectMs ? ', retry in ' + fmtDuration(Math.max(0, health.nextConnectMs - now)) : '');
}

const cards = new Map();
function renderDeviceCards(o) {
  const grid = $('devices');
  const ids = o.devices.map((d) => d.id).join('\n');
  if (grid.dataset.ids !== ids) {
    grid.replaceChildren();
    cards.clear();
    for (const d of o.devices) {
      const f = {};
      const field = (label, key) => [h('dt', null, label), (f[key] = h('dd'))];
      const card = h('a', { class: 'device-card', href: '#/device/' + encodeURIComponent(d.id), dataset: { device: d.id } },
        h('div', { class: 'row1' }, h('h3', null, d.name), (f.state = h('span', { class: 'pill' }))),
        h('div', { class: 'meta' }, d.protocol + ' · ' + d.address + (d.profile ? ' · ' + d.profile : '')),
        h('dl', null, ...field('last good poll', 'lastGood'), ...field('errors', 'errors'), ...field('backoff', 'backoff'), ...field('tags', 'tags')));
      cards.set(d.id, { card, f });
      grid.append(card);
    }
    grid.dataset.ids = ids;
  }
  for (const d of o.devices) {
    const { card, f } = cards.get(d.id);
    const online = d.health.connected;
    setText(f.state, online ? 'online' : 'offline');
    setClass(f.state, 'pill ' + (online ? 'good' : 'bad'));
    setClass(card, 'device-card' + (online ? '' : ' offline'));
    card.dataset.state = online ? 'online' : 'offline';
    setText(f.lastGood, ago(d.health.lastGoodCycleMs, o.nowMs));
    setText(f.errors, errorText(d.driver));
    f.errors.title = d.health.lastError || '';
    setText(f.backoff, backoffText(d.health, o.nowMs));
    const q = d.quality;
    // A calculated value with no meaning now (not-applicable) is counted apart: it is not a fault.
    const na = q.notApplicable || 0;
    const faults = q.bad - na;
    setText(f.tags, q.good === d.tagCount ? d.tagCount + ', all good' : d.tagCount + ': ' + [q.good + ' good', q.uncertain ? q.uncertain + ' uncertain' : '', faults ? faults + ' bad' : '', na ? na + ' n/a' : ''].filter(Boolean).join(', '));
    setClass(f.tags, faults ? 'bad' : q.uncertain ? 'uncertain' : '');
  }
}

function renderBuses(o) {
  const wrap = $('buses-wrap');
  wrap.hidden = o.buses.length === 0;
  if (wrap.hidden) return;
  $('bus-rows').replaceChildren(...o.buses.map((l) => {
    const errs = Object.entries(l.errors).filter(([, n]) => n > 0).map(([k, n]) => k + ' ' + n).join(', ') || 'none';
    return h('tr', { dataset: { bus: l.id } },
      h('td', null, l.id), h('td', { title: l.description }, l.description),
      h('td', { class: l.open ? 'good' : 'bad', title: l.lastError || '' }, l.open ? 'open' : 'closed' + (l.backoffMs ? ' · retry in ' + fmtDuration(l.backoffMs) : '')),
      h('td', null, l.devices.join(', ')), h('td', { class: 'num' }, fmtNumber(l.requests) + ' / ' + fmtNumber(l.answered)),
      h('td', { title: errs }, errs), h('td', { class: 'num' }, l.meanLatencyMs == null ? '—' : l.meanLatencyMs.toFixed(1) + ' ms'),
      h('td', { class: 'num' }, Math.round(l.utilization * 100) + ' %'));
  }));
}

// ---- alarms ------------------------------------------------------------------------------------

function renderAlarms(list) {
  page.alarms = list;
  const now = page.overview ? page.overview.nowMs : list.nowMs;
  const tbody = $('alarm-rows');
  const note = $('alarm-note');
  if (!list.enabled) {
    tbody.replaceChildren(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No alarm rules are configured on this gateway.')));
    setText(note, '');
    return;
  }
  if (list.alarms.length === 0) {
    tbody.replaceChildren(h('tr', { class: 'empty' }, h('td', { colspan: 6 }, 'No active alarms.')));
  } else {
    const canAct = list.actions && page.session.authenticated;
    tbody.replaceChildren(...list.alarms.map((a) => {
      const unack = a.state === 'active-unack' || a.state === 'returned-unack';
      const shelved = a.shelvedUntilMs !== null;
      const btn = (label, action, enabled) =>
        h('button', { type: 'button', class: 'small' + (action === 'acknowledge' ? '' : ' ghost'), disabled: !canAct || !enabled, title: canAct ? label + ' ' + a.alarm : 'log in to act', dataset: { action, alarm: a.alarm }, onclick: () => act(a, action) }, label);
      const actions = list.actions
        ? h('div', { class: 'actions' }, btn('Acknowledge', 'acknowledge', unack), shelved ? btn('Unshelve', 'unshelve', true) : btn('Shelve', 'shelve', true))
        : h('span', { class: 'muted' }, '—');
      const stateText = a.state + (shelved ? ' · shelved' : '') + (a.outOfService ? ' · out of service' : '');
      return h('tr', { class: unack ? 'unack' : '', dataset: { alarm: a.alarm, state: a.state } },
        h('td', null, h('span', { class: 'prio ' + a.priority }, a.priority)),
        h('td', { class: unack ? 'bad' : 'uncertain', title: shelved ? 'shelved until ' + new Date(a.shelvedUntilMs).toLocaleString() + (a.shelvedBy ? ' by ' + a.shelvedBy : '') : '' }, stateText),
        h('td', { class: 'since', title: a.sinceMs ? new Date(a.sinceMs).toLocaleString() : '' }, clockTime(a.sinceMs), h('span', { class: 'desc' }, a.sinceMs ? ago(a.sinceMs, now) : '')),
        h('td', { class: 'msg', title: a.alarm }, a.message, h('span', { class: 'desc' }, a.device + ' · ' + a.tag)),
        h('td', { class: 'num' }, a.value === null ? '—' : fmtValue(a.value) + (a.unit ? ' ' + a.unit : '')),
        h('td', null, actions));
    }));
  }
  const counts = PRIORITIES.map((p) => list.alarms.filter((a) => a.priority === p).length + ' ' + p).join(' · ');
  const hint = list.actions && !page.session.authenticated ? 'Log in to act (acknowledge, shelve).' : '';
  setText(note, [list.alarms.length ? counts : '', hint].filter(Boolean).join(' — '));
}

async function act(alarm, action) {
  if (action === 'shelve') return openShelve(alarm);
  await sendAction(alarm.alarm, action, {});
}

async function sendAction(alarmId, action, body) {
  const res = await fetch('/api/alarms/' + encodeURIComponent(alarmId) + '/' + action, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': page.session.csrf || '' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  const answer = await res.json().catch(() => ({ error: 'HTTP ' + res.status }));
  if (res.status === 401 || res.status === 403) await loadSession();
  if (!res.ok) {
    alert(action + ' ' + alarmId + ': ' + (answer.error || 'refused'));
    return false;
  }
  await loadAlarms();
  return true;
}

async function loadAlarms() {
  const res = await fetch('/api/alarms', { cache: 'no-store' });
  if (res.ok) renderAlarms(await res.json());
}

let shelving = null;
function openShelve(alarm) {
  shelving = alarm;
  setText($('shelve-alarm'), alarm.alarm + ': ' + alarm.message);
  $('shelve-error').hidden = true;
  $('shelve-reason').value = '';
  $('shelve-dialog').showModal();
}
$('shelve-cancel').addEventListener('click', () => $('shelve-dialog').close());
$('shelve-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  if (!shelving) return;
  const ok = await sendAction(shelving.alarm, 'shelve', { minutes: Number($('shelve-minutes').value), reason: $('shelve-reason').value });
  if (ok) $('shelve-dialog').close();
});

// ---- session -----------------------------------------------------------------------------------

async function loadSession() {
  try {
    const res = await fetch('/api/session', { cache: 'no-store', credentials: 'same-origin' });
    page.session = res.ok ? await res.json() : { authenticated: false };
  } catch {
    page.session = { authenticated: false };
  }
  const s = page.session;
  $('login-btn').hidden = s.authenticated || s.loginAvailable === false;
  $('logout-btn').hidden = !s.authenticated;
  setText($('who'), s.authenticated ? 'logged in as ' + s.name : s.loginAvailable === false ? 'read only' : '');
  if (page.alarms) renderAlarms(page.alarms);
}
$('login-btn').addEventListener('click', () => {
  $('login-error').hidden = true;
  $('login-password').value = '';
  $('login-dialog').showModal();
  $('login-name').focus();
});
$('login-cancel').addEventListener('click', () => $('login-dialog').close());
$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const err = $('login-error');
  err.hidden = true;
  let res;
  try {
    res = await fetch('/api/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: $('login-name').value, password: $('login-password').value }),
      credentials: 'same-origin',
    });
  } catch {
    err.hidden = false;
    setText(err, 'The gateway is not answering.');
    return;
  }
  if (!res.ok) {
    const answer = await res.json().catch(() => ({}));
    err.hidden = false;
    setText(err, answer.error || 'Login refused (HTTP ' + res.status + ').');
    return;
  }
  $('login-password').value = '';
  $('login-dialog').close();
  await loadSession();
  // A page that could not read before (read access: login) can now.
  connect();
});
$('logout-btn').addEventListener('click', async () => {
  await fetch('/api/logout', { method: 'POST', headers: { 'x-csrf-token': page.session.csrf || '' }, credentials: 'same-origin' }).catch(() => {});
  await loadSession();
});

// ---- one device --------------------------------------------------------------------------------

function clearDeviceRows() {
  for (const { spark } of page.deviceRows.values()) if (spark) spark.destroy();
  page.deviceRows.clear();
  page.deviceRowsFor = null;
  $('tag-rows').replaceChildren();
}

function renderDevice(d, now) {
  if (page.deviceRowsFor !== d.id) {
    clearDeviceRows();
    const rows = d.tags.map((t) => {
      const cells = {
        name: h('td', { title: t.description || t.tag }, t.tag, h('span', { class: 'desc' }, t.description || '')),
        value: h('td', { class: 'num val' }),
        unit: h('td', null, t.unit || '—'),
        quality: h('td'),
        age: h('td', { class: 'num' }),
        spark: h('td', null, h('div', { class: 'spark' })),
      };
      const row = h('tr', { dataset: { tag: t.tag } }, cells.name, cells.value, cells.unit, cells.quality, cells.age, cells.spark);
      page.deviceRows.set(t.tag, { row, cells, spark: null, unit: t.unit });
      return row;
    });
    $('tag-rows').replaceChildren(...rows);
    page.deviceRowsFor = d.id;
  }
  const online = d.health.connected;
  setText($('d-name'), d.name);
  setText($('d-state'), online ? 'online' : 'offline');
  setClass($('d-state'), 'pill ' + (online ? 'good' : 'bad'));
  $('view-device').dataset.state = online ? 'online' : 'offline';
  setText($('d-protocol'), d.protocol + (d.profile ? ' · ' + d.profile : ''));
  setText($('d-address'), d.address);
  setText($('d-interval'), fmtNumber(d.pollIntervalMs) + ' ms · ' + d.requestsPerCycle + ' requests');
  setText($('d-lastgood'), ago(d.health.lastGoodCycleMs, now));
  setText($('d-duration'), d.health.lastCycleDurationMs === null ? '—' : fmtNumber(d.health.lastCycleDurationMs) + ' ms');
  setText($('d-backoff'), backoffText(d.health, now));
  setText($('d-errors'), errorText(d.driver));
  setText($('d-cycles'), fmtNumber(d.health.cycles) + ' / ' + fmtNumber(d.health.overruns));
  const de = $('d-error');
  de.hidden = !d.health.lastError || online;
  if (!de.hidden) setText(de, 'Last error: ' + d.health.lastError);

  for (const t of d.tags) {
    const r = page.deviceRows.get(t.tag);
    if (!r) continue;
    const c = r.cells;
    // Bad quality never shows a value: the reason instead.
    if (t.quality === 'bad' || t.value === null) {
      setText(c.value, '—');
      setClass(c.value, 'num val bad');
      delete c.value.dataset.raw;
      c.value.title = t.detail || t.reason || 'bad';
    } else {
      setText(c.value, fmtValue(t.value));
      setClass(c.value, 'num val ' + (t.quality === 'good' ? '' : 'uncertain'));
      c.value.dataset.raw = String(t.value);
      c.value.title = String(t.value) + (t.unit ? ' ' + t.unit : '');
    }
    setText(c.quality, t.quality + (t.reason ? ' · ' + t.reason : ''));
    setClass(c.quality, t.quality);
    c.quality.title = t.detail || '';
    r.row.dataset.quality = t.quality;
    setText(c.age, fmtDuration(now - (t.receivedMs ?? t.timestampMs)));
  }
}

function renderDeviceIfAny() {
  if (page.lastDevice && page.lastDevice.id === page.device) renderDevice(page.lastDevice, page.overview ? page.overview.nowMs : Date.now());
}

function sparkOptions() {
  const css = getComputedStyle(document.documentElement);
  const stroke = css.getPropertyValue('--chart').trim() || '#0b5cad';
  return {
    width: 150,
    height: 30,
    pxAlign: false,
    cursor: { show: false },
    select: { show: false },
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [{ show: false }, { show: false }],
    // Points show by themselves while the hour has only a few minutes (a fresh start).
    series: [{}, { stroke, width: 1.5, spanGaps: false, points: { size: 4, fill: stroke } }],
  };
}

async function loadHistory() {
  const id = page.device;
  if (!id || typeof uPlot === 'undefined') return;
  let res;
  try {
    res = await fetch('/api/devices/' + encodeURIComponent(id) + '/history', { cache: 'no-store' });
  } catch {
    return;
  }
  if (!res.ok || page.device !== id) return;
  const hist = await res.json();
  const xs = hist.minutesMs.map((m) => m / 1000);
  for (const t of hist.tags) {
    const r = page.deviceRows.get(t.tag);
    if (!r) continue;
    const data = [xs, t.values];
    if (r.spark) r.spark.setData(data);
    else r.spark = new uPlot(sparkOptions(), data, r.cells.spark.firstChild);
    r.cells.spark.title = 'last hour, one point per minute (mean); gaps: no good value';
  }
}

// ---- routing and the live stream ----------------------------------------------------------------

function route() {
  const m = /^#\/device\/(.+)$/.exec(location.hash);
  const device = m ? decodeURIComponent(m[1]) : null;
  $('view-overview').hidden = device !== null;
  $('view-device').hidden = device === null;
  if (device !== page.device) {
    page.device = device;
    page.lastDevice = null;
    clearDeviceRows();
    clearInterval(page.historyTimer);
    page.historyTimer = null;
    if (device) page.historyTimer = setInterval(loadHistory, 30_000);
    connect();
  }
}
window.addEventListener('hashchange', route);

let source = null;
let retryTimer = null;
function setLive(state, text) {
  const el = $('live');
  el.dataset.state = state;
  setText(el, text || state);
  $('main').classList.toggle('stale', state !== 'live');
  const cb = $('conn-banner');
  cb.hidden = state === 'live' || page.lastEventMs === 0;
  if (!cb.hidden) setText(cb, 'Lost the connection to the gateway — values shown are from ' + clockTime(page.lastEventMs) + ' and may be out of date. Reconnecting…');
}

function connect() {
  if (source) source.close();
  clearTimeout(retryTimer);
  const url = '/api/events' + (page.device ? '?device=' + encodeURIComponent(page.device) : '');
  const es = new EventSource(url);
  source = es;
  let historyLoaded = false;
  const seen = () => {
    page.lastEventMs = Date.now();
    setLive('live', 'live');
  };
  es.addEventListener('overview', (e) => {
    seen();
    renderOverview(JSON.parse(e.data));
    renderDeviceIfAny();
  });
  es.addEventListener('alarms', (e) => {
    seen();
    renderAlarms(JSON.parse(e.data));
  });
  es.addEventListener('device', (e) => {
    seen();
    const d = JSON.parse(e.data);
    page.lastDevice = d;
    if (d.id === page.device) renderDevice(d, page.overview ? page.overview.nowMs : Date.now());
    if (!historyLoaded) {
      historyLoaded = true;
      loadHistory();
    }
  });
  // Once a second: the device's changing part, tag i of the full view at index i.
  es.addEventListener('values', (e) => {
    seen();
    const v = JSON.parse(e.data);
    const d = page.lastDevice;
    if (!d || d.id !== v.id || d.tags.length !== v.values.length) return;
    d.health = v.health;
    d.driver = v.driver;
    d.requestsPerCycle = v.requestsPerCycle;
    for (let i = 0; i < v.values.length; i++) {
      const [value, quality, reason, receivedMs] = v.values[i];
      const t = d.tags[i];
      const nextReason = reason === null ? undefined : reason;
      // The compact stream carries no detail: an old detail is kept only while quality and reason are unchanged.
      if (quality !== t.quality || nextReason !== t.reason) t.detail = undefined;
      t.value = value;
      t.quality = quality;
      t.reason = nextReason;
      t.receivedMs = receivedMs;
    }
    if (d.id === page.device) renderDevice(d, v.nowMs);
  });
  es.onerror = () => {
    if (source !== es) return;
    setLive('reconnecting', 'reconnecting…');
    // The browser retries by itself after a network error; after an HTTP error (401, 503) it gives up, so we retry.
    if (es.readyState === EventSource.CLOSED) {
      retryTimer = setTimeout(async () => {
        await loadSession();
        connect();
      }, 3000);
    }
  };
}

// A stream that says nothing for 5 s is dead even if the socket looks open (a sleeping laptop, a lost route).
setInterval(() => {
  if (page.lastEventMs && Date.now() - page.lastEventMs > 5000 && $('live').dataset.state === 'live') {
    setLive('reconnecting', 'reconnecting…');
    connect();
  }
}, 1000);

applyTheme();
loadSession().then(() => route());
