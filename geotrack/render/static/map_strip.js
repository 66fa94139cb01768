  // Section 'strip' of the map page script: chainage strip: the river straightened.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

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

