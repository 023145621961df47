// Sentinel web UI: vanilla JavaScript, no build step. Every URL is relative to this page
// (…/ui/), so the UI works wherever Sentinel is mounted. Event data is only ever inserted as
// text, never as HTML.
'use strict';

const API = '../api/v1/';
const KEY_STORAGE = 'sentinel.apiKey';
const app = document.getElementById('app');
const titleEl = document.getElementById('title');
let renderToken = 0;

// ---------------------------------------------------------------------------------------------
// DOM helpers

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'text') el.textContent = String(v);
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'style') Object.assign(el.style, v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// ---------------------------------------------------------------------------------------------
// Formatting

const nf = new Intl.NumberFormat();
const fmt = (n) => nf.format(Number(n) || 0);
/** `1 human`, `2 humans`: a count with its noun, singular for exactly one. */
const plural = (n, one, many) => fmt(n) + ' ' + (Number(n) === 1 ? one : many);
const pct = (part, total) => (total > 0 ? (100 * part / total) : 0);
const fmtPct = (p) => (p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)) + '%';

function ago(ts) {
  if (!ts) return '—';
  const seconds = Math.round((Date.now() - Date.parse(ts)) / 1000);
  if (seconds < 5) return 'just now';
  if (seconds < 60) return seconds + 's ago';
  if (seconds < 3600) return Math.round(seconds / 60) + 'm ago';
  if (seconds < 86400) return Math.round(seconds / 3600) + 'h ago';
  return Math.round(seconds / 86400) + 'd ago';
}

function clock(ts) {
  const d = new Date(ts);
  return isNaN(d) ? String(ts) : d.toLocaleString();
}

// ---------------------------------------------------------------------------------------------
// Routing: #/page/arg?query

function route() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query] = raw.split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { page: parts[0] || 'overview', arg: parts[1], params: new URLSearchParams(query || '') };
}

function link(page, arg, params) {
  let out = '#/' + (page === 'overview' ? '' : page);
  if (arg !== undefined) out += '/' + encodeURIComponent(arg);
  const q = new URLSearchParams();
  const range = route().params.get('range');
  if (range && !(params && 'range' in params)) q.set('range', range);
  for (const [k, v] of Object.entries(params || {})) if (v) q.set(k, v);
  const qs = q.toString();
  return qs ? out + '?' + qs : out;
}

function currentRange() {
  return route().params.get('range') || '7d';
}

function rangeParams() {
  const r = currentRange();
  return r === 'all' ? {} : { from: r };
}

// ---------------------------------------------------------------------------------------------
// API

class AuthError extends Error {}

async function api(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const qs = q.toString();
  const headers = { accept: 'application/json' };
  const key = localStorage.getItem(KEY_STORAGE);
  if (key) headers['x-api-key'] = key;
  const response = await fetch(API + path + (qs ? '?' + qs : ''), { headers });
  if (response.status === 401) throw new AuthError('This Sentinel requires an API key.');
  const body = await response.json().catch(() => null);
  if (!response.ok) throw new Error((body && body.message) || ('HTTP ' + response.status));
  return body;
}

// ---------------------------------------------------------------------------------------------
// Components

function card(title, ...children) {
  return h('section', { class: 'card' }, title ? h('h2', { text: title }) : null, ...children);
}

function stat(key, label, value, sub, tone) {
  return h('div', { class: 'card stat' + (tone ? ' ' + tone : ''), 'data-stat': key },
    h('div', { class: 'stat-label', text: label }),
    h('div', { class: 'stat-value', text: value }),
    sub ? h('div', { class: 'stat-sub', text: sub }) : null);
}

function badge(decision) {
  return h('span', { class: 'badge ' + (decision === 'deny' ? 'deny' : 'allow'), text: decision || '—' });
}

function empty(text) {
  return h('p', { class: 'empty', text });
}

