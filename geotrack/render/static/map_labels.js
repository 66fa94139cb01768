  // Section 'labels' of the map page script: labels placed without collisions.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

  // ------------------------------------------------------------------ label placement
  // Where two shown labels' boxes overlap, the lower-priority one is hidden:
  // claims over towns over counties over km marks (then in the order drawn).
  // After each pass, with the view still, the map fires 'gtlabels' ({pass: n}).
  var LABEL_RANK = [['gt-claim-label', 0], ['gt-town', 1], ['gt-county', 2], ['gt-km', 3]];
  GT.labelPasses = 0;
  function labelRank(node) {
    for (var i = 0; i < LABEL_RANK.length; i++) {
      if (node.classList.contains(LABEL_RANK[i][0])) return LABEL_RANK[i][1];
    }
    return LABEL_RANK.length;
  }
  // The visible map: the map's box within the window, left of the side panel (whatever
  // the layout), with Leaflet's controls (zoom, layers, scale, attribution) over it.
  function visibleMapRect() {
    var c = map.getContainer().getBoundingClientRect();
    var right = Math.min(c.right, window.innerWidth);
    var panel = document.getElementById('gt-panel');
    if (panel) {
      var p = panel.getBoundingClientRect();
      if (p.width > 0 && p.left < right && p.right > c.left && p.top < c.bottom && p.bottom > c.top) right = Math.min(right, p.left);
    }
    return {left: Math.max(c.left, 0), top: Math.max(c.top, 0), right: right, bottom: Math.min(c.bottom, window.innerHeight)};
  }
  GT.visibleMapRect = visibleMapRect;
  // GAP px of air kept around a label (its halo; sub-pixel moves of a zoom's end)
  var GAP = 2;
  function inside(r, v) {
    return r.left >= v.left + GAP && r.right <= v.right - GAP && r.top >= v.top + GAP && r.bottom <= v.bottom - GAP;
  }
  function overlaps(a, b) {
    return a.left < b.right + GAP && b.left < a.right + GAP && a.top < b.bottom + GAP && b.top < a.bottom + GAP;
  }
  // A label that does not fit wholly inside the visible map is never shown cut: a town's
  // name moves to the other side of its point; a claim's or county's name (placed at the
  // middle of its stretch) slides inward by up to half its width; otherwise it is hidden.
  function fitLabel(node, span, r, v) {
    if (inside(r, v)) return r;
    if (node.classList.contains('gt-town')) {
      node.classList.add('gt-label-flip');
      var f = span.getBoundingClientRect();
      if (inside(f, v)) return f;
      node.classList.remove('gt-label-flip');
      return null;
    }
    if (!node.classList.contains('gt-claim-label') && !node.classList.contains('gt-county')) return null;
    var l = v.left + GAP, t = v.top + GAP, rt = v.right - GAP, b = v.bottom - GAP;
    if (r.width > rt - l || r.height > b - t) return null;
    var dx = r.left < l ? l - r.left : (r.right > rt ? rt - r.right : 0);
    var dy = r.top < t ? t - r.top : (r.bottom > b ? b - r.bottom : 0);
    if (Math.abs(dx) > r.width / 2 || Math.abs(dy) > r.height / 2) return null;
    span.style.left = dx + 'px';
    span.style.top = dy + 'px';
    return {left: r.left + dx, right: r.right + dx, top: r.top + dy, bottom: r.bottom + dy};
  }
  // While Leaflet zooms or markercluster animates (its CSS transition moves every marker
  // icon, labels too) the boxes are not where they will stay: the pass waits for the
  // animation's end (markercluster's 'animationend' schedules it again).
  function animating() {
    return map._animatingZoom || !!map.getContainer().querySelector('.leaflet-zoom-anim, .leaflet-cluster-anim');
  }
  function placeLabels() {
    if (animating()) { GT.labelsPending = true; return; }
    var v = visibleMapRect();
    var items = [];
    map.getContainer().querySelectorAll('.gt-label').forEach(function (node, order) {
      node.classList.remove('gt-label-hidden', 'gt-label-flip');
      var span = node.firstChild;
      if (!span) return;
      span.style.left = ''; span.style.top = '';
      var r = span.getBoundingClientRect();
      if (r.width === 0) return;  // not drawn at this zoom
      var fit = fitLabel(node, span, r, v);
      if (!fit) { node.classList.add('gt-label-hidden'); return; }
      items.push({node: node, r: fit, rank: labelRank(node), order: order});
    });
    items.sort(function (a, b) { return (a.rank - b.rank) || (a.order - b.order); });
    var kept = [];
    map.getContainer().querySelectorAll('.leaflet-control').forEach(function (ctl) {
      var r = ctl.getBoundingClientRect();
      if (r.width > 0) kept.push({r: r});
    });
    items.forEach(function (it) {
      var hit = kept.some(function (k) { return overlaps(it.r, k.r); });
      if (hit) it.node.classList.add('gt-label-hidden');
      else kept.push(it);
    });
    GT.labelPasses += 1;
    GT.labelsPending = false;
    // the page's own event: every label is placed (tests and other sections wait for it)
    map.fire('gtlabels', {pass: GT.labelPasses});
  }
  // placed in the next frame, once every other zoomend/moveend handler has changed the labels
  var labelFrame = null;
  function schedulePlaceLabels() {
    GT.labelsPending = true;
    if (labelFrame !== null) return;
    labelFrame = requestAnimationFrame(function () { labelFrame = null; placeLabels(); });
  }
  GT.placeLabels = placeLabels;
  map.on('zoomend moveend resize overlayadd overlayremove', schedulePlaceLabels);
  // markercluster moves every marker icon, labels too, while it animates: place them again after
  if (GT.clusters) GT.clusters.on('animationend', schedulePlaceLabels);
  placeLabels();
