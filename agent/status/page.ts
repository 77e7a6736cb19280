/**
 * The minimal status page: one self-contained document (no external assets, works with no
 * internet). It polls /api/status once a second. Bad quality is never shown as a value.
 */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>allbit gateway</title>
<style>
  :root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --muted: #6e7781; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 2rem; }
  h1 { font-size: 1.3rem; margin: 0 0 .5rem; }
  .summary { display: flex; flex-wrap: wrap; gap: 1.5rem; margin-bottom: 1rem; }
  .summary div span { display: block; color: var(--muted); font-size: .8rem; }
  .banner { padding: .5rem .8rem; border-radius: 4px; background: #fff8c5; color: #4d2d00; margin-bottom: 1rem; }
  .device { border: 1px solid #8884; border-radius: 6px; padding: .6rem .9rem; margin-bottom: 1rem; }
  .device h2 { font-size: 1rem; margin: 0; }
  .meta { color: var(--muted); font-size: .85rem; margin: .2rem 0 .5rem; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  td, th { text-align: left; padding: .15rem .5rem; border-bottom: 1px solid #8882; }
  td.value { text-align: right; min-width: 7rem; }
  .good { color: var(--ok); } .uncertain { color: var(--warn); } .bad { color: var(--bad); }
</style>
</head>
<body>
<h1 id="title">allbit gateway</h1>
<div id="banner" class="banner" hidden></div>
<div class="summary" id="summary"></div>
<div id="buses"></div>
<div id="devices"></div>
<script>
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const ago = (ms, now) => ms == null ? 'never' : Math.max(0, Math.round((now - ms) / 1000)) + ' s ago';
function fmt(t) {
  if (t.quality === 'bad' || t.value === null) return '<span class="bad">— ' + esc(t.reason || 'bad') + '</span>';
  const v = typeof t.value === 'number' ? (Math.abs(t.value) >= 1000 ? t.value.toFixed(0) : String(Math.round(t.value * 1000) / 1000)) : String(t.value);
  return '<span class="' + esc(t.quality) + '">' + esc(v) + (t.unit ? ' ' + esc(t.unit) : '') + (t.quality === 'uncertain' ? ' (' + esc(t.reason) + ')' : '') + '</span>';
}
function render(s) {
  document.getElementById('title').textContent = 'allbit gateway ' + s.name;
  const b = s.broker, buf = s.buffer;
  const banner = document.getElementById('banner');
  const buffering = !b || b.state !== 'connected';
  banner.hidden = !buffering;
  if (buffering) banner.textContent = 'Broker not connected: readings are being buffered (' + (buf ? buf.readings : 0) + ' waiting), not forwarded.' + (b && b.lastError ? ' Last error: ' + b.lastError : '');
  document.getElementById('summary').innerHTML = [
    ['gateway', esc(s.id) + ' v' + esc(s.version)],
    ['uptime', Math.round((s.nowMs - s.startedMs) / 1000) + ' s'],
    ['broker', b ? '<span class="' + (b.state === 'connected' ? 'good' : 'bad') + '">' + esc(b.state) + '</span> since ' + ago(b.sinceMs, s.nowMs) : '—'],
    ['buffer', buf ? buf.records + ' messages / ' + buf.readings + ' readings, oldest ' + ago(buf.oldestCreatedMs, s.nowMs) : '—'],
    ['dropped', buf ? buf.droppedReadings + ' readings' : '—'],
    ['readings in / reported', s.readingsIn + ' / ' + s.readingsReported],
  ].map(([k, v]) => '<div><span>' + k + '</span>' + v + '</div>').join('');
  const buses = s.buses || [];
  document.getElementById('buses').innerHTML = buses.length === 0 ? '' : '<section class="device"><h2>RTU lines</h2><table><thead><tr><th>bus</th><th>line</th><th>state</th><th>devices</th><th>requests / answered</th><th>errors</th><th>mean latency</th><th>busy</th></tr></thead><tbody>'
    + buses.map((l) => {
      const errs = Object.entries(l.errors).filter(([, n]) => n > 0).map(([k, n]) => k + ' ' + n).join(', ') || 'none';
      const state = l.open ? '<span class="good">open</span>' : '<span class="bad">closed</span>' + (l.backoffMs ? ' · retry in ' + Math.round(l.backoffMs / 1000) + ' s' : '');
      return '<tr data-bus="' + esc(l.id) + '"><td>' + esc(l.id) + '</td><td>' + esc(l.description) + '</td><td>' + state + (l.lastError ? ' · ' + esc(l.lastError) : '') + '</td><td>' + esc(l.devices.join(', ')) + '</td><td>' + l.requests + ' / ' + l.answered + '</td><td>' + esc(errs) + '</td><td>' + (l.meanLatencyMs == null ? '—' : l.meanLatencyMs.toFixed(1) + ' ms') + '</td><td>' + Math.round(l.utilization * 100) + ' %</td></tr>';
    }).join('') + '</tbody></table></section>';
  document.getElementById('devices').innerHTML = s.devices.map((d) => {
    const h = d.health, e = d.driver ? d.driver.errors : null;
    const errors = e ? Object.entries(e).map(([k, n]) => k + ' ' + n).join(', ') : '';
    const rows = d.tags.map((t) => '<tr><td title="' + esc(t.description) + '">' + esc(t.tag) + '</td><td class="value">' + fmt(t) + '</td><td class="' + esc(t.quality) + '">' + esc(t.quality) + '</td><td>' + ago(t.receivedMs ?? t.timestampMs, s.nowMs) + '</td></tr>').join('');
    return '<section class="device" data-device="' + esc(d.id) + '"><h2>' + esc(d.name) + ' <span class="' + (h.connected ? 'good' : 'bad') + '">' + (h.connected ? 'online' : 'offline') + '</span></h2>'
      + '<div class="meta">' + esc(d.protocol) + ' ' + esc(d.address) + (d.profile ? ' · profile ' + esc(d.profile) : '') + ' · last poll ' + ago(h.lastCycleMs, s.nowMs) + ' · last good ' + ago(h.lastGoodCycleMs, s.nowMs)
      + ' · errors ' + esc(errors) + (h.nextConnectMs ? ' · retry in ' + Math.max(0, Math.round((h.nextConnectMs - s.nowMs) / 1000)) + ' s' : '') + (h.lastError ? ' · ' + esc(h.lastError) : '') + '</div>'
      + '<table><thead><tr><th>tag</th><th>value</th><th>quality</th><th>age</th></tr></thead><tbody>' + rows + '</tbody></table></section>';
  }).join('');
}
let lastOk = null;
function unreachable() {
  const banner = document.getElementById('banner');
  banner.hidden = false;
  banner.textContent = 'The gateway is not answering' + (lastOk ? ' — the values below are from ' + lastOk.toLocaleTimeString() + ' and may be out of date.' : '.');
}
async function tick() {
  try {
    const r = await fetch('/api/status', { cache: 'no-store' });
    if (!r.ok) throw new Error(String(r.status));
    render(await r.json());
    lastOk = new Date();
  } catch { unreachable(); }
  setTimeout(tick, 1000);
}
tick();
</script>
</body>
</html>
`;
