  // Section 'symbols' of the map page script: marker symbols (fill per kind, shape per status, outline per verification).
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

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

