// The aggregator dashboard: plain JavaScript, no dependencies, no build step. It reads the REST
// API of the server that served it (same origin only; the page's Content-Security-Policy forbids
// anything else) and updates itself by polling:
//   /stats and /health every second: counters, queue, health, uptime, and the ingest rate,
//     computed from the change of the counters between two polls;
//   /topics every second: the topic table's topics and counts, paged by the API's cursors (/stats
//     lists only the first topics);
//   /metrics/summary every 3 seconds: one chart per service;
//   /events on demand: the event browser, newest first, paged by the API's cursors.
// It must stay usable with 10,000 topics under full ingest load, so the topic table shows at most
// TOPIC_ROWS rows (filter to find the others), reuses its DOM rows, and fetches "last event" times
// only for the rows shown whose count changed, a few per poll.
(function () {
  'use strict';

  var POLL_MS = 1000;
  var HIDDEN_POLL_MS = 5000;
  var SERVICES_POLL_MS = 3000;
  var HISTORY_MS = 5 * 60 * 1000;
  var TOPIC_ROWS = 100;
  var TOPICS_PAGE = 1000;
  var TOPIC_PAGES_PER_POLL = 10;
  var LAST_EVENT_FETCHES_PER_POLL = 10;
  var PAGE_SIZE = 20;
  var KEY_STORAGE = 'aggregator.apiKey';

  function $(id) { return document.getElementById(id); }
  var fmt = new Intl.NumberFormat('en-US');
  var fmt1 = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

  // ---- API access, with the API key when the server asks for one ----

  var apiKey = window.sessionStorage.getItem(KEY_STORAGE);
  // Where the API is: the server fills in the path it is mounted under ('' at the root).
  var BASE = '{{base}}';

  function ApiError(status, message) { this.status = status; this.message = message; }

  function api(path) {
    var headers = { 'Accept': 'application/json' };
    if (apiKey) { headers['X-API-Key'] = apiKey; }
    return fetch(BASE + path, { headers: headers, cache: 'no-store' }).then(function (res) {
      return res.text().then(function (text) {
        var body = null;
        try { body = text ? JSON.parse(text) : null; } catch (e) { body = null; }
        if (res.status === 401) {
          askForKey();
          throw new ApiError(401, 'this server needs an API key to read');
        }
        return { status: res.status, ok: res.ok, body: body };
      });
    });
  }

  function errorText(r) {
    if (r.body && r.body.message) { return r.body.message; }
    return 'HTTP ' + r.status;
  }

  function askForKey() {
    var dialog = $('key-dialog');
    $('key-button').hidden = false;
    if (!dialog.open) { dialog.showModal(); }
  }

  $('key-form').addEventListener('submit', function () {
    apiKey = $('key-input').value.trim();
    window.sessionStorage.setItem(KEY_STORAGE, apiKey);
    $('key-input').value = '';
  });
  $('key-button').addEventListener('click', askForKey);

  // ---- counters, health, ingest rate ----

  var previous = null;   // the last /stats sample: {t, unique, duplicates}
  var history = [];      // {t, accepted, duplicates} rates per second, oldest first

  function setText(el, text) { if (el.textContent !== text) { el.textContent = text; } }

  function pollStats() {
    api('/stats').then(function (r) {
      if (!r.ok) { throw new ApiError(r.status, errorText(r)); }
      var s = r.body;
      var now = Date.now();
      renderCounters(s);
      if (previous) {
        var dt = (now - previous.t) / 1000;
        if (dt > 0) {
          history.push({
            t: now,
            accepted: Math.max(0, (s.unique_processed - previous.unique) / dt),
            duplicates: Math.max(0, (s.duplicate_dropped - previous.duplicates) / dt)
          });
        }
      }
      previous = { t: now, unique: s.unique_processed, duplicates: s.duplicate_dropped };
      while (history.length && history[0].t < now - HISTORY_MS) { history.shift(); }
      renderChart(now);
      setText($('conn'), '');
    }).catch(function (e) {
      setText($('conn'), 'cannot read /stats: ' + (e.message || e));
    }).then(function () {
      window.setTimeout(pollStats, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
    });
  }

  function renderCounters(s) {
    setText($('received'), fmt.format(s.received));
    setText($('unique'), fmt.format(s.unique_processed));
    setText($('duplicates'), fmt.format(s.duplicate_dropped));
    setText($('stored'), fmt.format(s.stored));
    setText($('expired'), fmt.format(s.expired));
    setText($('conflicts'), fmt.format(s.payload_conflicts));
    var decided = s.unique_processed + s.duplicate_dropped;
    setText($('dup-rate'), decided ? fmt1.format(100 * s.duplicate_dropped / decided) + ' %' : '–');
    setText($('queue'), fmt.format(s.queue_size) + ' / ' + fmt.format(s.queue_capacity));
    var fill = s.queue_capacity ? Math.min(100, 100 * s.queue_size / s.queue_capacity) : 0;
    $('queue-fill').style.width = fill + '%';
    $('queue-fill').classList.toggle('high', fill > 80);
    setText($('topic-total'), fmt.format(s.topics_total));
    setText($('uptime'), 'uptime ' + s.uptime_human);
  }

  function pollHealth() {
    api('/health').then(function (r) {
      var status = r.body && r.body.status ? r.body.status : 'HTTP ' + r.status;
      var el = $('health');
      setText(el, 'health: ' + status);
      el.className = 'badge ' + (status === 'healthy' ? 'healthy' : 'unhealthy');
      el.title = JSON.stringify(r.body);
    }).catch(function () {
      setText($('health'), 'health: unreachable');
      $('health').className = 'badge unhealthy';
    }).then(function () {
      window.setTimeout(pollHealth, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
    });
  }

  function niceCeiling(v) {
    if (v <= 1) { return 1; }
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 5, 10];
    for (var i = 0; i < steps.length; i++) { if (steps[i] * p >= v) { return steps[i] * p; } }
    return 10 * p;
  }

  var MIN_WINDOW_MS = 60 * 1000;

  function renderChart(now) {
    var W = 600, H = 160, TOP = 16;
    // The time axis spans the history there is, from one minute up to five, so a fresh page
    // shows its first seconds readably instead of as a sliver at the right edge.
    var span = history.length ? Math.min(HISTORY_MS, Math.max(MIN_WINDOW_MS, now - history[0].t)) : MIN_WINDOW_MS;
    var peakA = 0, peakD = 0;
    history.forEach(function (h) { peakA = Math.max(peakA, h.accepted); peakD = Math.max(peakD, h.duplicates); });
    var max = niceCeiling(Math.max(peakA, peakD));
    function points(key) {
      return history.map(function (h) {
        var x = W * (1 - (now - h.t) / span);
        var y = H - (H - TOP) * (h[key] / max);
        return x.toFixed(1) + ',' + y.toFixed(1);
      }).join(' ');
    }
    $('rate-line-accepted').setAttribute('points', points('accepted'));
    $('rate-line-duplicates').setAttribute('points', points('duplicates'));
    setText($('rate-max'), fmt.format(max) + '/s');
    setText($('rate-span'), 'last ' + Math.round(span / 1000) + ' s');
    var grid = $('rate-grid');
    if (!grid.childNodes.length) {
      for (var i = 1; i <= 4; i++) {
        var line = document.createElementNS('http://www.w3.org/2000/svg', 'line');
        var y = TOP + (H - TOP) * (i - 1) / 4;
        line.setAttribute('x1', 0); line.setAttribute('x2', W);
        line.setAttribute('y1', y); line.setAttribute('y2', y);
        line.setAttribute('class', 'gridline');
        grid.appendChild(line);
      }
    }
    var last = history.length ? history[history.length - 1] : { accepted: 0, duplicates: 0 };
    setText($('rate-accepted'), fmt1.format(last.accepted));
    setText($('rate-duplicates'), fmt1.format(last.duplicates));
    // What the chart shows, readable by tests and tools without parsing the SVG.
    var chart = $('rate-chart');
    chart.dataset.samples = String(history.length);
    chart.dataset.peakAccepted = peakA.toFixed(2);
    chart.dataset.peakDuplicates = peakD.toFixed(2);
  }

  // ---- topic table ----

  // topic -> stored events, in first-seen order. The API only ever adds topics, at the end of that
  // order, so updating this map page by page keeps its order. One poll reads at most
  // TOPIC_PAGES_PER_POLL pages: with more topics than that, a sweep through all of them spans
  // several polls, each continuing at the cursor where the last stopped.
  var topicCounts = new Map();
  var topicCursor = null;     // where the current sweep goes on; null: from the first topic
  var topicsRead = false;     // whether a first page has come

  function pollTopics() {
    var pages = 0;
    function next() {
      var q = new URLSearchParams({ limit: String(TOPICS_PAGE) });
      if (topicCursor) { q.set('after', topicCursor); }
      return api('/topics?' + q).then(function (r) {
        if (!r.ok) { throw new ApiError(r.status, errorText(r)); }
        r.body.topics.forEach(function (t) { topicCounts.set(t.topic, t.count); });
        topicCursor = r.body.next || null;
        topicsRead = true;
        pages++;
        if (topicCursor && pages < TOPIC_PAGES_PER_POLL) { return next(); }
      });
    }
    next().then(renderTopics).catch(function (e) {
      setText($('topic-note'), 'cannot read /topics: ' + (e.message || e));
    }).then(function () {
      window.setTimeout(pollTopics, document.hidden ? HIDDEN_POLL_MS : POLL_MS);
    });
  }

  var lastEvent = new Map();   // topic -> {count, at} : the count when "at" was fetched
  var lastEventInFlight = new Set();
  var topicRows = [];          // reused <tr> elements

  $('topic-filter').addEventListener('input', renderTopics);
  $('topic-sort').addEventListener('change', renderTopics);

  function renderTopics() {
    if (!topicsRead) { return; }
    var started = performance.now();
    var counts = topicCounts;
    var filter = $('topic-filter').value.trim().toLowerCase();
    var order = $('topic-sort').value;
    var topics = Array.from(counts.keys());   // first-seen order, as the API keeps it
    var total = topics.length;
    if (filter) { topics = topics.filter(function (t) { return t.toLowerCase().indexOf(filter) >= 0; }); }
    var matching = topics.length;
    if (order === 'count') {
      topics.sort(function (a, b) { return counts.get(b) - counts.get(a) || (a < b ? -1 : a > b ? 1 : 0); });
    } else if (order === 'name') {
      topics.sort();
    }
    topics = topics.slice(0, TOPIC_ROWS);

    var body = $('topic-rows');
    while (topicRows.length < topics.length) {
      var tr = document.createElement('tr');
      for (var c = 0; c < 3; c++) { tr.appendChild(document.createElement('td')); }
      tr.cells[1].className = 'num';
      tr.addEventListener('click', onTopicRowClick);
      topicRows.push(tr);
    }
    var now = Date.now();
    var stale = [];
    for (var i = 0; i < topicRows.length; i++) {
      var row = topicRows[i];
      if (i >= topics.length) { if (row.parentNode) { body.removeChild(row); } continue; }
      if (!row.parentNode) { body.appendChild(row); }
      var t = topics[i];
      row.dataset.topic = t;
      row.classList.toggle('selected', t === browse.topic);
      setText(row.cells[0], t);
      row.cells[0].title = t;
      var count = counts.get(t);
      setText(row.cells[1], fmt.format(count));
      var known = lastEvent.get(t);
      setText(row.cells[2], known && known.at ? ago(known.at, now) : '…');
      if (known && known.at) { row.cells[2].title = known.at; }
      if ((!known || known.count !== count) && !lastEventInFlight.has(t)) {
        stale.push({ topic: t, count: count, fetchedAt: known ? known.fetchedAt : 0 });
      }
    }
    // A few fetches per poll, never-fetched rows first, then the longest unrefreshed: under load
    // every count changes every second, and this keeps each shown row's time a few seconds fresh
    // at a bounded cost instead of refreshing the first rows only.
    stale.sort(function (a, b) { return a.fetchedAt - b.fetchedAt; });
    stale.slice(0, LAST_EVENT_FETCHES_PER_POLL).forEach(function (s) { fetchLastEvent(s.topic, s.count); });
    setText($('topic-note'), matching > topics.length
      ? 'showing ' + fmt.format(topics.length) + ' of ' + fmt.format(matching) + ' matching topics ('
        + fmt.format(total) + ' in all); type in the filter to find the others'
      : fmt.format(matching) + (filter ? ' matching of ' + fmt.format(total) : '') + ' topics');
    // How long this render took, for tests and for anyone checking the page stays responsive.
    body.dataset.renderMs = (performance.now() - started).toFixed(1);
  }

  function fetchLastEvent(topic, count) {
    lastEventInFlight.add(topic);
    var q = new URLSearchParams({ topic: topic, order: 'desc', limit: '1' });
    api('/events?' + q).then(function (r) {
      if (r.ok && r.body && r.body.events && r.body.events.length) {
        var e = r.body.events[0];
        lastEvent.set(topic, { count: count, at: e.received_at || e.timestamp, fetchedAt: Date.now() });
      }
    }).catch(function () { /* shown as unknown; retried at the next poll */ })
      .then(function () { lastEventInFlight.delete(topic); });
  }

  function ago(iso, now) {
    var ms = now - Date.parse(iso);
    if (!isFinite(ms)) { return iso; }
    var s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) { return s + 's ago'; }
    if (s < 3600) { return Math.floor(s / 60) + 'm ' + (s % 60) + 's ago'; }
    if (s < 86400) { return Math.floor(s / 3600) + 'h ' + Math.floor(s % 3600 / 60) + 'm ago'; }
    return iso.replace('T', ' ').replace(/\.\d+/, '');
  }

  function onTopicRowClick(ev) {
    var topic = ev.currentTarget.dataset.topic;
    $('browse-input').value = topic;
    openTopic(topic);
  }

  // ---- event browser: newest first, one page at a time ----

  // cursors[i] is the "after" cursor of page i (null for the first page).
  var browse = { topic: null, cursors: [null], page: 0, next: null, seq: 0 };

  function openTopic(topic) {
    topic = topic.trim();
    if (!topic) { return; }
    browse.topic = topic;
    browse.cursors = [null];
    browse.page = 0;
    loadPage();
    renderTopics();
  }

  function loadPage() {
    var seq = ++browse.seq;   // a slow answer for a page no longer wanted is dropped
    var q = new URLSearchParams({ topic: browse.topic, order: 'desc', limit: String(PAGE_SIZE) });
    var cursor = browse.cursors[browse.page];
    if (cursor) { q.set('after', cursor); }
    setText($('browse-topic'), browse.topic);
    api('/events?' + q).then(function (r) {
      if (seq !== browse.seq) { return; }
      if (!r.ok) { throw new ApiError(r.status, errorText(r)); }
      $('browse-error').hidden = true;
      browse.next = r.body.next || null;
      renderEvents(r.body.events || []);
    }).catch(function (e) {
      if (seq !== browse.seq) { return; }
      $('browse-error').hidden = false;
      setText($('browse-error'), 'cannot read events: ' + (e.message || e));
    });
  }

  function renderEvents(events) {
    var list = $('event-list');
    list.textContent = '';
    var frag = document.createDocumentFragment();
    events.forEach(function (e) {
      var li = document.createElement('li');
      li.dataset.eventId = e.event_id;
      var meta = document.createElement('div');
      meta.className = 'meta';
      var id = document.createElement('span');
      id.className = 'id';
      id.textContent = e.event_id;
      meta.appendChild(id);
      meta.appendChild(document.createTextNode(
        '  timestamp ' + e.timestamp + (e.source ? '  source ' + e.source : '')
        + '  received ' + e.received_at));
      li.appendChild(meta);
      var pre = document.createElement('pre');
      pre.textContent = JSON.stringify(e.payload === undefined ? null : e.payload, null, 2);
      li.appendChild(pre);
      frag.appendChild(li);
    });
    list.appendChild(frag);
    var first = browse.page * PAGE_SIZE + 1;
    setText($('browse-page'), events.length
      ? 'page ' + (browse.page + 1) + ': events ' + first + '–' + (first + events.length - 1) + ' newest first'
      : 'no events');
    $('browse-prev').disabled = browse.page === 0;
    $('browse-newest').disabled = browse.page === 0;
    $('browse-next').disabled = !browse.next;
  }

  $('browse-go').addEventListener('click', function () { openTopic($('browse-input').value); });
  $('browse-input').addEventListener('keydown', function (ev) {
    if (ev.key === 'Enter') { openTopic($('browse-input').value); }
  });
  $('browse-next').addEventListener('click', function () {
    if (!browse.next) { return; }
    browse.cursors[browse.page + 1] = browse.next;
    browse.page++;
    loadPage();
  });
  $('browse-prev').addEventListener('click', function () {
    if (browse.page === 0) { return; }
    browse.page--;
    loadPage();
  });
  $('browse-newest').addEventListener('click', function () { browse.page = 0; loadPage(); });

  // ---- service metrics: one bar chart per service ----

  // The first of the given fields that the record has, so the page reads the summary whether the
  // server names a field avg_cpu or cpu_avg.
  function pick(o, names) {
    for (var i = 0; i < names.length; i++) {
      var v = o[names[i]];
      if (typeof v === 'number') { return v; }
    }
    var path;
    for (i = 0; i < names.length; i++) {
      path = names[i].split('.');
      if (path.length === 2 && o[path[0]] && typeof o[path[0]][path[1]] === 'number') {
        return o[path[0]][path[1]];
      }
    }
    return null;
  }

  function servicesOf(body) {
    if (!body) { return []; }
    if (Array.isArray(body)) { return body; }
    if (Array.isArray(body.services)) { return body.services; }
    var src = body.services && typeof body.services === 'object' ? body.services : body;
    return Object.keys(src).filter(function (k) { return src[k] && typeof src[k] === 'object'; })
      .map(function (k) { var o = Object.assign({}, src[k]); o.service_name = o.service_name || k; return o; });
  }

  function pollServices() {
    api('/metrics/summary').then(function (r) {
      if (r.ok) { renderServices(servicesOf(r.body)); }
    }).catch(function () { /* the counters show the connection state */ })
      .then(function () {
        window.setTimeout(pollServices, document.hidden ? HIDDEN_POLL_MS : SERVICES_POLL_MS);
      });
  }

  var serviceCards = new Map();

  function renderServices(services) {
    var box = $('services');
    if (!services.length) { return; }
    if (!serviceCards.size) { box.textContent = ''; }
    var maxP95 = 0;
    var rows = services.map(function (s) {
      var m = {
        name: s.service_name || s.service || s.name || '?',
        count: pick(s, ['count', 'records', 'samples']),
        cpu: pick(s, ['avg_cpu', 'cpu_avg', 'avg_cpu_usage', 'cpu_usage_avg', 'cpu.avg', 'cpu_usage.avg']),
        mem: pick(s, ['avg_memory', 'memory_avg', 'avg_memory_usage', 'memory_usage_avg', 'memory.avg', 'memory_usage.avg']),
        p95: pick(s, ['p95_latency', 'latency_p95', 'latency.p95']),
        err: pick(s, ['error_rate', 'errors_per_record', 'error_rate_percent'])
      };
      maxP95 = Math.max(maxP95, m.p95 || 0);
      return m;
    });
    rows.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
    var latMax = niceCeiling(maxP95);
    rows.forEach(function (m) {
      var card = serviceCards.get(m.name);
      if (!card) { card = makeServiceCard(m.name); serviceCards.set(m.name, card); box.appendChild(card.root); }
      setText(card.count, m.count === null ? '' : fmt.format(m.count) + ' records');
      // Error rate: a fraction (0..1) shown as a percentage; a value above 1 is taken as a percentage.
      var errPct = m.err === null ? null : (m.err <= 1 ? 100 * m.err : m.err);
      setBar(card.bars[0], m.cpu, 100, m.cpu === null ? '–' : fmt1.format(m.cpu) + ' %');
      setBar(card.bars[1], m.mem, 100, m.mem === null ? '–' : fmt1.format(m.mem) + ' %');
      setBar(card.bars[2], m.p95, latMax, m.p95 === null ? '–' : fmt1.format(m.p95) + ' ms');
      setBar(card.bars[3], errPct, 100, errPct === null ? '–' : fmt1.format(errPct) + ' %');
    });
  }

  var SVG = 'http://www.w3.org/2000/svg';
  var BARS = [['cpu', 'CPU avg'], ['mem', 'memory avg'], ['lat', 'latency p95'], ['err', 'error rate']];

  function makeServiceCard(name) {
    var root = document.createElement('div');
    root.className = 'service';
    root.dataset.service = name;
    var h = document.createElement('h3');
    h.textContent = name + ' ';
    var count = document.createElement('span');
    count.className = 'muted';
    h.appendChild(count);
    root.appendChild(h);
    var svg = document.createElementNS(SVG, 'svg');
    svg.setAttribute('viewBox', '0 0 300 96');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', name + ' metrics chart');
    var bars = BARS.map(function (b, i) {
      var y = 4 + i * 23;
      var label = document.createElementNS(SVG, 'text');
      label.setAttribute('x', 0); label.setAttribute('y', y + 13); label.setAttribute('class', 'bar-label');
      label.textContent = b[1];
      var bg = document.createElementNS(SVG, 'rect');
      bg.setAttribute('x', 80); bg.setAttribute('y', y); bg.setAttribute('width', 160); bg.setAttribute('height', 18);
      bg.setAttribute('fill', '#eef0f3');
      var rect = document.createElementNS(SVG, 'rect');
      rect.setAttribute('x', 80); rect.setAttribute('y', y); rect.setAttribute('width', 0); rect.setAttribute('height', 18);
      rect.setAttribute('class', b[0]);
      var value = document.createElementNS(SVG, 'text');
      value.setAttribute('x', 246); value.setAttribute('y', y + 13); value.setAttribute('class', 'bar-value');
      [label, bg, rect, value].forEach(function (n) { svg.appendChild(n); });
      return { rect: rect, value: value };
    });
    root.appendChild(svg);
    return { root: root, count: count, bars: bars };
  }

  function setBar(bar, v, max, text) {
    var w = v === null || !max ? 0 : Math.max(0, Math.min(1, v / max)) * 160;
    bar.rect.setAttribute('width', w.toFixed(1));
    setText(bar.value, text);
  }

  // ---- start ----
  if (apiKey) { $('key-button').hidden = false; }
  pollStats();
  pollTopics();
  pollHealth();
  pollServices();
})();