// Horizontal bars: total length = count, the red part = denied.
function barList(items, { href, labelOf, emptyText, testid } = {}) {
  if (!items || !items.length) return empty(emptyText || 'No data in this range.');
  const max = Math.max(...items.map((i) => i.count), 1);
  return h('ul', { class: 'bars', 'data-testid': testid },
    items.map((item) => {
      const label = labelOf ? labelOf(item) : item.key;
      const allowW = pct(item.count - item.denied, max);
      const denyW = pct(item.denied, max);
      return h('li', {},
        h('div', { class: 'bar-head' },
          href ? h('a', { href: href(item), text: label }) : h('span', { text: label }),
          h('span', { class: 'bar-num' },
            fmt(item.count),
            item.denied ? h('span', { class: 'deny-text', text: ' · ' + fmt(item.denied) + ' denied' }) : null)),
        h('div', { class: 'bar-track' },
          h('div', { class: 'bar-allow', style: { width: allowW + '%' } }),
          h('div', { class: 'bar-deny', style: { width: denyW + '%' } })));
    }));
}

// Stacked bar chart of calls over time (allowed and denied).
// `share` is the fraction of the content width the chart's card takes, so the drawing is made at
// about its displayed size and its text stays the size of the page's text.
function timeline(buckets, bucketSeconds, share = 1) {
  if (!buckets || !buckets.length) return empty('No calls in this range.');
  const W = Math.max(360, Math.round((app.clientWidth || 900) * share) - 40), H = 190, padL = 40, padB = 22, padT = 8;
  const max = Math.max(...buckets.map((b) => b.count), 1);
  // The chart spans at least MIN_BARS buckets, ending with the last one: a few seconds of data
  // would otherwise be drawn as one bar across the whole chart.
  const MIN_BARS = 30;
  const t1 = Date.parse(buckets[buckets.length - 1].start) + bucketSeconds * 1000;
  const span = Math.max(t1 - Date.parse(buckets[0].start), bucketSeconds * 1000 * MIN_BARS);
  const t0 = t1 - span;
  const x = (t) => padL + (W - padL - 4) * (t - t0) / span;
  const y = (v) => padT + (H - padT - padB) * (1 - v / max);
  const bw = Math.max(2, (W - padL - 4) * (bucketSeconds * 1000) / span - 2);
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img', 'aria-label': 'Calls over time' });
  for (const f of [0, 0.5, 1]) {
    const v = Math.round(max * f);
    svg.appendChild(s('line', { x1: padL, x2: W - 4, y1: y(v), y2: y(v), class: 'grid' }));
    svg.appendChild(s('text', { x: padL - 6, y: y(v) + 4, class: 'axis', 'text-anchor': 'end' }, fmt(v)));
  }
  for (const b of buckets) {
    const t = Date.parse(b.start);
    const allowed = b.count - b.denied;
    const g = s('g', {}, s('title', {}, `${clock(b.start)}\n${fmt(b.count)} calls, ${fmt(b.denied)} denied`));
    g.appendChild(s('rect', { x: x(t) + 1, y: y(allowed), width: bw, height: Math.max(0, y(0) - y(allowed)), class: 'allow-fill', rx: 1.5 }));
    if (b.denied) g.appendChild(s('rect', { x: x(t) + 1, y: y(b.count), width: bw, height: Math.max(1, y(allowed) - y(b.count)), class: 'deny-fill', rx: 1.5 }));
    svg.appendChild(g);
  }
  // Axis labels as precise as the span needs (days, minutes or seconds); a label equal to the
  // previous one is left out rather than repeated.
  const ticks = 4;
  const label = span > 2 * 86400e3 ? (d) => d.toLocaleDateString(undefined, { month: 'short', day: 'numeric' })
    : span > 10 * 60e3 ? (d) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : (d) => d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  let previous = null;
  for (let i = 0; i <= ticks; i++) {
    const t = t0 + span * i / ticks;
    const text = label(new Date(t));
    if (text === previous) continue;
    previous = text;
    svg.appendChild(s('text', { x: x(t), y: H - 6, class: 'axis', 'text-anchor': i === 0 ? 'start' : i === ticks ? 'end' : 'middle' }, text));
  }
  return h('div', {}, svg, h('div', { class: 'legend' },
    h('span', { class: 'dot allow-dot' }), 'allowed', h('span', { class: 'dot deny-dot' }), 'denied',
    h('span', { class: 'muted', text: ' · one bar = ' + humanSeconds(bucketSeconds) })));
}

