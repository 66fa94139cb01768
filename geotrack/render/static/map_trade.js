  // Section 'trade' of the map page script: the trade story in words, the chart, the table.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

  // ------------------------------------------------------------------ trade chart
  var chartView = null;
  var rangeBox = document.getElementById('gt-chart-range');
  function updateChartRange() {
    if (!rangeBox) return;
    if (!chartView || state.t0 === null) { rangeBox.hidden = true; return; }
    var xs = null;
    try { xs = chartView.scale('x'); } catch (e) { xs = null; }
    if (!xs || !xs.domain) { rangeBox.hidden = true; return; }
    var origin = chartView.origin();
    var svg = document.querySelector('#gt-chart svg, #gt-chart canvas');
    var lo = isoDay(state.t0).slice(0, 7), hi = isoDay(state.t1).slice(0, 7);
    var a, b;
    if (xs.bandwidth) {
      // ordinal month scale ("YYYY-MM"): shade the bands of the months in range
      var dom = xs.domain().filter(function (m) { return m >= lo && m <= hi; });
      if (dom.length === 0) { rangeBox.hidden = true; return; }
      a = xs(dom[0]); b = xs(dom[dom.length - 1]) + xs.bandwidth();
    } else {
      a = xs(new Date(state.t0 * 86400000)); b = xs(new Date((state.t1 + 1) * 86400000));
      var rng = xs.range();
      a = Math.max(Math.min(rng[0], rng[1]), Math.min(a, Math.max(rng[0], rng[1])));
      b = Math.max(Math.min(rng[0], rng[1]), Math.min(b, Math.max(rng[0], rng[1])));
    }
    GT.chartRange = [lo, hi];
    var off = svg ? svg.getBoundingClientRect().left - document.getElementById('gt-chart-wrap').getBoundingClientRect().left : 0;
    var offTop = svg ? svg.getBoundingClientRect().top - document.getElementById('gt-chart-wrap').getBoundingClientRect().top : 0;
    var hgt = 0;
    try { hgt = chartView.height(); } catch (e) { hgt = 200; }
    rangeBox.style.left = (off + origin[0] + Math.min(a, b)) + 'px';
    rangeBox.style.width = Math.max(2, Math.abs(b - a)) + 'px';
    rangeBox.style.top = (offTop + origin[1]) + 'px';
    rangeBox.style.height = hgt + 'px';
    rangeBox.hidden = false;
  }
  // the story in words: every figure with its source, as text (payload "trade")
  var T = D.trade || null;
  var storyBox = document.getElementById('gt-trade-story');
  if (storyBox && T) {
    T.lines.forEach(function (ln) {
      storyBox.appendChild(el('li', {cls: 'gt-story-' + ln.kind, text: ln.text}));
    });
  }
  // the figures as a table (the chosen figure per month), for readers who want numbers
  var tableBox = document.getElementById('gt-trade-table');
  if (tableBox && T && T.table.length) {
    var FLOW_HEAD = {total_trade: 'Total', cn_exports_to_kp: 'China’s exports to NK', cn_imports_from_kp: 'China’s imports from NK'};
    var tbl = el('table', {cls: 'gt-trade-table'},
      el('caption', {text: 'Chosen figure per month (' + T.currency + ' million); – = not held; ! = sources disagree (see `geotrack trade conflicts`)'}));
    var hr = el('tr', null, el('th', {scope: 'col', text: 'Month'}));
    Object.keys(FLOW_HEAD).forEach(function (f) { hr.appendChild(el('th', {scope: 'col', text: FLOW_HEAD[f]})); });
    hr.appendChild(el('th', {scope: 'col', text: 'Source'}));
    tbl.appendChild(el('thead', null, hr));
    var tb = el('tbody');
    T.table.slice().reverse().forEach(function (r) {
      var tr = el('tr', null, el('th', {scope: 'row', text: r.period}));
      Object.keys(FLOW_HEAD).forEach(function (f) {
        var v = r.values[f];
        tr.appendChild(el('td', {text: (v === null ? '–' : v) + (r.conflict.indexOf(f) >= 0 ? ' !' : '')}));
      });
      tr.appendChild(el('td', {text: r.sources.join('; ') + (r.flags.length ? ' [' + r.flags.join(', ') + ']' : '')}));
      tb.appendChild(tr);
    });
    tbl.appendChild(tb);
    tableBox.appendChild(tbl);
  }

  // the chart, sized to the panel: the page's own view of the exported spec
  var note = document.getElementById('gt-chart-note');
  var chartBox = document.getElementById('gt-chart-box');
  var spanSel = document.getElementById('gt-chart-span');
  function panelSpec(spec, months) {
    var s = JSON.parse(JSON.stringify(spec));
    delete s.title;  // the heading and the note above say it, wrapped
    s.width = 'container';
    s.height = 190;
    s.autosize = {type: 'fit-x', contains: 'padding', resize: true};
    var n = months.length;
    s.params = (s.params || []).concat([{name: 'gt_lo', value: n ? months[0] : ''}, {name: 'gt_hi', value: n ? months[n - 1] : ''}]);
    s.transform = (s.transform || []).concat([{filter: "datum.period >= gt_lo && datum.period <= gt_hi"}]);
    var x = s.encoding.x;
    delete x.scale.domain;  // the months in view (every month is a row of the data)
    x.axis.values = undefined;
    x.axis.labelExpr = "substring(datum.value, 5, 7) == '01' || substring(datum.value, 5, 7) == '07' || datum.index == 0 ? substring(datum.value, 0, 7) : ''";
    x.axis.labelOverlap = true;
    x.axis.labelFontSize = 9;
    s.config = s.config || {};
    s.config.legend = {orient: 'bottom', direction: 'vertical', columns: 1, labelLimit: 0, symbolSize: 60, labelFontSize: 10};
    s.layer.forEach(function (l) {
      (l.layer || [l]).forEach(function (m) {
        if (m.encoding && m.encoding.color && m.encoding.color.legend) {
          m.encoding.color.legend = {orient: 'bottom', direction: 'vertical', columns: 1, labelLimit: 0};
        }
      });
    });
    return s;
  }
  function spanChoices(months) {
    var n = months.length, out = [];
    [12, 24, 60].forEach(function (k) { if (n > k) out.push({label: 'the last ' + k + ' months', from: months[n - k]}); });
    if (n) out.push({label: 'all months (' + months[0] + ' – ' + months[n - 1] + ')', from: months[0]});
    return out;
  }
  if (D.chart && D.chart.spec && typeof window.vegaEmbed === 'function') {
    var spec = D.chart.spec;
    var months = [];
    spec.data.values.forEach(function (d) { if (d.kind === 'crossings' && months.indexOf(d.period) < 0) months.push(d.period); });
    months.sort();
    var choices = spanChoices(months);
    var first = choices.length > 1 && months.length > 24 ? choices[1] : choices[choices.length - 1];
    choices.forEach(function (c) {
      spanSel.appendChild(el('option', {value: c.from, text: c.label, selected: c === first ? 'selected' : null}));
    });
    var ps = panelSpec(spec, months);
    ps.params.forEach(function (p) { if (p.name === 'gt_lo' && first) p.value = first.from; });
    GT.chartPending = true;
    window.vegaEmbed('#gt-chart', ps, {renderer: 'svg', actions: false, tooltip: true})
      .then(function (res) {
        chartView = res.view;
        GT.chartView = chartView;
        GT.chartPending = false;
        updateChartRange();
        GT.chartDone = chartView.runAsync().then(function (v) { GT.chartRan = true; return v; });
      })
      .catch(function (err) {
        GT.chartPending = false;
        GT.errors.push('chart: ' + err);
        note.textContent = 'The trade chart could not be drawn: ' + err;
      });
    GT.setChartSpan = function (from) {
      if (!chartView) return Promise.resolve(null);
      spanSel.value = from;
      chartView.signal('gt_lo', from);
      GT.chartRan = false;
      GT.chartDone = chartView.runAsync().then(function (v) { updateChartRange(); GT.chartRan = true; return v; });
      return GT.chartDone;
    };
    spanSel.addEventListener('change', function () { GT.setChartSpan(spanSel.value); });
    var sub = (spec.title && spec.title.subtitle) || [];
    note.textContent = 'Shaded: the time filter’s range. ' + sub.join(' ');
  } else if (chartBox) {
    if (spanSel) spanSel.parentNode.hidden = true;
    note.textContent = D.chart && D.chart.spec ? 'The chart library is not loaded.' : 'No trade table in this workspace: no chart.';
    GT.chartPending = false;
  }
