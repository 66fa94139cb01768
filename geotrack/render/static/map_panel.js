  // Section 'panel' of the map page script: side panel: headline, time filter, legend, density legend, sources, layers.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

  // ------------------------------------------------------------------ side panel
  var M = D.meta;
  document.getElementById('gt-title').textContent = M.title;
  document.getElementById('gt-dates').textContent =
    'Data as of ' + (M.data_date || 'unknown date') + (M.newest_report ? ' (newest report ' + M.newest_report + ')' : '') + ' · page made ' + M.generated_at +
    ' · ' + N + ' crossing sites in the workspace';
  if (M.synthetic) {
    var banner = document.getElementById('gt-banner');
    banner.hidden = false;
    banner.textContent = 'SYNTHETIC DEMO DATA — ' + M.n_synthetic + ' of ' + M.n +
      ' crossings are invented for the demo, with invented sources. They are not reports of real crossings.';
    document.body.classList.add('gt-has-banner');
  }

  var W = D.window;
  function updateHeadline() {
    var box = document.getElementById('gt-headline');
    while (box.firstChild) box.removeChild(box.firstChild);
    var n = 0;
    for (var i = 0; i < N; i++) if (visible[i] && !C.far[i] && C.km[i] >= W.from_km && C.km[i] <= W.to_km) n++;
    GT.windowCount = n;
    box.appendChild(el('h2', {text: 'Window “' + W.name + '”: km ' + fmt(W.from_km, 1) + '–' + fmt(W.to_km, 1)}));
    var t = el('table', {cls: 'gt-figs'});
    t.appendChild(el('tr', null, el('th', {text: 'Crossings in the window (shown)'}), el('td', {cls: 'gt-big', id: 'gt-count', text: String(n)})));
    t.appendChild(el('tr', null, el('th', {text: 'Length along the river'}), el('td', {text: fmt(W.length_km, 1) + ' km → ' + fmt(n / W.length_km, 3) + ' per km of river'})));
    t.appendChild(el('tr', null, el('th', {text: 'Straight line between its ends'}), el('td', {text: fmt(W.straight_km, 1) + ' km → ' + fmt(n / W.straight_km, 3) + ' per straight-line km'})));
    t.appendChild(el('tr', null, el('th', {text: 'Reported stretch, for comparison'}), el('td', {text: '“at least ' + W.reported_count + ' on roughly ' + fmt(W.reported_km, 0) + ' km” → ' + fmt(W.reported_count / W.reported_km, 3) + ' per km (the report); these ' + n + ' → ' + fmt(n / W.reported_km, 3) + ' per km'})));
    box.appendChild(t);
    box.appendChild(el('p', {cls: 'gt-small', text: 'The report: ' + W.reported_source + '. The reported length matches the straight-line extent of the window, not its length along the river. Distances in EPSG:32652.'}));
  }

  // time filter
  function monthOf(day) { var d = new Date(day * 86400000); return d.getUTCFullYear() * 12 + d.getUTCMonth(); }
  function monthStart(m) { return Math.round(Date.UTC(Math.floor(m / 12), m % 12, 1) / 86400000); }
  function monthEnd(m) { return monthStart(m + 1) - 1; }
  function monthLabel(m) { return Math.floor(m / 12) + '-' + String(m % 12 + 1).padStart(2, '0'); }
  var timeBox = document.getElementById('gt-time');
  var m0 = DAY_RANGE ? monthOf(DAY_RANGE[0]) : null;
  var m1 = DAY_RANGE ? monthOf(DAY_RANGE[1]) : null;
  if (DAY_RANGE) {
    state.t0 = monthStart(m0);
    state.t1 = monthEnd(m1);
    var from = el('input', {type: 'range', min: m0, max: m1, value: m0, id: 'gt-from', 'aria-label': 'From month'});
    var to = el('input', {type: 'range', min: m0, max: m1, value: m1, id: 'gt-to', 'aria-label': 'To month'});
    var lab = el('div', {cls: 'gt-time-label', id: 'gt-time-label'});
    var und = el('input', {type: 'checkbox', id: 'gt-undated', checked: 'checked'});
    var setLabel = function () { lab.textContent = monthLabel(+from.value) + ' → ' + monthLabel(+to.value); };
    var onTime = function (ev) {
      var a = +from.value, b = +to.value;
      if (a > b) { if (ev && ev.target === from) to.value = a; else from.value = b; }
      a = +from.value; b = +to.value;
      state.t0 = monthStart(a); state.t1 = monthEnd(b);
      setLabel();
      applyFilters();
    };
    from.addEventListener('input', setLabel);
    to.addEventListener('input', setLabel);
    from.addEventListener('change', onTime);
    to.addEventListener('change', onTime);
    und.addEventListener('change', function () { state.undated = und.checked; applyFilters(); });
    setLabel();
    timeBox.appendChild(el('div', {cls: 'gt-range'}, el('label', {text: 'from', 'for': 'gt-from'}), from));
    timeBox.appendChild(el('div', {cls: 'gt-range'}, el('label', {text: 'to', 'for': 'gt-to'}), to));
    timeBox.appendChild(lab);
    timeBox.appendChild(el('label', {cls: 'gt-small'}, und, ' include crossings with no dated report'));
    GT.setTimeRange = function (fromMonth, toMonth) {
      from.value = fromMonth; to.value = toMonth; onTime();
    };
  } else {
    timeBox.appendChild(el('p', {cls: 'gt-small', text: 'No report carries a date: no time filter.'}));
  }
  GT.monthLabel = monthLabel;
  GT.monthOfDay = monthOf;

  // legend with counts, doubling as the kind / status / verification filter
  var legend = document.getElementById('gt-legend');
  var FACET_TITLES = {kind: 'Kind (colour)', status: 'Status (shape)', ver: 'Verification (outline)'};
  Object.keys(facets).forEach(function (f) {
    legendCounts[f] = [];
    var fs = el('fieldset', {cls: 'gt-facet'}, el('legend', {text: FACET_TITLES[f]}));
    facets[f].forEach(function (c, j) {
      var cb = el('input', {type: 'checkbox', checked: 'checked', 'data-facet': f, 'data-code': c[0]});
      cb.addEventListener('change', function () { enabled[f][j] = cb.checked; applyFilters(); });
      var sym = f === 'kind' ? symbolSvg(j, 0, 2, 16) : (f === 'status' ? symbolSvg(6, j, 2, 16) : symbolSvg(6, 0, j, 16));
      var cnt = el('span', {cls: 'gt-count', text: '0'});
      legendCounts[f][j] = cnt;
      fs.appendChild(el('label', {cls: 'gt-leg-row'}, cb, sym, el('span', {cls: 'gt-leg-label', text: c[1]}), cnt));
    });
    legend.appendChild(fs);
  });
  legend.appendChild(el('p', {cls: 'gt-small', text: 'Counts: crossings that pass the time filter and the other two groups. Untick to hide. A site’s verification sums up its reports (any disputed, or verified and false together: disputed). Circles: location uncertainty. Clusters show the real number of crossings inside. A broad translucent band along the river: a site the reports place only somewhere on that stretch (a reach or a county); a dashed circle: a site known only to be near a named place. Each is counted once.'}));
  map.on('overlayadd overlayremove', function () {
    legend.classList.toggle('gt-off', !map.hasLayer(clusters));
  });

  // density legend
  var dl = document.getElementById('gt-density-legend');
  function rampBar(max, unit) {
    var bar = el('div', {cls: 'gt-ramp'});
    RAMP.forEach(function (c) { bar.appendChild(el('span', {style: 'background:' + c})); });
    return el('div', null, bar, el('div', {cls: 'gt-ramp-scale'}, el('span', {text: '0'}), el('span', {text: fmt(max, 3) + ' ' + unit})));
  }
  if (dens.bins || dens.kde) {
    dl.appendChild(el('h2', {text: 'Density along the river'}));
    var dw = dens.window || {};
    var wtext = 'Window km ' + fmt(dw.from_km, 1) + '–' + fmt(dw.to_km, 1) + ' (' + fmt(dw.length_km, 1) + ' km of river)';
    if (dens.bins) {
      dl.appendChild(el('p', {text: 'River segments coloured by counts per ' + fmt(dens.bins.bin_km, 1) + ' km bin (a shorter last bin is divided by its true length). ' + wtext + '. Unit: crossings per km of river.'}));
      dl.appendChild(rampBar(dens.bins.max, 'per km'));
    }
    if (dens.kde) {
      dl.appendChild(el('p', {text: 'Layer “Density: kernel”: ' + String(dens.kde.kernel) + ' kernel on chainage, bandwidth ' + fmt(dens.kde.bandwidth_km, 2) + ' km, grid step ' + fmt(dens.kde.step_km, 2) + ' km, corrected at the window ends. Unit: crossings per km of river.'}));
      dl.appendChild(rampBar(dens.kde.max, 'per km'));
    }
    if (dens.raster) {
      var rc = dens.raster.corridor_km;
      var ctext = rc === null || rc === undefined ? '' : ' Shown only within ' + fmt(rc, 1) + ' km of the river line (transparent beyond: nodata), holding ' + fmt(dens.raster.in_corridor, 1) + ' of ' + fmt(dens.raster.total, 1) + ' expected crossings.';
      dl.appendChild(el('p', {id: 'gt-raster-legend', text: 'Layer “Density raster” (off by default): 2-D Gaussian kernel, bandwidth ' + fmt(dens.raster.bandwidth_m / 1000, 2) + ' km, ' + fmt(dens.raster.cell_m, 0) + ' m cells (EPSG:32652, shown in Web Mercator).' + ctext + ' Unit: crossings per km².'}));
      dl.appendChild(rampBar(dens.raster.max, 'per km²'));
    }
  }

  // sources and attributions
  var src = document.getElementById('gt-sources');
  src.appendChild(el('h2', {text: 'Sources and attributions'}));
  var ul = el('ul', {cls: 'gt-small'});
  (M.attributions || []).forEach(function (a) { ul.appendChild(el('li', {text: a})); });
  ul.appendChild(el('li', {text: 'Map library: Leaflet ' + (M.assets.leaflet || '') + ', Leaflet.markercluster ' + (M.assets['leaflet.markercluster'] || '') + (M.assets.vega ? ', Vega ' + M.assets.vega + ' / Vega-Lite ' + M.assets['vega-lite'] : '') + (M.online ? ' (loaded from a CDN: --online).' : ' (inlined: this page loads nothing from the network).')}));
  src.appendChild(ul);

  // layer control
  L.control.layers(baseNames.length > 1 ? bases : null, overlays, {collapsed: true, position: 'topright'}).addTo(map);
  map.attributionControl.setPrefix('Leaflet');