function humanSeconds(sec) {
  if (sec % 86400 === 0) return sec / 86400 + 'd';
  if (sec % 3600 === 0) return sec / 3600 + 'h';
  if (sec % 60 === 0) return sec / 60 + 'm';
  return sec + 's';
}

function donut(allowed, denied) {
  const total = allowed + denied;
  const R = 42, C = 2 * Math.PI * R;
  const denyLen = total ? C * denied / total : 0;
  return h('div', { class: 'donut-wrap' },
    s('svg', { viewBox: '0 0 120 120', class: 'donut', role: 'img', 'aria-label': 'Allowed versus denied' },
      s('circle', { cx: 60, cy: 60, r: R, class: total ? 'allow-stroke' : 'grid-stroke' }),
      denied ? s('circle', { cx: 60, cy: 60, r: R, class: 'deny-stroke', 'stroke-dasharray': `${denyLen} ${C - denyLen}`, transform: 'rotate(-90 60 60)' }) : null,
      s('text', { x: 60, y: 58, 'text-anchor': 'middle', class: 'donut-big' }, fmtPct(pct(denied, total))),
      s('text', { x: 60, y: 76, 'text-anchor': 'middle', class: 'donut-small' }, 'denied')),
    h('div', { class: 'donut-legend' },
      h('div', {}, h('span', { class: 'dot allow-dot' }), fmt(allowed) + ' allowed'),
      h('div', {}, h('span', { class: 'dot deny-dot' }), fmt(denied) + ' denied')));
}

function eventsTable(events, { testid } = {}) {
  const table = h('table', { class: 'events', 'data-testid': testid || 'events' },
    h('thead', {}, h('tr', {},
      ['Time', 'Server', 'Agent', 'Human', 'Tool', 'Decision', 'Reason', 'Status', 'Latency'].map((c) => h('th', { text: c })))),
    h('tbody', {}));
  addRows(table, events);
  return table;
}

function addRows(table, events) {
  const body = table.querySelector('tbody');
  for (const e of events) {
    const p = e.payload || {};
    const open = () => { location.hash = link('event', e.event_id); };
    body.appendChild(h('tr', { 'data-event-id': e.event_id, class: 'clickable', onclick: open },
      h('td', { title: clock(e.timestamp) }, h('a', { href: link('event', e.event_id), text: ago(e.timestamp) })),
      h('td', {}, p.server ? h('a', { href: link('server', p.server), text: p.server, onclick: stop }) : '—'),
      h('td', {}, p.agent_id ? h('a', { href: link('agent', p.agent_id), text: p.agent_id, onclick: stop }) : '—'),
      h('td', { text: p.human_id || '—' }),
      h('td', { class: 'mono', text: p.tool_name || p.rpc_method || '—' }),
      h('td', {}, badge(p.decision)),
      h('td', { class: 'mono small', text: p.reason || '' }),
      h('td', { text: p.status ?? '' }),
      h('td', { class: 'num', text: p.latency_ms !== undefined ? p.latency_ms + ' ms' : '' })));
  }
}

function stop(ev) { ev.stopPropagation(); }

function grid(...children) {
  return h('div', { class: 'grid' }, ...children);
}

// ---------------------------------------------------------------------------------------------
// Pages

