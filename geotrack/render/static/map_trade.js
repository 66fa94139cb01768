  // Section 'trade' of the map page script: trade chart.
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
  var note = document.getElementById('gt-chart-note');
  var chartBox = document.getElementById('gt-chart-box');
  if (D.chart && D.chart.spec && typeof window.vegaEmbed === 'function') {
    var spec = D.chart.spec;
    GT.chartPending = true;
    window.vegaEmbed('#gt-chart', spec, {renderer: 'svg', actions: false, tooltip: true})
      .then(function (res) {
        chartView = res.view;
        GT.chartView = chartView;
        GT.chartPending = false;
        updateChartRange();
      })
      .catch(function (err) {
        GT.chartPending = false;
        GT.errors.push('chart: ' + err);
        note.textContent = 'The trade chart could not be drawn: ' + err;
      });
    note.textContent = 'Shaded: the time filter’s range. Figures from China’s customs (GACC) as cited by news reports; see the sources list.';
  } else if (chartBox) {
    note.textContent = D.chart && D.chart.spec ? 'The chart library is not loaded.' : 'No trade table in this workspace: no chart.';
    GT.chartPending = false;
  }

