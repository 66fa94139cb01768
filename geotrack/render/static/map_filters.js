  // Section 'filters' of the map page script: filters: time, kind, status, verification; uncertainty circles.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

  // ------------------------------------------------------------------ filters
  var facets = {kind: CODES.kind, status: CODES.status, ver: CODES.ver};
  var enabled = {};
  Object.keys(facets).forEach(function (f) { enabled[f] = facets[f].map(function () { return true; }); });
  var DAY_RANGE = D.meta.time_range;
  var state = {t0: DAY_RANGE ? DAY_RANGE[0] : null, t1: DAY_RANGE ? DAY_RANGE[1] : null, undated: true};
  GT.state = state;
  var visible = new Uint8Array(N);

  function passTime(i) {
    var iv = C.iv[i];
    if (!iv || iv.length === 0) return state.undated;
    if (state.t0 === null) return true;
    for (var j = 0; j < iv.length; j++) if (iv[j][0] <= state.t1 && iv[j][1] >= state.t0) return true;
    return false;
  }
  function passFacets(i, skip) {
    if (skip !== 'kind' && !enabled.kind[C.kind[i]]) return false;
    if (skip !== 'status' && !enabled.status[C.status[i]]) return false;
    if (skip !== 'ver' && !enabled.ver[C.ver[i]]) return false;
    return true;
  }

  var legendCounts = {};
  function applyFilters() {
    var counts = {kind: facets.kind.map(function () { return 0; }), status: facets.status.map(function () { return 0; }), ver: facets.ver.map(function () { return 0; })};
    var shown = [];
    var shownSpread = 0;
    spreads.clearLayers();
    for (var i = 0; i < N; i++) {
      var t = passTime(i);
      var all = t && passFacets(i);
      visible[i] = all ? 1 : 0;
      if (all && spreadLines[i]) { spreads.addLayer(spreadLines[i]); shownSpread++; }
      else if (all) shown.push(markers[i]);
      if (t) {
        if (passFacets(i, 'kind')) counts.kind[C.kind[i]]++;
        if (passFacets(i, 'status')) counts.status[C.status[i]]++;
        if (passFacets(i, 'ver')) counts.ver[C.ver[i]]++;
      }
    }
    GT.ready = false;
    clusters.clearLayers();
    loading.pending = map.hasLayer(clusters) && shown.length > 0;
    clusters.addLayers(shown);
    GT.shownCount = shown.length + shownSpread;
    GT.spreadCount = shownSpread;
    Object.keys(counts).forEach(function (f) {
      counts[f].forEach(function (n, j) { if (legendCounts[f] && legendCounts[f][j]) legendCounts[f][j].textContent = String(n); });
    });
    GT.counts = counts;
    var sh = document.getElementById('gt-shown');
    if (sh) sh.textContent = '(' + GT.shownCount + ' of ' + N + ')';
    updateHeadline();
    drawStrip();
    updateChartRange();
    drawUncertainty();
    afterClusters();
  }
  GT.applyFilters = applyFilters;
  function afterClusters() {
    // chunked loading of 100,000 markers finishes asynchronously
    var tries = 0;
    (function wait() {
      var busy = loading.pending || clusters._inZoomAnimation || map._animatingZoom;
      if (!busy || tries > 1200) { GT.reportsReady.then(function () { GT.ready = true; }); return; }
      tries++;
      setTimeout(wait, 50);
    })();
  }
  GT.visibleIndices = function () {
    var out = [];
    for (var i = 0; i < N; i++) if (visible[i]) out.push(i);
    return out;
  };

  function drawUncertainty() {
    if (!uncertainty || !visible) return;
    uncertainty.clearLayers();
    if (!map.hasLayer(uncertainty) || !map.hasLayer(clusters)) return;
    var b = map.getBounds().pad(0.2);
    var drawn = 0;
    for (var i = 0; i < N && drawn < 3000; i++) {
      if (!visible[i] || spreadLines[i] || C.unc[i] === null || C.unc[i] <= 0) continue;
      if (!b.contains([C.lat[i], C.lon[i]])) continue;
      if (clusters.getVisibleParent(markers[i]) !== markers[i]) continue;
      var col = (CODES.kind[C.kind[i]] || CODES.kind[0])[2];
      uncertainty.addLayer(L.circle([C.lat[i], C.lon[i]], {radius: C.unc[i], renderer: circleRenderer, color: col, weight: 1, opacity: 0.8, fillOpacity: 0.08, interactive: false}));
      drawn++;
    }
  }
  map.on('moveend zoomend overlayadd overlayremove', function () { drawUncertainty(); });
  clusters.on('animationend', drawUncertainty);