async function overview() {
  setTitle('Overview', 'overview');
  const u = await api('analytics/usage', { ...rangeParams(), top: 8 });
  const sm = u.summary;
  return [
    h('div', { class: 'stats' },
      stat('calls', 'Calls', fmt(sm.total_events), sm.last_event ? 'last ' + ago(sm.last_event) : 'no calls yet'),
      stat('deny-rate', 'Deny rate', fmtPct(sm.deny_rate * 100), fmt(sm.denied) + ' denied', sm.denied ? 'warn' : ''),
      stat('servers', 'Servers', fmt(sm.servers)),
      stat('agents', 'Agents', fmt(sm.agents), plural(sm.humans, 'human', 'humans')),
      stat('tools', 'Tools', fmt(sm.tools))),
    h('div', { class: 'grid wide-left' },
      card('Calls over time', timeline(u.timeline, u.bucket_seconds, 0.68)),
      card('Decisions', donut(sm.allowed, sm.denied))),
    grid(
      card('Top tools', barList(u.by_tool, { testid: 'top-tools', href: (i) => link('activity', undefined, { tool_name: i.key }) })),
      card('Top agents', barList(u.by_agent, { testid: 'top-agents', href: (i) => link('agent', i.key) })),
      card('Servers', barList(u.by_server, { testid: 'top-servers', href: (i) => link('server', i.key) })),
      card('Deny reasons', barList(u.deny_reasons, { testid: 'deny-reasons', emptyText: 'Nothing was denied in this range.', href: (i) => link('activity', undefined, { decision: 'deny', reason: i.key }) }))),
  ];
}

const FILTERS = [
  ['server', 'Server', 'by_server'],
  ['agent_id', 'Agent', 'by_agent'],
  ['human_id', 'Human', 'by_human'],
  ['tool_name', 'Tool', 'by_tool'],
  ['decision', 'Decision', null],
  ['reason', 'Reason', 'deny_reasons'],
];

async function activity() {
  setTitle('Activity', 'activity');
  const params = route().params;
  const filter = {};
  for (const [name] of FILTERS.concat([['session_id'], ['trace_id']])) {
    const v = params.get(name);
    if (v) filter[name] = v;
  }
  const [u, page, stats] = await Promise.all([
    api('analytics/usage', { ...rangeParams(), top: 200 }),
    api('events', { ...rangeParams(), ...filter, limit: 50 }),
    api('stats', { ...rangeParams(), ...filter }),
  ]);
  const bar = h('form', { class: 'filters', onsubmit: (e) => e.preventDefault() });
  for (const [name, label, source] of FILTERS) {
    const options = source ? (u[source] || []).map((g) => g.key) : ['allow', 'deny'];
    if (filter[name] && !options.includes(filter[name])) options.unshift(filter[name]);
    const select = h('select', { id: 'f-' + name, name, onchange: () => applyFilter(name, select.value) },
      h('option', { value: '', text: 'All ' + label.toLowerCase() + (label.endsWith('s') ? 'es' : 's') }),
      options.map((o) => h('option', { value: o, text: o, selected: filter[name] === o })));
    bar.appendChild(h('label', {}, h('span', { text: label }), select));
  }
  for (const extra of ['session_id', 'trace_id']) {
    if (filter[extra]) bar.appendChild(h('span', { class: 'chip' }, extra + ': ' + filter[extra] + ' ', h('a', { href: link('activity', undefined, { ...filter, [extra]: '' }), text: '×', title: 'remove' })));
  }
  if (Object.keys(filter).length) bar.appendChild(h('a', { class: 'clear', href: link('activity'), text: 'Clear filters' }));
  const table = eventsTable(page.events, { testid: 'activity' });
  let cursor = page.next_cursor;
  const more = h('button', { class: 'more', text: 'Load more', onclick: async () => {
    more.disabled = true;
    const next = await api('events', { ...rangeParams(), ...filter, limit: 50, cursor });
    addRows(table, next.events);
    cursor = next.next_cursor;
    more.disabled = false;
    more.hidden = !cursor;
  } });
  more.hidden = !cursor;
  return [
    bar,
    h('p', { class: 'summary', 'data-testid': 'activity-summary' },
      h('strong', { text: fmt(stats.total_events) }), ' matching events · ',
      h('span', { class: stats.denied ? 'deny-text' : '', text: fmt(stats.denied) + ' denied' })),
    card(null, page.events.length ? table : empty('No events match these filters.'), more),
  ];
}

