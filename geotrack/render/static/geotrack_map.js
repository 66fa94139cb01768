/* geotrack map page script.
 *
 * Reads the page's data once from the JSON script element #geotrack-data
 * and builds every layer, the side panel, the filters and the chainage strip.
 *
 * Safety rule: text that comes from data is only ever placed with textContent or
 * as an attribute value through setAttribute / properties; innerHTML is never
 * given data. Links are made only for http: and https: URLs.
 */
document.addEventListener('DOMContentLoaded', function () {
  'use strict';

  var GT = (window.geotrack = window.geotrack || {});
  GT.ready = false;
  GT.errors = [];

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') node.textContent = String(v);
        else if (k === 'cls') node.className = v;
        else node.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    return node;
  }
  function safeHref(url) {
    if (typeof url !== 'string') return null;
    try {
      var u = new URL(url);
      return (u.protocol === 'http:' || u.protocol === 'https:') ? u.href : null;
    } catch (e) { return null; }
  }
  function fmt(x, nd) {
    if (x === null || x === undefined || !isFinite(x)) return '–';
    return Number(x).toFixed(nd === undefined ? 1 : nd);
  }
  function isoDay(d) {
    return new Date(d * 86400000).toISOString().slice(0, 10);
  }

  // ------------------------------------------------------------------ data
  var D = JSON.parse(document.getElementById('geotrack-data').textContent);
  GT.data = D;
  var S = function (i) { return (i === null || i === undefined || i < 0) ? null : D.s[i]; };
  var C = D.c;
  var N = C.lat.length;
  var CODES = D.codes;
  var map = window[D.meta.map_var];
  GT.map = map;
  // with no tile layer Leaflet has no zoom limits; clustering needs a maximum
  map.setMinZoom(5);
  map.setMaxZoom(18);

  // ------------------------------------------------------------------ symbols
  function symbolSvg(k, st, v, size) {
    size = size || 18;
    var kind = CODES.kind[k] || CODES.kind[CODES.kind.length - 1];
    var shape = (CODES.status[st] || CODES.status[CODES.status.length - 1])[2];
    var out = (CODES.ver[v] || CODES.ver[0])[2];
    var svg = svgEl('svg', {width: size, height: size, viewBox: '0 0 18 18', 'class': 'gt-sym'});
    var attrs = {fill: kind[2], stroke: out[0], 'stroke-width': out[1]};
    if (out[2]) attrs['stroke-dasharray'] = out[2];
    var node;
    if (shape === 'circle') node = svgEl('circle', Object.assign({cx: 9, cy: 9, r: 6.5}, attrs));
    else if (shape === 'square') node = svgEl('rect', Object.assign({x: 3, y: 3, width: 12, height: 12}, attrs));
    else if (shape === 'diamond') node = svgEl('polygon', Object.assign({points: '9,1.5 16.5,9 9,16.5 1.5,9'}, attrs));
    else node = svgEl('path', Object.assign({d: 'M4 1.8L9 6.8L14 1.8L16.2 4L11.2 9L16.2 14L14 16.2L9 11.2L4 16.2L1.8 14L6.8 9L1.8 4Z'}, attrs));
    svg.appendChild(node);
    return svg;
  }

  var SymbolIcon = L.DivIcon.extend({
    options: {html: '', iconSize: [18, 18], iconAnchor: [9, 9], className: 'gt-marker'},
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.appendChild(symbolSvg(this.options.k, this.options.st, this.options.v, 18));
      return div;
    }
  });
  var TextIcon = L.DivIcon.extend({
    options: {html: '', iconSize: null, className: 'gt-label'},
    createIcon: function (old) {
      var div = L.DivIcon.prototype.createIcon.call(this, old);
      div.appendChild(el('span', {text: this.options.text}));
      return div;
    }
  });
  var iconCache = {};
  function iconFor(i) {
    var key = C.kind[i] + '/' + C.status[i] + '/' + C.ver[i];
    if (!iconCache[key]) iconCache[key] = new SymbolIcon({k: C.kind[i], st: C.status[i], v: C.ver[i]});
    return iconCache[key];
  }

  // ------------------------------------------------------------------ reference layers
  var overlays = {};
  var bases = {};
  var plain = L.layerGroup();
  bases['Plain background (offline)'] = plain;
  (D.meta.tiles || []).forEach(function (t) {
    bases[t.name] = L.tileLayer(t.url, {attribution: t.attribution, maxZoom: t.max_zoom});
  });
  var baseNames = Object.keys(bases);
  (baseNames.length > 1 ? bases[baseNames[1]] : plain).addTo(map);

  var border = L.layerGroup(D.border.map(function (part) {
    return L.polyline(part, {color: '#444', weight: 1.5, dashArray: '6 4', interactive: false});
  }));
  overlays['China–DPRK border (OSM)'] = border.addTo(map);

  var river = L.polyline(D.stretch.line, {color: '#2b7bb9', weight: 3, opacity: 0.9, interactive: false});
  overlays['River line (stretch)'] = L.layerGroup([river]).addTo(map);

  var ticks = L.layerGroup();
  D.ticks.forEach(function (t) {
    ticks.addLayer(L.polyline([t.a, t.b], {color: '#222', weight: t.major ? 2 : 1, interactive: false}));
    ticks.addLayer(L.marker(t.at, {interactive: false, keyboard: false,
      icon: new TextIcon({text: fmt(t.km, 0) + ' km', className: 'gt-label gt-km' + (t.major ? ' gt-km-major' : '')})}));
  });
  overlays['Chainage marks (every ' + fmt(D.ticks.length > 1 ? D.ticks[1].km - D.ticks[0].km : 10, 0) + ' km)'] = ticks.addTo(map);

  var towns = L.layerGroup();
  D.towns.forEach(function (t) {
    var cc = t.country === 'CN' ? 'cn' : (t.country === 'KP' ? 'kp' : 'xx');
    towns.addLayer(L.circleMarker([t.lat, t.lon], {radius: 3.5, color: '#000', weight: 1, fillColor: cc === 'cn' ? '#c0392b' : '#1f4e9c', fillOpacity: 1, interactive: false}));
    var short = String(t.name || '').split(' (')[0];
    var label = short + (t.local ? ' · ' + t.local : '');
    towns.addLayer(L.marker([t.lat, t.lon], {interactive: false, keyboard: false,
      icon: new TextIcon({text: label, className: 'gt-label gt-town gt-town-' + cc})}));
  });
  overlays['Towns (both banks)'] = towns.addTo(map);

  var counties = L.layerGroup();
  D.counties.forEach(function (c) {
    counties.addLayer(L.marker(c.mid, {interactive: false, keyboard: false,
      icon: new TextIcon({text: (c.name || '') + ' County', className: 'gt-label gt-county'})}));
  });
  overlays['County names'] = counties.addTo(map);

  // ------------------------------------------------------------------ density
  var RAMP = ['#fed976', '#feb24c', '#fd8d3c', '#fc4e2a', '#e31a1c', '#bd0026', '#800026'];
  function rampColour(f) {
    if (!isFinite(f) || f <= 0) return '#cfcfcf';
    var x = Math.min(1, f) * (RAMP.length - 1);
    return RAMP[Math.round(x)];
  }
  function densityLayer(spec, what) {
    var g = L.layerGroup();
    var max = spec.max || 0;
    spec.segments.forEach(function (s, j) {
      var line = L.polyline(s.c, {color: rampColour(max > 0 ? s.value / max : 0), weight: 8, opacity: 0.9, lineCap: 'butt'});
      line.bindTooltip(function () {
        var txt = 'km ' + fmt(s.from_km, 1) + '–' + fmt(s.to_km, 1) + ': ' + fmt(s.value, 3) + ' crossings per km of river';
        if (what === 'bins' && spec.counts) txt += ' (' + spec.counts[j] + ' in bin)';
        return el('span', {text: txt});
      }, {sticky: true});
      g.addLayer(line);
    });
    return g;
  }
  var dens = D.density || {};
  var densityLayers = {};
  if (dens.bins) {
    densityLayers.bins = densityLayer(dens.bins, 'bins');
    overlays['Density: counts per ' + fmt(dens.bins.bin_km, 1) + ' km bin'] = densityLayers.bins.addTo(map);
  }
  if (dens.kde) {
    densityLayers.kde = densityLayer(dens.kde, 'kde');
    overlays['Density: kernel, bandwidth ' + fmt(dens.kde.bandwidth_km, 1) + ' km'] = densityLayers.kde;
    if (!dens.bins) densityLayers.kde.addTo(map);
  }
  if (dens.raster && dens.raster.png) {
    var r = dens.raster;
    densityLayers.raster = L.imageOverlay(r.png, r.bounds, {opacity: 0.6, interactive: false});
    overlays['Density raster (crossings per km²)'] = densityLayers.raster;
  }
  river.bringToFront();

  // ------------------------------------------------------------------ crossings
  var uncertainty = L.layerGroup();
  var circleRenderer = L.canvas({padding: 0.2});
  var loading = {pending: false};
  var clusters = L.markerClusterGroup({
    chunkedLoading: true, chunkInterval: 150, showCoverageOnHover: false, maxClusterRadius: 45,
    chunkProgress: function (done, total) { if (done >= total) { loading.pending = false; drawUncertainty(); } }
  });
  var markers = new Array(N);
  for (var i = 0; i < N; i++) {
    var mk = L.marker([C.lat[i], C.lon[i]], {icon: iconFor(i), keyboard: false});
    mk.gtIndex = i;
    markers[i] = mk;
  }
  GT.markers = markers;
  GT.clusters = clusters;
  overlays['Crossings (clustered)'] = clusters.addTo(map);
  overlays['Location uncertainty'] = uncertainty.addTo(map);

  var popup = L.popup({maxWidth: 380, maxHeight: 420, autoPanPaddingTopLeft: [10, 40]});
  clusters.on('click', function (e) { openPopup(e.layer.gtIndex); });

  function row(label, value) {
    return el('tr', null, el('th', {text: label}), el('td', null, value));
  }
  function codeLabel(list, idx) {
    var c = list[idx];
    return c ? c[1] : '–';
  }
  function codeByName(list, name) {
    for (var j = 0; j < list.length; j++) if (list[j][0] === name) return list[j][1];
    return name;
  }
  var BANKS = D.meta.banks || {left: 'CN', right: 'KP'};
  var COUNTRY = {CN: 'China side', KP: 'North Korea side'};
  function bankText(i) {
    var off = C.off[i];
    var side = off > 0 ? 'left bank, ' + (COUNTRY[BANKS.left] || BANKS.left) : (off < 0 ? 'right bank, ' + (COUNTRY[BANKS.right] || BANKS.right) : 'on the line');
    return 'km ' + fmt(C.km[i], 2) + ' · ' + side + ' · ' + fmt(Math.abs(off), 0) + ' m from the river line';
  }
  function linkOrText(url, label) {
    var href = safeHref(url);
    if (href) return el('a', {href: href, target: '_blank', rel: 'noopener noreferrer nofollow', text: label || url});
    return el('span', {cls: 'gt-nolink', text: url});
  }
  function buildPopup(i) {
    var box = el('div', {cls: 'gt-pop'});
    var name = S(C.name[i]);
    box.appendChild(el('h3', null, el('span', {cls: 'gt-id', text: S(C.id[i])}), name ? el('span', {text: ' · ' + name}) : null));
    if (C.syn[i]) box.appendChild(el('p', {cls: 'gt-syn-tag', text: 'SYNTHETIC: invented for the demo, not a real report'}));
    var head = el('div', {cls: 'gt-pop-head'}, symbolSvg(C.kind[i], C.status[i], C.ver[i], 22));
    box.appendChild(head);
    var t = el('table', {cls: 'gt-kv'});
    t.appendChild(row('Kind', codeLabel(CODES.kind, C.kind[i])));
    t.appendChild(row('Status', codeLabel(CODES.status, C.status[i])));
    t.appendChild(row('Verification', codeLabel(CODES.ver, C.ver[i]) + ' (site summary of its reports)'));
    t.appendChild(row('Chainage', bankText(i) + (C.far[i] ? ' (beyond ' + fmt(D.meta.max_offset_km, 1) + ' km: left out of the counts)' : '')));
    t.appendChild(row('Location', codeLabel(CODES.prec, C.prec[i]) + (C.unc[i] !== null ? ' · ± ' + C.unc[i] + ' m' : '')));
    var datum = codeLabel(CODES.datum, C.datum[i]);
    var orig = (C.olon[i] !== null && C.olat[i] !== null) ? ' at ' + fmt(C.olon[i], 6) + ', ' + fmt(C.olat[i], 6) : '';
    t.appendChild(row('Datum', 'reported in ' + datum + orig + '; shown in WGS 84 at ' + fmt(C.lon[i], 6) + ', ' + fmt(C.lat[i], 6)));
    box.appendChild(t);
    var reps = C.r[i] || [];
    box.appendChild(el('h4', {text: 'Reports (' + reps.length + ')'}));
    reps.forEach(function (r) {
      var d = el('div', {cls: 'gt-rep'});
      var src = S(r[1]) || '(no source name)';
      var stype = codeLabel(CODES.source_type, r[2]);
      var url = S(r[3]);
      var href = safeHref(url);
      d.appendChild(el('div', {cls: 'gt-rep-src'}, el('b', {text: (S(r[0]) || '') + ' '}), href ? linkOrText(url, src) : el('span', {text: src}), el('span', {cls: 'gt-small', text: ' (' + stype + ')'})));
      if (url && !href) d.appendChild(el('div', {cls: 'gt-small gt-nolink', text: 'URL (not an http/https link, shown as text): ' + url}));
      var arch = S(r[4]);
      if (arch) d.appendChild(el('div', null, 'Archive: ', linkOrText(arch)));
      var ev = (S(r[8]) || '?') + ' – ' + (S(r[9]) || S(r[8]) || '?');
      var prec = S(r[10]);
      d.appendChild(el('div', {text: 'Event: ' + ev + (prec ? ' (precision: ' + codeByName(CODES.date_precision, prec) + ')' : '')}));
      d.appendChild(el('div', {text: 'Reported: ' + (S(r[7]) || '–') + ' · accessed: ' + (S(r[6]) || '–')}));
      var rel = S(r[11]);
      var cred = r[12];
      var grade = (rel || '?') + (cred !== null && cred !== undefined ? String(cred) : '?');
      var gradeText = 'Admiralty grade: ' + grade;
      if (rel || cred) {
        gradeText += ' (' + (rel ? codeByName(CODES.reliability, rel) : 'reliability not given') + '; ' +
          (cred ? codeByName(CODES.credibility, String(cred)) : 'credibility not given') + ')';
      }
      d.appendChild(el('div', {text: gradeText}));
      var ver = S(r[13]);
      d.appendChild(el('div', {text: 'Verification: ' + (ver ? codeByName(CODES.ver, ver) : '–')}));
      var sha = S(r[5]);
      if (sha) d.appendChild(el('div', {cls: 'gt-small gt-sha', text: 'SHA-256: ' + sha}));
      var notes = S(r[14]);
      if (notes) d.appendChild(el('div', {cls: 'gt-notes'}, el('b', {text: 'Notes: '}), el('span', {cls: 'gt-note-text', text: notes})));
      box.appendChild(d);
    });
    return box;
  }
  function openPopup(i) {
    popup.setLatLng([C.lat[i], C.lon[i]]).setContent(buildPopup(i)).openOn(map);
    GT.openIndex = i;
  }
  GT.openPopup = openPopup;
  GT.indexOf = function (id) {
    for (var j = 0; j < N; j++) if (S(C.id[j]) === id) return j;
    return -1;
  };
  GT.showCrossing = function (i) {
    if (i < 0 || i >= N) return;
    if (!visible[i]) { openPopup(i); map.setView([C.lat[i], C.lon[i]], Math.max(map.getZoom(), 12)); return; }
    clusters.zoomToShowLayer(markers[i], function () { map.panTo([C.lat[i], C.lon[i]]); openPopup(i); });
  };

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
    for (var i = 0; i < N; i++) {
      var t = passTime(i);
      var all = t && passFacets(i);
      visible[i] = all ? 1 : 0;
      if (all) shown.push(markers[i]);
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
    GT.shownCount = shown.length;
    Object.keys(counts).forEach(function (f) {
      counts[f].forEach(function (n, j) { if (legendCounts[f] && legendCounts[f][j]) legendCounts[f][j].textContent = String(n); });
    });
    GT.counts = counts;
    var sh = document.getElementById('gt-shown');
    if (sh) sh.textContent = '(' + shown.length + ' of ' + N + ')';
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
      if (!busy || tries > 1200) { GT.ready = true; return; }
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
      if (!visible[i] || C.unc[i] === null || C.unc[i] <= 0) continue;
      if (!b.contains([C.lat[i], C.lon[i]])) continue;
      if (clusters.getVisibleParent(markers[i]) !== markers[i]) continue;
      var col = (CODES.kind[C.kind[i]] || CODES.kind[0])[2];
      uncertainty.addLayer(L.circle([C.lat[i], C.lon[i]], {radius: C.unc[i], renderer: circleRenderer, color: col, weight: 1, opacity: 0.8, fillOpacity: 0.08, interactive: false}));
      drawn++;
    }
  }
  map.on('moveend zoomend overlayadd overlayremove', function () { drawUncertainty(); });
  clusters.on('animationend', drawUncertainty);

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
  legend.appendChild(el('p', {cls: 'gt-small', text: 'Counts: crossings that pass the time filter and the other two groups. Untick to hide. A site’s verification sums up its reports (any disputed, or verified and false together: disputed). Circles: location uncertainty. Clusters show the real number of crossings inside.'}));
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
      dl.appendChild(el('p', {text: 'Layer “Density raster” (off by default): 2-D Gaussian kernel, bandwidth ' + fmt(dens.raster.bandwidth_m / 1000, 2) + ' km, ' + fmt(dens.raster.cell_m, 0) + ' m cells (EPSG:32652, shown in Web Mercator). Unit: crossings per km².'}));
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

  // ------------------------------------------------------------------ chainage strip
  var strip = document.getElementById('gt-strip');
  var LEN = D.stretch.length_km;
  var PAD = 14;
  function stripX(km, w) { return PAD + (km / LEN) * (w - 2 * PAD); }
  function drawStrip() {
    if (!strip) return;
    var dpr = window.devicePixelRatio || 1;
    var w = strip.clientWidth, h = strip.clientHeight;
    if (!w || !h) return;
    strip.width = Math.round(w * dpr); strip.height = Math.round(h * dpr);
    var g = strip.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.fillStyle = '#fafafa'; g.fillRect(0, 0, w, h);
    // window
    g.fillStyle = 'rgba(43,123,185,0.10)';
    g.fillRect(stripX(W.from_km, w), 0, stripX(W.to_km, w) - stripX(W.from_km, w), h);
    var y = Math.round(h * 0.55);
    g.strokeStyle = '#2b7bb9'; g.lineWidth = 3;
    g.beginPath(); g.moveTo(stripX(0, w), y); g.lineTo(stripX(LEN, w), y); g.stroke();
    g.font = '10px sans-serif'; g.fillStyle = '#333'; g.strokeStyle = '#333'; g.lineWidth = 1;
    for (var k = 0; k <= LEN + 1e-9; k += 10) {
      var x = stripX(k, w), major = Math.round(k) % 50 === 0;
      g.beginPath(); g.moveTo(x, y + 3); g.lineTo(x, y + (major ? 10 : 6)); g.stroke();
      if (major) g.fillText(k + ' km', x - 10, h - 3);
    }
    g.fillStyle = '#555';
    D.counties.forEach(function (c) {
      var xa = stripX(c.from_km, w);
      g.strokeStyle = '#999'; g.beginPath(); g.moveTo(xa, 2); g.lineTo(xa, h - 14); g.stroke();
      var label = String(c.name || '');
      var space = stripX(Math.min(c.to_km, LEN), w) - xa;
      if (g.measureText(label).width < space - 4) g.fillText(label, xa + 3, 11);
    });
    for (var i = 0; i < N; i++) {
      if (!visible[i]) continue;
      var xi = stripX(C.km[i], w);
      g.fillStyle = (CODES.kind[C.kind[i]] || CODES.kind[0])[2];
      var up = C.off[i] > 0;
      g.fillRect(xi - 1, up ? y - 16 : y + 2, 2, 14);
    }
    g.fillStyle = '#333';
    g.fillText('CN bank ▲', 2, y - 18 < 12 ? 22 : y - 18);
  }
  function stripClick(ev) {
    var rect = strip.getBoundingClientRect();
    var w = strip.clientWidth;
    var px = ev.clientX - rect.left;
    var best = -1, bestD = 7;
    for (var i = 0; i < N; i++) {
      if (!visible[i]) continue;
      var d = Math.abs(stripX(C.km[i], w) - px);
      if (d < bestD) { bestD = d; best = i; }
    }
    if (best >= 0) {
      GT.lastStripPick = best;
      map.setView([C.lat[best], C.lon[best]], Math.max(map.getZoom(), 13));
      GT.showCrossing(best);
      return;
    }
    var km = Math.max(0, Math.min(LEN, (px - PAD) / (w - 2 * PAD) * LEN));
    map.panTo(pointAtKm(km));
  }
  function pointAtKm(km) {
    var cum = D.stretch.cum_km, line = D.stretch.line;
    for (var j = 1; j < cum.length; j++) {
      if (cum[j] >= km) {
        var f = (km - cum[j - 1]) / ((cum[j] - cum[j - 1]) || 1);
        return [line[j - 1][0] + f * (line[j][0] - line[j - 1][0]), line[j - 1][1] + f * (line[j][1] - line[j - 1][1])];
      }
    }
    return line[line.length - 1];
  }
  GT.pointAtKm = pointAtKm;
  GT.stripX = function (km) { return stripX(km, strip.clientWidth); };
  if (strip) {
    strip.addEventListener('click', stripClick);
    window.addEventListener('resize', drawStrip);
  }

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

  // ------------------------------------------------------------------ start
  map.fitBounds(M.bounds, {padding: [10, 10], animate: false});
  map.on('zoomend', function () {
    var z = map.getZoom();
    var c = map.getContainer();
    c.classList.toggle('gt-z-low', z < 11);
    c.classList.toggle('gt-z-mid', z >= 11 && z < 12);
  });
  map.fire('zoomend');
  applyFilters();
});
