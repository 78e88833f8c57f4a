"use strict";
(function () {
  var doc = document.getElementById("doc");
  var toc = document.getElementById("toc");
  var spec = null;

  // el builds an element; children are nodes or strings (always inserted as text).
  function el(tag, attrs) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") { e.textContent = attrs[k]; } else { e.setAttribute(k, attrs[k]); }
      });
    }
    for (var i = 2; i < arguments.length; i++) {
      var c = arguments[i];
      if (c === null || c === undefined) { continue; }
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return e;
  }

  // prose renders text with `code` spans as a paragraph.
  function prose(text, cls) {
    var p = el("p", { "class": cls || "desc" });
    String(text || "").split("`").forEach(function (part, i) {
      p.appendChild(i % 2 ? el("code", { text: part }) : document.createTextNode(part));
    });
    return p;
  }

  function resolve(obj) {
    var seen = 0;
    while (obj && obj.$ref && seen++ < 20) {
      var parts = obj.$ref.replace(/^#\//, "").split("/");
      var cur = spec;
      parts.forEach(function (p) { cur = cur ? cur[p.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined; });
      obj = cur;
    }
    return obj || {};
  }

  function refName(obj) {
    return obj && obj.$ref ? obj.$ref.split("/").pop() : "";
  }

  function typeLabel(s) {
    var t = s.type || (s.properties ? "object" : "any");
    if (t === "array") { t = "array of " + typeLabel(resolve(s.items || {})); }
    if (s.format) { t += " (" + s.format + ")"; }
    if (s.nullable) { t += ", nullable"; }
    return t;
  }

  // schemaNode renders a schema as a nested list, following $ref to a bounded depth.
  function schemaNode(schema, depth, path) {
    var name = refName(schema);
    var s = resolve(schema);
    var box = el("div");
    var head = el("span", { "class": "type mono", text: typeLabel(s) });
    box.appendChild(head);
    if (name) { box.appendChild(el("span", { "class": "muted" }, " · ", el("a", { href: "#schema-" + name, text: name }))); }
    if (s.description && depth > 0) { box.appendChild(prose(s.description)); }
    if (s["enum"]) { box.appendChild(el("div", { "class": "enum mono", text: "one of: " + s["enum"].join(", ") })); }
    var bounds = [];
    ["minimum", "maximum", "minLength", "maxLength"].forEach(function (k) { if (s[k] !== undefined) { bounds.push(k + " " + s[k]); } });
    if (bounds.length) { box.appendChild(el("div", { "class": "enum", text: bounds.join(", ") })); }
    if (depth > 4 || (name && path.indexOf(name) >= 0)) { return box; }
    var nextPath = name ? path.concat([name]) : path;
    if (s.properties) {
      var ul = el("ul", { "class": "schema" });
      var required = s.required || [];
      Object.keys(s.properties).forEach(function (k) {
        var li = el("li", null, el("code", { text: k }), " ");
        if (required.indexOf(k) >= 0) { li.appendChild(el("span", { "class": "req", text: "required " })); }
        li.appendChild(schemaNode(s.properties[k], depth + 1, nextPath));
        ul.appendChild(li);
      });
      box.appendChild(ul);
    }
    if (s.additionalProperties === true && depth === 0) { box.appendChild(el("div", { "class": "enum", text: "other fields allowed (see the description)" })); }
    if (s.type === "array" && s.items) {
      var items = resolve(s.items);
      if (items.properties) { box.appendChild(el("ul", { "class": "schema" }, el("li", null, schemaNode(s.items, depth + 1, nextPath)))); }
    }
    return box;
  }

  function contentBlock(content) {
    var wrap = el("div");
    Object.keys(content || {}).forEach(function (type) {
      var media = content[type];
      wrap.appendChild(el("div", null, el("code", { text: type })));
      if (media.schema) { wrap.appendChild(schemaNode(media.schema, 0, [])); }
      if (media.example !== undefined) {
        var ex = typeof media.example === "string" ? media.example : JSON.stringify(media.example, null, 2);
        wrap.appendChild(el("pre", { "class": "mono", text: ex }));
      }
    });
    return wrap;
  }

  function authLabel(op) {
    var sec = op.security !== undefined ? op.security : spec.security;
    if (!sec || sec.length === 0) { return "no auth"; }
    var names = [];
    sec.forEach(function (req) {
      Object.keys(req).forEach(function (k) {
        var scheme = (spec.components && spec.components.securitySchemes || {})[k] || {};
        names.push(scheme.name ? scheme.name + " (" + scheme["in"] + ")" : k);
      });
    });
    return "auth: " + names.join(" or ");
  }

  function operation(path, method, op, pathItem) {
    var id = "op-" + (op.operationId || method + path);
    var d = el("details", { "class": "op", id: id });
    d.appendChild(el("summary", null,
      el("span", { "class": "method m-" + method, text: method }),
      el("span", { "class": "path mono", text: path }),
      el("span", { "class": "muted", text: op.summary || "" }),
      el("span", { "class": "lock", text: authLabel(op) })));
    var body = el("div", { "class": "body" });
    if (op.description) { body.appendChild(prose(op.description)); }

    var params = (pathItem.parameters || []).concat(op.parameters || []).map(resolve);
    if (params.length) {
      body.appendChild(el("h4", { text: "Parameters" }));
      var t = el("table", null, el("tr", null, el("th", { text: "name" }), el("th", { text: "in" }), el("th", { text: "type" }), el("th", { text: "description" })));
      params.forEach(function (p) {
        var s = resolve(p.schema || {});
        t.appendChild(el("tr", null,
          el("td", null, el("code", { text: p.name }), p.required ? el("span", { "class": "req", text: " required" }) : null),
          el("td", { text: p["in"] }),
          el("td", { "class": "type mono", text: typeLabel(s) }),
          el("td", null, prose(p.description || ""))));
      });
      body.appendChild(t);
    }
    if (op.requestBody) {
      var rb = resolve(op.requestBody);
      body.appendChild(el("h4", { text: "Request body" + (rb.required ? " (required)" : "") }));
      if (rb.description) { body.appendChild(prose(rb.description)); }
      body.appendChild(contentBlock(rb.content));
    }
    body.appendChild(el("h4", { text: "Responses" }));
    var rt = el("table", null, el("tr", null, el("th", { text: "status" }), el("th", { text: "description and body" })));
    Object.keys(op.responses || {}).sort().forEach(function (code) {
      var r = resolve(op.responses[code]);
      var cell = el("td", null, prose(r.description || ""));
      var errorSchema = false;
      Object.keys(r.content || {}).forEach(function (type) {
        if (refName(r.content[type].schema) === "Error") { errorSchema = true; }
      });
      if (errorSchema) {
        cell.appendChild(el("div", null, "the error envelope ", el("a", { href: "#schema-Error", text: "Error" })));
      } else if (r.content) {
        cell.appendChild(contentBlock(r.content));
      }
      rt.appendChild(el("tr", null, el("td", { "class": "status mono s" + code.charAt(0), text: code }), cell));
    });
    body.appendChild(rt);
    d.appendChild(body);
    return d;
  }

  function render() {
    doc.textContent = "";
    var info = spec.info || {};
    document.getElementById("title").textContent = (info.title || "API") + " " + (info.version ? "v" + info.version : "");
    document.title = info.title || "API";
    if (info.description) { doc.appendChild(prose(info.description)); }

    var groups = {};
    var order = (spec.tags || []).map(function (t) { return t.name; });
    Object.keys(spec.paths || {}).forEach(function (path) {
      var item = spec.paths[path];
      ["get", "post", "put", "patch", "delete"].forEach(function (m) {
        if (!item[m]) { return; }
        var tag = (item[m].tags || ["other"])[0];
        if (order.indexOf(tag) < 0) { order.push(tag); }
        (groups[tag] = groups[tag] || []).push([path, m, item[m], item]);
      });
    });
    order.forEach(function (tag) {
      if (!groups[tag]) { return; }
      var meta = (spec.tags || []).filter(function (t) { return t.name === tag; })[0] || {};
      doc.appendChild(el("h2", { id: "tag-" + tag, text: tag }));
      toc.appendChild(el("a", { href: "#tag-" + tag, text: tag }));
      if (meta.description) { doc.appendChild(prose(meta.description, "muted")); }
      groups[tag].forEach(function (g) { doc.appendChild(operation(g[0], g[1], g[2], g[3])); });
    });

    var schemas = (spec.components && spec.components.schemas) || {};
    doc.appendChild(el("h2", { id: "schemas", text: "Schemas" }));
    toc.appendChild(el("a", { href: "#schemas", text: "schemas" }));
    Object.keys(schemas).forEach(function (name) {
      var s = schemas[name];
      var box = el("details", { "class": "op", id: "schema-" + name });
      box.appendChild(el("summary", null, el("span", { "class": "path mono", text: name })));
      var body = el("div", { "class": "body" });
      if (s.description) { body.appendChild(prose(s.description)); }
      body.appendChild(schemaNode(s, 0, [name]));
      box.appendChild(body);
      doc.appendChild(box);
    });
    openHash();
  }

  // openHash opens the operation or schema the URL's fragment names.
  function openHash() {
    var target = location.hash && document.getElementById(location.hash.slice(1));
    if (target && target.tagName === "DETAILS") { target.open = true; target.scrollIntoView(); }
  }
  window.addEventListener("hashchange", openHash);

  fetch("/openapi.json", { headers: { Accept: "application/json" } })
    .then(function (resp) {
      if (!resp.ok) { throw new Error("GET /openapi.json answered " + resp.status); }
      return resp.json();
    })
    .then(function (json) { spec = json; render(); })
    .catch(function (err) {
      doc.textContent = "";
      doc.appendChild(el("p", { "class": "error", text: "Could not load the API description: " + err.message }));
    });
})();