function applyFilter(name, value) {
  const params = route().params;
  const next = {};
  for (const [k, v] of params) next[k] = v;
  next[name] = value;
  location.hash = link('activity', undefined, next);
}

async function decisions() {
  setTitle('Policy decisions', 'decisions');
  const u = await api('analytics/usage', { ...rangeParams(), decision: 'deny', top: 50 });
  const all = await api('stats', rangeParams());
  const reasons = u.deny_reasons || [];
  const details = await Promise.all(reasons.map((r) =>
    api('analytics/usage', { ...rangeParams(), decision: 'deny', reason: r.key, top: 3 })));
  const rows = reasons.map((r, i) => {
    const d = details[i];
    const top = (list) => (list || []).map((g) => `${g.key} (${fmt(g.count)})`).join(', ') || '—';
    return h('tr', { 'data-reason-row': r.key },
      h('td', {}, h('a', { class: 'mono', href: link('activity', undefined, { decision: 'deny', reason: r.key }), 'data-reason': r.key, text: r.key })),
      h('td', { class: 'num', text: fmt(r.count) }),
      h('td', {}, h('div', { class: 'share' }, h('div', { class: 'bar-track' }, h('div', { class: 'bar-deny', style: { width: pct(r.count, u.summary.total_events) + '%' } })), h('span', { text: fmtPct(pct(r.count, u.summary.total_events)) }))),
      h('td', { class: 'small', text: top(d.by_tool) }),
      h('td', { class: 'small', text: top(d.by_agent) }),
      h('td', {}, h('a', { href: link('activity', undefined, { decision: 'deny', reason: r.key }), text: 'View events →' })));
  });
  return [
    h('div', { class: 'stats' },
      stat('decisions', 'Decisions', fmt(all.total_events)),
      stat('denied', 'Denied', fmt(all.denied), fmtPct(all.deny_rate * 100) + ' of calls', all.denied ? 'warn' : ''),
      stat('reasons', 'Deny reasons', fmt(reasons.length))),
    card('Denials over time', timeline(u.timeline, u.bucket_seconds)),
    card('Denials by reason', reasons.length ? h('table', { class: 'events', 'data-testid': 'reasons' },
      h('thead', {}, h('tr', {}, ['Reason', 'Denials', 'Share of denials', 'Top tools', 'Top agents', ''].map((c) => h('th', { text: c })))),
      h('tbody', {}, rows)) : empty('Nothing was denied in this range.')),
  ];
}

function entityTable(items, page, testid) {
  if (!items.length) return empty('Nothing in this range.');
  return h('table', { class: 'events', 'data-testid': testid },
    h('thead', {}, h('tr', {}, ['Name', 'Calls', 'Denied', 'Deny rate', 'Avg latency', 'Last seen'].map((c) => h('th', { text: c })))),
    h('tbody', {}, items.map((i) => h('tr', { class: 'clickable', onclick: () => { location.hash = link(page, i.key); } },
      h('td', {}, h('a', { href: link(page, i.key), text: i.key, onclick: stop })),
      h('td', { class: 'num', text: fmt(i.count) }),
      h('td', { class: 'num' + (i.denied ? ' deny-text' : ''), text: fmt(i.denied) }),
      h('td', {}, h('div', { class: 'share' }, h('div', { class: 'bar-track' }, h('div', { class: 'bar-deny', style: { width: pct(i.denied, i.count) + '%' } })), h('span', { text: fmtPct(pct(i.denied, i.count)) }))),
      h('td', { class: 'num', text: i.avg_latency_ms + ' ms' }),
      h('td', { title: i.last_seen ? clock(i.last_seen) : '', text: ago(i.last_seen) })))));
}

