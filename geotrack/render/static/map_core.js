/* geotrack map page script.
 *
 * Reads the page's data once from the JSON script element #geotrack-data
 * and builds every layer, the side panel, the filters and the chainage strip.
 *
 * Safety rule: text that comes from data is only ever placed with textContent or
 * as an attribute value through setAttribute / properties; innerHTML is never
 * given data. Links are made only for http: and https: URLs.
 */

  // Section 'core' of the map page script: DOM helpers, the page data and the map.
  // Sections share one function scope (geotrack.render.assets.own_js joins them in order).

  var GT = (window.geotrack = window.geotrack || {});
  GT.ready = false;
  GT.errors = [];

  // ------------------------------------------------------------------ DOM helpers
  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === 'text') node.textContent = String(v);
        else if (k === 'cls') node.className = v;
        else node.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined || c === false) continue;
      node.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
    }
    return node;
  }
  var SVGNS = 'http://www.w3.org/2000/svg';
  function svgEl(tag, attrs) {
    var node = document.createElementNS(SVGNS, tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    return node;
  }
  function safeHref(url) {
    if (typeof url !== 'string') return null;
    try {
      var u = new URL(url);
      return (u.protocol === 'http:' || u.protocol === 'https:') ? u.href : null;
    } catch (e) { return null; }
  }
  function fmt(x, nd) {
    if (x === null || x === undefined || !isFinite(x)) return '–';
    return Number(x).toFixed(nd === undefined ? 1 : nd);
  }
  function isoDay(d) {
    return new Date(d * 86400000).toISOString().slice(0, 10);
  }

  // ------------------------------------------------------------------ data
  var D = JSON.parse(document.getElementById('geotrack-data').textContent);
  GT.data = D;
  var S = function (i) { return (i === null || i === undefined || i < 0) ? null : D.s[i]; };
  // The reports' text and rows ship compressed (D.rz: zlib JSON in base64), read by popups:
  // decoded once, in the background, while the map draws.
  var R = null;
  var RS = function (i) { return (i === null || i === undefined || i < 0 || !R) ? null : R.s[i]; };
  GT.reportsReady = (function () {
    if (!D.rz) { R = {s: [], r: []}; return Promise.resolve(R); }
    var bin = atob(D.rz);
    var bytes = new Uint8Array(bin.length);
    for (var k = 0; k < bin.length; k++) bytes[k] = bin.charCodeAt(k);
    var text = new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'))).text();
    return text.then(function (t) { R = JSON.parse(t); return R; }, function (e) {
      GT.errors.push('reports could not be decoded: ' + e);
      R = {s: [], r: []};
      return R;
    });
  })();
  var C = D.c;
  var N = C.lat.length;
  var CODES = D.codes;
  var map = window[D.meta.map_var];
  GT.map = map;
  // with no tile layer Leaflet has no zoom limits; clustering needs a maximum
  map.setMinZoom(5);
  map.setMaxZoom(18);

