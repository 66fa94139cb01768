  // Section 'reference' of the map page script: reference layers: river, border, chainage ticks, towns, counties.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

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