async function servers() {
  setTitle('Servers', 'servers');
  const u = await api('analytics/usage', { ...rangeParams(), top: 500 });
  return [card(null, entityTable(u.by_server, 'server', 'servers'))];
}

async function agents() {
  setTitle('Agents', 'agents');
  const u = await api('analytics/usage', { ...rangeParams(), top: 500 });
  return [card(null, entityTable(u.by_agent, 'agent', 'agents'))];
}

async function entity(kind, name) {
  const field = kind === 'server' ? 'server' : 'agent_id';
  setTitle((kind === 'server' ? 'Server ' : 'Agent ') + name, kind === 'server' ? 'servers' : 'agents');
  const [u, page] = await Promise.all([
    api('analytics/usage', { ...rangeParams(), [field]: name, top: 8 }),
    api('events', { ...rangeParams(), [field]: name, limit: 15 }),
  ]);
  const sm = u.summary;
  const other = kind === 'server'
    ? card('Agents', barList(u.by_agent, { href: (i) => link('agent', i.key) }))
    : card('Servers', barList(u.by_server, { href: (i) => link('server', i.key) }));
  return [
    h('div', { class: 'stats' },
      stat('calls', 'Calls', fmt(sm.total_events), sm.last_event ? 'last ' + ago(sm.last_event) : ''),
      stat('deny-rate', 'Deny rate', fmtPct(sm.deny_rate * 100), fmt(sm.denied) + ' denied', sm.denied ? 'warn' : ''),
      kind === 'server' ? stat('agents', 'Agents', fmt(sm.agents)) : stat('servers', 'Servers', fmt(sm.servers)),
      stat('tools', 'Tools', fmt(sm.tools)),
      stat('humans', 'Humans', fmt(sm.humans))),
    card('Calls over time', timeline(u.timeline, u.bucket_seconds)),
    grid(
      card('Tools', barList(u.by_tool, { href: (i) => link('activity', undefined, { [field]: name, tool_name: i.key }) })),
      other,
      card('Deny reasons', barList(u.deny_reasons, { emptyText: 'Nothing was denied.', href: (i) => link('activity', undefined, { [field]: name, decision: 'deny', reason: i.key }) }))),
    card('Recent activity', page.events.length ? eventsTable(page.events) : empty('No calls in this range.'),
      h('a', { class: 'more-link', href: link('activity', undefined, { [field]: name }), text: 'All activity →' })),
  ];
}

const TRUST = ['none', 'low', 'medium', 'high'];

function trustRow(label, value, testid) {
  const level = TRUST.indexOf(String(value || '').toLowerCase());
  return h('div', { class: 'trust-row', 'data-trust': testid },
    h('span', { class: 'trust-label', text: label }),
    h('span', { class: 'trust-steps' }, [1, 2, 3].map((i) => h('span', { class: 'step' + (level >= i ? ' on' : '') }))),
    h('span', { class: 'trust-value', text: value || '—' }));
}

function kv(rows) {
  return h('dl', { class: 'kv' }, rows.filter(([, v]) => v !== undefined && v !== null && v !== '').map(([k, v]) =>
    [h('dt', { text: k }), h('dd', {}, v instanceof Node ? v : String(v))]));
}

