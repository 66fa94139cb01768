  // Section 'density' of the map page script: density along the river: coloured river segments and the raster.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

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

