// The fast peer eventaudit is measured against: ajv 8 (schemas compiled to
// JavaScript), JSON.parse per event, eventaudit's matching rules (schema_id,
// then track event name / page name or Page / Identify / Group, highest
// MAJOR-MINOR), as testdata/bench/reference.py does for Python. One pass
// warms the JIT up untimed; the second is timed.
//
// usage: NODE_PATH=DIR/node_modules node ajv.js SCHEMAS_DIR PLAN EVENTS.ndjson
// Prints one line: events, invalid events, seconds, events/s (single core).
const fs = require("fs");
const path = require("path");
const Ajv = require("ajv");

const [schemasDir, plan, eventsFile] = process.argv.slice(2);
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false, validateSchema: false });
const byName = new Map();
const ids = new Set();
function walk(dir) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".")) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) { walk(full); continue; }
    if (!e.name.endsWith(".json")) continue;
    const rel = path.relative(schemasDir, full).split(path.sep).join("/");
    const doc = JSON.parse(fs.readFileSync(full, "utf8"));
    const uri = "file:///schemas/" + encodeURI(rel);
    doc.$id = uri;
    delete doc.$schema;
    ajv.addSchema(doc, uri);
    ids.add(uri);
    if (!rel.startsWith(plan + "/")) continue;
    const self = doc.self || {};
    const name = self.name || path.basename(path.dirname(rel));
    const [major, minor] = (self.version || "0-0").split("-").map(Number);
    const prev = byName.get(name);
    if (!prev || major > prev.major || (major === prev.major && minor > prev.minor)) {
      byName.set(name, { major, minor, uri });
    }
  }
}
walk(schemasDir);

const keys = { track: "properties", page: "properties", screen: "properties", identify: "traits", group: "traits" };
const names = (m) => ({ track: [m.event], page: [m.name, "Page"], screen: [m.name, "Screen"],
  identify: ["Identify"], group: ["Group"] })[m.type];
function route(msg) {
  const key = keys[msg.type];
  if (!key) return [null, null];
  let obj = msg[key];
  if (obj === undefined || obj === null) obj = {};
  if (obj && typeof obj === "object" && !Array.isArray(obj) && typeof obj.schema_id === "string" && obj.schema_id) {
    const uri = "file:///schemas/" + encodeURI(obj.schema_id);
    return [ids.has(uri) ? uri : "unknown", obj];
  }
  for (const n of names(msg)) {
    if (byName.has(n)) return [byName.get(n).uri, obj];
  }
  return [null, obj];
}

const rows = fs.readFileSync(eventsFile, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l).payload);
const validators = new Map();
function pass() {
  let invalid = 0;
  for (const payload of rows) {
    let msg;
    try { msg = JSON.parse(payload); } catch { invalid++; continue; }
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) { invalid++; continue; }
    const [uri, obj] = route(msg);
    if (uri === "unknown") { invalid++; continue; }
    if (uri === null) continue;
    let v = validators.get(uri);
    if (!v) { v = ajv.getSchema(uri); validators.set(uri, v); }
    if (!v(obj)) invalid++;
  }
  return invalid;
}
pass(); // untimed: the JIT compiles the hot loop and ajv's validators
const start = process.hrtime.bigint();
const invalid = pass();
const secs = Number(process.hrtime.bigint() - start) / 1e9;
console.log(`${rows.length} ${invalid} ${secs.toFixed(3)} ${Math.round(rows.length / secs)}`);