async function eventPage(id) {
  setTitle('Event', 'activity');
  const e = await api('events/' + encodeURIComponent(id));
  const p = e.payload || {};
  const required = TRUST.indexOf(String(p.required_trust || '').toLowerCase());
  const effective = TRUST.indexOf(String(p.effective_trust || '').toLowerCase());
  const verdict = required > 0 && effective >= 0
    ? (effective >= required ? h('p', { class: 'ok-text', text: 'Effective trust meets the requirement.' })
      : h('p', { class: 'deny-text', text: 'Effective trust is below what the tool requires.' }))
    : null;
  const grant = p.matched_grant ? (p.matched_grant_namespace ? p.matched_grant_namespace + '/' : '') + p.matched_grant : null;
  const session = p.matched_session ? (p.matched_session_namespace ? p.matched_session_namespace + '/' : '') + p.matched_session : null;
  titleEl.textContent = (p.tool_name || p.rpc_method || e.event_type) + ' on ' + (p.server || e.source);
  return [
    h('div', { class: 'event-head card' },
      badge(p.decision),
      h('div', {},
        h('div', { class: 'event-title' }, h('span', { class: 'mono', text: p.tool_name || p.rpc_method || e.event_type }), ' on ',
          p.server ? h('a', { href: link('server', p.server), text: p.server }) : e.source),
        h('div', { class: 'muted' }, clock(e.timestamp) + ' · ' + ago(e.timestamp) + (p.reason ? ' · ' : ''),
          p.reason ? h('a', { class: 'mono', href: link('activity', undefined, { decision: p.decision, reason: p.reason }), text: p.reason }) : null))),
    grid(
      card('Trust', h('div', { class: 'trust', 'data-testid': 'trust' },
        trustRow('Required by the tool', p.required_trust, 'required'),
        trustRow('Granted by admin', p.admin_trust, 'admin'),
        trustRow('Consented in session', p.consented_trust, 'consented'),
        trustRow('Effective', p.effective_trust, 'effective')), verdict,
      kv([['Side effect', p.required_side_effect], ['Risk level', p.risk_level], ['Policy version', p.policy_version]])),
      card('Grant and session', kv([
        ['Matched grant', grant ? h('span', { class: 'mono', 'data-testid': 'grant', text: grant }) : 'none'],
        ['Matched session', session ? h('span', { class: 'mono', 'data-testid': 'session', text: session }) : 'none'],
        ['Session id', p.session_id ? h('a', { href: link('activity', undefined, { session_id: p.session_id }), text: p.session_id }) : ''],
        ['Agent', p.agent_id ? h('a', { href: link('agent', p.agent_id), text: p.agent_id }) : ''],
        ['Human', p.human_id],
        ['Caller team', p.subject_team_id],
      ])),
      card('Request', kv([
        ['JSON-RPC method', p.rpc_method], ['HTTP', (p.method || '') + ' ' + (p.path || '')], ['Status', p.status],
        ['Latency', p.latency_ms !== undefined ? p.latency_ms + ' ms' : ''],
        ['Bytes in / out', (p.bytes_in ?? '') + ' / ' + (p.bytes_out ?? '')],
        ['Namespace', p.namespace], ['Cluster', p.cluster], ['Server team', p.team_id],
        ['Trace', e.trace_id ? h('a', { href: link('activity', undefined, { trace_id: e.trace_id }), text: e.trace_id }) : ''],
        ['Source', e.source], ['Event type', e.event_type], ['Event id', h('span', { class: 'mono', text: e.event_id })],
      ]))),
    h('details', { class: 'card raw' }, h('summary', { text: 'Raw event JSON' }), h('pre', { text: JSON.stringify(e, null, 2) })),
  ];
}

