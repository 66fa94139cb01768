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
    // Text boxes drawn so far: the bank key first, then km marks, then county names (a
    // county name slides right past what it would cover, else it is left out).
    var texts = GT.stripTexts = [];
    stripText(g, 'CN bank ▲', 2, y - 18 < 12 ? 22 : y - 18, texts);
    for (var k = 0; k <= LEN + 1e-9; k += 10) {
      var x = stripX(k, w), major = Math.round(k) % 50 === 0;
      g.beginPath(); g.moveTo(x, y + 3); g.lineTo(x, y + (major ? 10 : 6)); g.stroke();
      if (major) stripText(g, k + ' km', x - 10, h - 3, texts);
    }
    g.fillStyle = '#555';
    D.counties.forEach(function (c) {
      var xa = stripX(c.from_km, w);
      g.strokeStyle = '#999'; g.beginPath(); g.moveTo(xa, 2); g.lineTo(xa, h - 14); g.stroke();
      var label = String(c.name || '');
      var space = stripX(Math.min(c.to_km, LEN), w) - xa;
      var x0 = xa + 3, tw = g.measureText(label).width;
      texts.forEach(function (t) { if (t.t < 12 && t.l < x0 + tw + 4 && x0 < t.r + 4) x0 = t.r + 6; });
      if (label && x0 + tw < xa + space - 1) stripText(g, label, x0, 11, texts);
    });
    for (var i = 0; i < N; i++) {
      if (!visible[i]) continue;
      var xi = stripX(C.km[i], w);
      g.fillStyle = (CODES.kind[C.kind[i]] || CODES.kind[0])[2];
      var top = C.off[i] > 0 ? y - 16 : y + 2;
      var sp = stripSpread(i);
      if (sp) {  // where the site may be: a translucent bar, its best estimate the tick
        g.globalAlpha = 0.3;
        g.fillRect(stripX(sp[0], w), top + 3, Math.max(stripX(sp[1], w) - stripX(sp[0], w), 1), 8);
        g.globalAlpha = 1;
      }
      g.fillRect(xi - 1, top, 2, 14);
    }
  }
  // Draw *label* with its baseline at (x, base), moved inside the strip's ends, unless it
  // would overlap a box in *texts*; record its box (10 px font: 9 px above the baseline,
  // 3 below) and say whether it was drawn.
  function stripText(g, label, x, base, texts) {
    var tw = g.measureText(label).width;
    x = Math.max(1, Math.min(x, strip.clientWidth - tw - 1));
    var box = {text: label, l: x, r: x + tw, t: base - 9, b: base + 3};
    var hit = texts.some(function (o) { return box.l < o.r && o.l < box.r && box.t < o.b && o.t < box.b; });
    if (!hit) { g.fillText(label, x, base); texts.push(box); }
    return !hit;
  }
  // The km span a site may lie on, for a site placed from words: a stretch of river
  // ([from_km, to_km]) or near a named place (its best estimate ± its radius); else null.
  function stripSpread(i) {
    if (C.sp[i]) return C.sp[i];
    if (C.np[i] && C.unc[i]) return [Math.max(0, C.km[i] - C.unc[i] / 1000), Math.min(LEN, C.km[i] + C.unc[i] / 1000)];
    return null;
  }
  function stripTip(i) {
    var head = (S(C.id[i]) || '') + (S(C.name[i]) ? ' · ' + S(C.name[i]) : '') + ' · km ' + fmt(C.km[i], 1);
    var sp = stripSpread(i);
    if (!sp) return head;
    var span = C.sp[i] ? 'may be anywhere on km ' + fmt(sp[0], 1) + '–' + fmt(sp[1], 1)
      : 'near a named place, ± ' + fmt(C.unc[i] / 1000, 1) + ' km: km ' + fmt(sp[0], 1) + '–' + fmt(sp[1], 1);
    return head + ' (best estimate); ' + span + ' (' + fmt(sp[1] - sp[0], 1) + ' km of river)';
  }
  // the site under strip x *px*: a tick within 7 px, else the narrowest spread bar over px
  function stripPick(px, w) {
    var best = -1, bestD = 7, bar = -1, barW = Infinity;
    for (var i = 0; i < N; i++) {
      if (!visible[i]) continue;
      var d = Math.abs(stripX(C.km[i], w) - px);
      if (d < bestD) { bestD = d; best = i; }
      var sp = stripSpread(i);
      if (sp && stripX(sp[0], w) <= px && px <= stripX(sp[1], w) && sp[1] - sp[0] < barW) { barW = sp[1] - sp[0]; bar = i; }
    }
    return best >= 0 ? best : bar;
  }
  function stripHover(ev) {
    var i = stripPick(ev.clientX - strip.getBoundingClientRect().left, strip.clientWidth);
    strip.title = i >= 0 ? stripTip(i) : '';
    GT.stripHovered = i;
  }
  function stripClick(ev) {
    var rect = strip.getBoundingClientRect();
    var w = strip.clientWidth;
    var px = ev.clientX - rect.left;
    var best = stripPick(px, w);
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
  GT.stripSpread = stripSpread;
  if (strip) {
    strip.addEventListener('click', stripClick);
    strip.addEventListener('mousemove', stripHover);
    window.addEventListener('resize', drawStrip);
  }

