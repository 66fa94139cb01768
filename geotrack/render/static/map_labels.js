  // Section 'labels' of the map page script: labels placed without collisions.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

  // ------------------------------------------------------------------ label placement
  // Where two shown labels' boxes overlap, the lower-priority one is hidden:
  // claims over towns over counties over km marks (then in the order drawn).
  var LABEL_RANK = [['gt-claim-label', 0], ['gt-town', 1], ['gt-county', 2], ['gt-km', 3]];
  GT.labelPasses = 0;
  function labelRank(node) {
    for (var i = 0; i < LABEL_RANK.length; i++) {
      if (node.classList.contains(LABEL_RANK[i][0])) return LABEL_RANK[i][1];
    }
    return LABEL_RANK.length;
  }
  function placeLabels() {
    var box = map.getContainer().getBoundingClientRect();
    var items = [];
    map.getContainer().querySelectorAll('.gt-label').forEach(function (node, order) {
      node.classList.remove('gt-label-hidden');
      var span = node.firstChild;
      if (!span) return;
      var r = span.getBoundingClientRect();
      if (r.width === 0 || r.right < box.left || r.left > box.right || r.bottom < box.top || r.top > box.bottom) return;
      items.push({node: node, r: r, rank: labelRank(node), order: order});
    });
    items.sort(function (a, b) { return (a.rank - b.rank) || (a.order - b.order); });
    var kept = [];
    items.forEach(function (it) {
      var hit = kept.some(function (k) {
        return it.r.left < k.r.right && k.r.left < it.r.right && it.r.top < k.r.bottom && k.r.top < it.r.bottom;
      });
      if (hit) it.node.classList.add('gt-label-hidden');
      else kept.push(it);
    });
    GT.labelPasses += 1;
    GT.labelsPending = false;
  }
  // placed in the next frame, once every other zoomend/moveend handler has changed the labels
  var labelFrame = null;
  function schedulePlaceLabels() {
    GT.labelsPending = true;
    if (labelFrame !== null) return;
    labelFrame = requestAnimationFrame(function () { labelFrame = null; placeLabels(); });
  }
  GT.placeLabels = placeLabels;
  map.on('zoomend moveend overlayadd overlayremove', schedulePlaceLabels);
  // markercluster moves every marker icon, labels too, while it animates: place them again after
  if (GT.clusters) GT.clusters.on('animationend', schedulePlaceLabels);
  placeLabels();