async function chains() {
  setTitle('Audit chains', 'chains');
  const since = currentRange() === 'all' ? {} : { since: currentRange() };
  const body = await api('chains', since);
  const rows = body.chains.map((c) => {
    const cp = c.last_checkpoint;
    const cpText = !cp ? 'none yet'
      : 'seq ' + fmt(cp.seq) + ' · signature ' + cp.signature
        + (cp.matches_event === false ? ' · DOES NOT MATCH the stored event' : '')
        + (cp.time ? ' · ' + ago(cp.time) : '');
    const cpBad = cp && (cp.signature === 'invalid' || cp.matches_event === false);
    const healthy = !c.gaps && !c.mismatches && !cpBad;
    return h('tr', { 'data-chain': c.chain_id },
      h('td', {}, h('div', { text: c.source }), h('div', { class: 'muted mono', text: c.chain_id })),
      h('td', { class: 'num', 'data-col': 'events', text: fmt(c.events) }),
      h('td', { class: 'num', 'data-col': 'last-seq', text: fmt(c.last_seq) }),
      h('td', { class: 'num' + (c.gaps ? ' deny-text' : ''), 'data-col': 'gaps', text: fmt(c.gaps) }),
      h('td', { class: 'num' + (c.mismatches ? ' deny-text' : ''), 'data-col': 'mismatches', text: fmt(c.mismatches) }),
      h('td', { class: cpBad ? 'deny-text' : (cp && cp.signature === 'valid' ? 'ok-text' : 'muted'), 'data-col': 'checkpoint', text: cpText }),
      h('td', { 'data-col': 'status', class: healthy ? 'ok-text' : 'deny-text', text: healthy ? 'intact' : 'check with sentinel verify' }),
      h('td', { title: c.last_event ? clock(c.last_event) : '', text: ago(c.last_event) }));
  });
  const keys = body.signature_keys.length
    ? 'Checkpoint signatures are checked on receipt against key ' + body.signature_keys.join(', ') + '.'
    : 'No checkpoint key is configured in this Sentinel: signatures are stored unchecked.';
  return [
    card(null,
      h('p', { class: 'muted', text: 'Each gateway instance chains its audit events (seq, prev_hash) and signs the chain head in checkpoints. '
        + 'Gaps and mismatches are computed from what was recorded on receipt; `mcp-runtime sentinel verify` re-checks the stored events themselves. ' + keys }),
      rows.length ? h('table', { class: 'events', 'data-testid': 'chains' },
        h('thead', {}, h('tr', {}, ['Gateway instance', 'Events', 'Last seq', 'Gaps', 'Mismatches', 'Last checkpoint', 'Status', 'Last event'].map((t) => h('th', { text: t })))),
        h('tbody', {}, rows)) : empty('No chained events in this range.')),
  ];
}

// ---------------------------------------------------------------------------------------------
// Shell

function setTitle(text, page) {
  titleEl.textContent = text;
  document.title = text + ' · Sentinel';
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.page === page);
}

function keyForm(message) {
  const input = h('input', { type: 'password', placeholder: 'x-api-key', autocomplete: 'off' });
  return card('API key needed', h('p', { text: message }),
    h('form', { class: 'keyform', onsubmit: (e) => { e.preventDefault(); localStorage.setItem(KEY_STORAGE, input.value.trim()); render(); } },
      input, h('button', { type: 'submit', text: 'Use key' })));
}

async function render() {
  const token = ++renderToken;
  const r = route();
  for (const b of document.querySelectorAll('#range button')) {
    b.classList.toggle('active', b.dataset.range === currentRange());
  }
  app.setAttribute('aria-busy', 'true');
  let content;
  try {
    switch (r.page) {
      case 'overview': content = await overview(); break;
      case 'activity': content = await activity(); break;
      case 'decisions': content = await decisions(); break;
      case 'servers': content = await servers(); break;
      case 'agents': content = await agents(); break;
      case 'chains': content = await chains(); break;
      case 'server': content = await entity('server', r.arg || ''); break;
      case 'agent': content = await entity('agent', r.arg || ''); break;
      case 'event': content = await eventPage(r.arg || ''); break;
      default: setTitle('Not found', ''); content = [empty('No such page.')];
    }
  } catch (err) {
    content = [err instanceof AuthError ? keyForm(err.message) : card('Something went wrong', h('p', { class: 'deny-text', text: err.message }))];
  }
  if (token !== renderToken) return;
  app.replaceChildren(...[content].flat());
  app.setAttribute('aria-busy', 'false');
  app.dataset.page = r.page;
}

for (const b of document.querySelectorAll('#range button')) {
  b.addEventListener('click', () => {
    const r = route();
    const params = {};
    for (const [k, v] of r.params) params[k] = v;
    params.range = b.dataset.range;
    location.hash = link(r.page, r.arg, params);
  });
}
window.addEventListener('hashchange', render);
render();
