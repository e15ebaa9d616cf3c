"""`policy show` as text for policy staff (the data is inventory.inventory())."""
from __future__ import annotations

_KIND = {"computable": "可计算", "informational": "说明性"}


def _cite(c: dict | None) -> str:
    if not c:
        return "无出处"
    who = f"（{c['set']}）" if c.get("set") else ""
    return " ".join(x for x in (c.get("document"), c.get("article")) if x) + who


def _val(v: dict | None) -> str:
    return v["text"] if v else "—"


def _param_line(p: dict, own: str) -> list[str]:
    if p["value"] is not None:
        value = _val(p["value"])
    elif p["history"]:
        value = "；".join(f"{h['from']}起 {_val(h['value'])}" + (f"（{_cite(h['source'])}）" if h.get("source") else "")
                         for h in p["history"])
    elif p["delegated"] and p["delegated"]["by"] == own:
        value = f"（交由{p['delegated']['to']}确定 left to a lower level）"
    else:
        value = "未填写 not filled"
    out = [f"    {p['name']}  ({p['type']}) = {value}"]
    if p["bounds"]:
        parts = ([f"≥ {_val(p['bounds']['min'])}"] if p["bounds"]["min"] else []) + \
                ([f"≤ {_val(p['bounds']['max'])}"] if p["bounds"]["max"] else [])
        out.append(f"      范围 bounds: {' '.join(parts)}")
    d = p["delegated"]
    if d:
        state = ("已填写" if p["filled"] else "由下级填写" if d["by"] == own else "未填写，依赖它的结论无法确定")
        out.append(f"      委托 delegated: {d['by']} 交由{d['to']}确定：{d['reason']}（{state}）")
    if p["overridden_by"]:
        o = p["overridden_by"]
        out.append(f"      由 {o['set']} 填写或改写 set by {o['set']}: {o['file']}:{o['line']}")
    out.append(f"      出处 source: {_cite(p['citation'])}")
    return out


def clause_text(c: dict, own: str) -> list[str]:
    valid = ""
    if c["valid"]["from"] or c["valid"]["to"]:
        valid = f"，有效期 {c['valid']['from'] or '…'} 至 {c['valid']['to'] or '…'}"
    out = [f"{c['id']}  {c['title']}",
           f"  {_KIND.get(c['kind'], c['kind'])}，对象 subject: {c['subject']}{valid}"
           + (f"，期间按 period_by: {c['period_by']}" if c.get("period_by") else ""),
           "  出处 source: " + ("；".join(_cite(x) for x in c["citations"]) or "无出处")]
    if c["patched_by"]:
        out.append(f"  {c['patched_by']['set']} 改写 patched by: {c['patched_by']['file']}")
    if c["parameters"]:
        out.append("  参数 parameters:")
        for p in c["parameters"]:
            out += _param_line(p, own)
    if c["conditions"]:
        out.append("  条件 conditions: " + "、".join(x["name"] for x in c["conditions"]))
    if c["conclusions"]:
        out.append("  结论 conclusions:")
        for x in c["conclusions"]:
            label = f"  {x['label']}" if x["label"] else ""
            out.append(f"    {x['name']}: {x['type']}{label}")
    if c["unused"]:
        out.append("  未被引用 not used: " + "、".join(c["unused"]))
    if c["exceptions"]:
        out.append("  例外 exceptions: " + "、".join(f"{e['id']}（→ {e['conclusion']}）" for e in c["exceptions"]))
    return out


def _fact_kind(f: dict) -> str:
    shown = f["values"] or {name: x["zh"] for name, x in (f["fields"] or {}).items()}
    return f["type"] + ("：" + "、".join(f"{k} {v}" for k, v in shown.items()) if shown else "")


def show_text(data: dict) -> str:
    head = f"{data['set']}  {data['title']}"
    if data["extends"]:
        head += f"\n  扩展 extends: {data['extends']}"
    if data.get("supersedes"):
        head += f"\n  取代（新一版）supersedes: {data['supersedes']}"
    if data.get("period"):
        p = data["period"]
        head += f"\n  管辖期间 period: {p['zh']}（{p['from']}起" + (f"至{p['to']}）" if p.get("to") else "）")
    lines = [head, "  文件 documents: " + "、".join(d["id"] for d in data["documents"]), ""]
    for c in data["clauses"]:
        lines += clause_text(c, data["set"]) + [""]
    if data.get("declared_facts"):
        lines.append("规则集声明的事实 facts declared by rule sets（policy-set.yaml 的 facts:）:")
        lines += [f"  {f['path']}  {f['zh']}（{_fact_kind(f)}）" + (f" ← {f['declared_in']}" if f["declared_in"] != data["set"] else "")
                  for f in data["declared_facts"]]
        lines.append("")
    missing = data["unfilled_delegations"]
    if missing and not data["extends"]:
        lines.append(f"交由下级确定的参数 delegated to a lower level（{len(missing)} 个，由扩展本规则集的下级规则集填写）:")
    elif missing:
        lines.append(f"仍未确定的委托参数 delegated parameters still open（{len(missing)} 个）:")
    elif data["extends"]:
        lines.append("委托参数都已填写 every delegated parameter is filled")
    for m in missing:
        lines.append(f"  {m['clause']}.{m['parameter']}: {m['by']} 交由{m['to']}确定：{m['reason']}")
    return "\n".join(lines).rstrip() + "\n"
