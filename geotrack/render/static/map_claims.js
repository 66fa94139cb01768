  // Section 'claims' of the map page script: claims as bands beside the river, the claims panel, official crossings.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).
  // Every text from a claim or relay is set with textContent (el(..., {text: ...})); links only for http(s).

  // ------------------------------------------------------------------ claims
  var CL = (D.claims && D.claims.claims) || [];
  var claimLayers = {};
  var SIGN = {exact: '', at_least: '≥', more_than: '>', about: '~'};
  var MEASURE = {river_km: 'river', straight_km: 'straight', max_extent_km: 'max extent'};
  function pct(v) { return (v === null || v === undefined) ? '–' : (v > 0 ? '+' : (v < 0 ? '−' : '')) + Math.abs(Math.round(v)) + '%'; }

  CL.forEach(function (c) {
    var g = L.layerGroup();
    c.bands.forEach(function (part) {
      g.addLayer(L.polyline(part, {color: c.colour, weight: 7, opacity: 0.55, lineCap: 'butt', className: 'gt-claim-band'}));
    });
    if (c.label_at) {
      g.addLayer(L.marker(c.label_at, {interactive: false, keyboard: false,
        icon: new TextIcon({text: c.label, className: 'gt-label gt-claim-label'})}));
    }
    g.eachLayer(function (l) {
      if (l.bindTooltip && l instanceof L.Polyline) l.bindTooltip(el('span', {text: c.id + ' ' + c.label + ' · km ' + fmt(c.from_km, 1) + '–' + fmt(c.to_km, 1)}), {sticky: true});
    });
    claimLayers[c.id] = g.addTo(map);
    overlays['Claim ' + c.id + ': ' + c.label] = g;
  });

  var OFF = D.official || [];
  if (OFF.length) {
    var official = L.layerGroup();
    OFF.forEach(function (o) {
      var m = L.marker([o.lat, o.lon], {keyboard: false, title: o.name || '',
        icon: L.divIcon({className: 'gt-official', iconSize: [14, 14], html: ''})});
      m.bindPopup(function () {
        return el('div', {cls: 'gt-popup'},
          el('h3', {text: (o.name || '') + (o.name_local ? ' · ' + o.name_local : '')}),
          el('p', {text: 'Official crossing (not a reported informal one): ' + (o.kind || '')}),
          o.facts ? el('p', {text: o.facts}) : null,
          el('p', {cls: 'gt-small', text: 'Coordinate: ' + (o.coord_source || '') + ' — ' + (o.coord_licence || '')}));
      });
      official.addLayer(m);
    });
    overlays['Official crossings (square)'] = official.addTo(map);
  }

  function relayList(c) {
    var ul = el('ul', {cls: 'gt-relays'});
    c.relays.forEach(function (r) {
      var head = el('div', null, el('b', {text: r.publisher || ''}),
        ' · ' + (r.published || 'undated') + ' (' + (r.published_precision || '') + ')' + (r.language ? ' · ' + r.language : ''));
      var li = el('li', {'data-relay': r.relay_id}, head);
      var figs = [];
      if (r.count !== null && r.count !== undefined) figs.push((SIGN[r.count_qualifier] || '') + r.count);
      if (r.stated_length !== null && r.stated_length !== undefined) figs.push(r.stated_length + ' ' + (r.stated_unit || '') + (r.stated_length_as_printed ? ' (“' + r.stated_length_as_printed + '”)' : ''));
      if (figs.length) li.appendChild(el('div', {cls: 'gt-small', text: 'prints: ' + figs.join(', ')}));
      if (r.quote) li.appendChild(el('blockquote', {cls: 'gt-quote', text: r.quote}));
      var href = safeHref(r.url);
      if (href) li.appendChild(el('a', {href: href, target: '_blank', rel: 'noopener noreferrer', text: href}));
      else if (r.url) li.appendChild(el('div', {cls: 'gt-small', text: r.url}));
      ul.appendChild(li);
    });
    return ul;
  }

  if (CL.length) {
    var box = el('section', {id: 'gt-claims', 'aria-label': 'Claims about stretches'});
    box.appendChild(el('h2', {text: 'Claims about stretches (' + CL.length + ')'}));
    box.appendChild(el('p', {cls: 'gt-small', text: 'Each claim is drawn as a band beside the river over the window its area resolves to; untick to hide. Measured in ' + ((D.claims.method || {}).crs || 'EPSG:32652') + '; difference = stated / measured − 1. The figures say which measure a stated length is closest to, not how it was made.'}));
    CL.forEach(function (c) {
      var cb = el('input', {type: 'checkbox', checked: 'checked', 'data-claim': c.id});
      cb.addEventListener('change', function () {
        if (cb.checked) claimLayers[c.id].addTo(map); else map.removeLayer(claimLayers[c.id]);
      });
      var swatch = el('span', {cls: 'gt-claim-swatch', style: 'background:' + c.colour});
      var det = el('details', {cls: 'gt-claim', 'data-claim': c.id});
      det.appendChild(el('summary', null, el('label', {cls: 'gt-leg-row'}, cb, swatch, el('span', {cls: 'gt-leg-label', text: c.id + ' ' + c.label}))));
      if (c.area_as_printed) det.appendChild(el('p', {text: 'Area as printed: “' + c.area_as_printed + '”'}));
      det.appendChild(el('p', {cls: 'gt-small', text: 'Resolved to km ' + fmt(c.from_km, 1) + '–' + fmt(c.to_km, 1) + ': ' + (c.area_basis || '') + (c.area_inferred ? ' (an inference)' : '')}));
      var t = el('table', {cls: 'gt-figs gt-claim-check'});
      t.appendChild(el('tr', null, el('th', {text: 'reading'}), el('th', {text: 'river km'}), el('th', {text: 'straight km'}), el('th', {text: 'stated: difference, closest'})));
      c.readings.forEach(function (m) {
        var stated = m.stated.map(function (s) {
          var d = s.difference_pct || {};
          return s.stated_length + ' ' + s.stated_unit + ' (' + s.printed_by.join(', ') + '): river ' + pct(d.river_km) + ', straight ' + pct(d.straight_km) + ', max extent ' + pct(d.max_extent_km) + '; closest ' + (MEASURE[s.closest] || '–');
        }).join(' | ');
        t.appendChild(el('tr', null,
          el('td', {text: (m.fit_rank && c.readings.length > 1 ? '#' + m.fit_rank + ' ' : '') + (m.as_resolved ? '(as resolved) ' : '') + m.reading}),
          el('td', {text: fmt(m.river_km, 1)}), el('td', {text: fmt(m.straight_km, 1)}), el('td', {text: stated})));
      });
      det.appendChild(t);
      if (c.beyond) det.appendChild(el('p', {text: 'Beyond the stretch: ' + c.beyond}));
      if (c.sites) det.appendChild(el('p', {text: 'Sites: ' + c.sites + ' inside the window.'}));
      if (c.density) det.appendChild(el('p', {cls: 'gt-small', text: 'Claimed count over the window: ' + fmt(c.density.per_river_km, 3) + ' per river km, ' + fmt(c.density.per_straight_km, 3) + ' per straight km' + (c.density.note ? ' (' + c.density.note + ')' : '') + '.'}));
      c.conflicts.forEach(function (k) {
        det.appendChild(el('p', {cls: 'gt-conflict', text: 'Relays differ on ' + k.field + ': ' + k.values.map(function (v) { return v.value + ' (' + v.relays.join(', ') + ')'; }).join('; ')}));
      });
      det.appendChild(el('h3', {text: 'Relays (' + c.relays.length + ')'}));
      det.appendChild(relayList(c));
      box.appendChild(det);
    });
    var after = document.getElementById('gt-headline');
    after.parentNode.insertBefore(box, after.nextSibling);
  }
  GT.claims = {layers: claimLayers, count: CL.length, official: OFF.length};
