  // Section 'start' of the map page script: start: first view and first filtering.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

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
