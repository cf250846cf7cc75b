#!/usr/bin/python3
"""The Python reference eventaudit is measured against: Debian's python3-jsonschema,
Draft7Validator.iter_errors per event, with eventaudit's matching rules (schema_id,
then track event name / page name or Page / Identify / Group, highest MAJOR-MINOR).

usage: reference.py SCHEMAS_DIR PLAN EVENTS.ndjson
Prints one line: events, invalid events, seconds, events/s (single core).
"""
import json, os, sys, time
from urllib.parse import quote
from jsonschema import Draft7Validator, RefResolver

schemas_dir, plan, events_file = sys.argv[1:4]
store, by_name = {}, {}
for root, dirs, files in os.walk(schemas_dir):
    dirs[:] = [d for d in dirs if not d.startswith(".")]
    for f in files:
        if not f.endswith(".json"):
            continue
        path = os.path.relpath(os.path.join(root, f), schemas_dir)
        doc = json.load(open(os.path.join(root, f)))
        uri = "file:///schemas/" + quote(path)
        doc["$id"] = uri
        store[uri] = doc
        store["file:///schemas/" + path] = doc  # refs with raw spaces resolve to this spelling
        if not path.startswith(plan + "/"):
            continue
        name = doc.get("self", {}).get("name", os.path.basename(os.path.dirname(path)))
        major, minor = (int(x) for x in doc.get("self", {}).get("version", "0-0").split("-"))
        if name not in by_name or (major, minor) > by_name[name][0]:
            by_name[name] = ((major, minor), uri)

validators = {}
def validator(uri):
    if uri not in validators:
        validators[uri] = Draft7Validator(store[uri], resolver=RefResolver(uri, store[uri], store=store))
    return validators[uri]

def route(msg):
    t = msg.get("type")
    key = {"track": "properties", "page": "properties", "screen": "properties",
           "identify": "traits", "group": "traits"}.get(t)
    if key is None:
        return None, None
    obj = msg.get(key) or {}
    if isinstance(obj, dict) and isinstance(obj.get("schema_id"), str) and obj["schema_id"]:
        uri = "file:///schemas/" + quote(obj["schema_id"])
        return (uri if uri in store else "unknown"), obj
    names = {"track": [msg.get("event")], "page": [msg.get("name"), "Page"], "screen": [msg.get("name"), "Screen"],
             "identify": ["Identify"], "group": ["Group"]}[t]
    for n in names:
        if n in by_name:
            return by_name[n][1], obj
    return None, obj

rows = [json.loads(line)["payload"] for line in open(events_file)]
start = time.perf_counter()
invalid = 0
for payload in rows:
    try:
        msg = json.loads(payload)
    except (TypeError, ValueError):
        invalid += 1
        continue
    if not isinstance(msg, dict):
        invalid += 1
        continue
    uri, obj = route(msg)
    if uri == "unknown":
        invalid += 1
    elif uri is not None and list(validator(uri).iter_errors(obj)):
        invalid += 1
secs = time.perf_counter() - start
print(f"{len(rows)} {invalid} {secs:.3f} {len(rows) / secs:.0f}")
