  // Section 'crossings' of the map page script: crossing markers, clusters and popups.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

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

  // a site known only to a stretch of river (a reach, a county) is drawn as that stretch,
  // not as a confident pin; the filters and the legend count it like any site
  var CUM = D.stretch.cum_km, LINE = D.stretch.line;
  function lineAt(k) {
    var lo = 0, hi = CUM.length - 1;
    if (k <= CUM[0]) return LINE[0];
    if (k >= CUM[hi]) return LINE[hi];
    while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (CUM[mid] <= k) lo = mid; else hi = mid; }
    var t = (k - CUM[lo]) / ((CUM[hi] - CUM[lo]) || 1);
    return [LINE[lo][0] + t * (LINE[hi][0] - LINE[lo][0]), LINE[lo][1] + t * (LINE[hi][1] - LINE[lo][1])];
  }
  function stretchPart(a, b) {
    var out = [lineAt(a)];
    for (var j = 0; j < CUM.length; j++) if (CUM[j] > a && CUM[j] < b) out.push(LINE[j]);
    out.push(lineAt(b));
    return out;
  }
  var spreads = L.layerGroup();
  var spreadLines = new Array(N);
  for (var k = 0; k < N; k++) {
    var kcol = (CODES.kind[C.kind[k]] || CODES.kind[0])[2];
    var spl;
    if (C.sp[k]) {
      spl = L.polyline(stretchPart(C.sp[k][0], C.sp[k][1]), {
        color: kcol, weight: 9, opacity: 0.5, lineCap: 'butt', className: 'gt-spread'});
    } else if (C.np[k] && C.unc[k]) {  // near a named place: its circle, no pin
      spl = L.circle([C.lat[k], C.lon[k]], {radius: C.unc[k], color: kcol, weight: 2,
        opacity: 0.8, fillOpacity: 0.15, dashArray: '4 3', className: 'gt-spread gt-spread-circle'});
    } else continue;
    spl.gtIndex = k;
    spl.on('click', function (e) { openPopup(e.target.gtIndex); });
    spreadLines[k] = spl;
  }
  GT.spreadLines = spreadLines;
  GT.spreads = spreads;
  overlays['Sites known only to a stretch of river'] = spreads.addTo(map);

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
    // A link shows where it really goes: the browser's normalised address (an obfuscated
    // host such as 0x7f.1 is shown as 127.0.0.1, an IDN in punycode), beside any label.
    var href = safeHref(url);
    if (!href) return el('span', {cls: 'gt-nolink', text: url});
    var a = el('a', {href: href, target: '_blank', rel: 'noopener noreferrer nofollow', text: label || href});
    if (!label) return a;
    return el('span', null, a, el('span', {cls: 'gt-small gt-dest', text: ' → ' + new URL(href).host}));
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
    if (C.sp[i]) {
      t.appendChild(row('Chainage', 'somewhere on km ' + fmt(C.sp[i][0], 1) + '–' + fmt(C.sp[i][1], 1) + ' (' + fmt(C.sp[i][1] - C.sp[i][0], 1) + ' km of river; no point is known)'));
    } else {
      t.appendChild(row('Chainage', bankText(i) + (C.far[i] ? ' (beyond ' + fmt(D.meta.max_offset_km, 1) + ' km: left out of the counts)' : '')));
    }
    if (S(C.pp[i])) t.appendChild(row('As printed', S(C.pp[i])));
    if (S(C.pb[i])) t.appendChild(row('Placed', S(C.pb[i])));
    t.appendChild(row('Location', codeLabel(CODES.prec, C.prec[i]) + (C.unc[i] !== null ? ' · ± ' + C.unc[i] + ' m' : '')));
    var datum = codeLabel(CODES.datum, C.datum[i]);
    var orig = (C.olon[i] !== null && C.olat[i] !== null) ? ' at ' + fmt(C.olon[i], 6) + ', ' + fmt(C.olat[i], 6) : '';
    t.appendChild(row('Datum', 'reported in ' + datum + orig + '; shown in WGS 84 at ' + fmt(C.lon[i], 6) + ', ' + fmt(C.lat[i], 6)));
    box.appendChild(t);
    if (!R) {  // still decoding: the popup fills in when the reports are there
      box.appendChild(el('p', {cls: 'gt-small', text: 'Loading the reports…'}));
      GT.reportsReady.then(function () { if (GT.openIndex === i) openPopup(i); });
      return box;
    }
    var reps = R.r[i] || [];
    box.appendChild(el('h4', {text: 'Reports (' + reps.length + ')'}));
    reps.forEach(function (r) {
      var d = el('div', {cls: 'gt-rep'});
      var src = RS(r[1]) || '(no source name)';
      var stype = codeLabel(CODES.source_type, r[2]);
      var url = RS(r[3]);
      var href = safeHref(url);
      d.appendChild(el('div', {cls: 'gt-rep-src'}, el('b', {text: (RS(r[0]) || '') + ' '}), href ? linkOrText(url, src) : el('span', {text: src}), el('span', {cls: 'gt-small', text: ' (' + stype + ')'})));
      if (url && !href) d.appendChild(el('div', {cls: 'gt-small gt-nolink', text: 'URL (not an http/https link, shown as text): ' + url}));
      var arch = RS(r[4]);
      if (arch) d.appendChild(el('div', null, 'Archive: ', linkOrText(arch)));
      var ev = (RS(r[8]) || '?') + ' – ' + (RS(r[9]) || RS(r[8]) || '?');
      var prec = RS(r[10]);
      d.appendChild(el('div', {text: 'Event: ' + ev + (prec ? ' (precision: ' + codeByName(CODES.date_precision, prec) + ')' : '')}));
      d.appendChild(el('div', {text: 'Reported: ' + (RS(r[7]) || '–') + ' · accessed: ' + (RS(r[6]) || '–')}));
      var rel = RS(r[11]);
      var cred = r[12];
      var grade = (rel || '?') + (cred !== null && cred !== undefined ? String(cred) : '?');
      var gradeText = 'Admiralty grade: ' + grade;
      if (rel || cred) {
        gradeText += ' (' + (rel ? codeByName(CODES.reliability, rel) : 'reliability not given') + '; ' +
          (cred ? codeByName(CODES.credibility, String(cred)) : 'credibility not given') + ')';
      }
      d.appendChild(el('div', {text: gradeText}));
      var ver = RS(r[13]);
      d.appendChild(el('div', {text: 'Verification: ' + (ver ? codeByName(CODES.ver, ver) : '–')}));
      var sha = RS(r[5]);
      if (sha) d.appendChild(el('div', {cls: 'gt-small gt-sha', text: 'SHA-256: ' + sha}));
      var notes = RS(r[14]);
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
    if (spreadLines[i]) {
      var bb = C.sp[i] ? spreadLines[i].getBounds() : L.latLng(C.lat[i], C.lon[i]).toBounds(2 * C.unc[i]);
      map.fitBounds(bb.pad(0.1)); openPopup(i); return;
    }
    if (!visible[i]) { openPopup(i); map.setView([C.lat[i], C.lon[i]], Math.max(map.getZoom(), 12)); return; }
    clusters.zoomToShowLayer(markers[i], function () { map.panTo([C.lat[i], C.lon[i]]); openPopup(i); });
  };

