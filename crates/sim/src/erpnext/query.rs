//! Reads: `GET /api/resource/<DocType>[/<name>]`, `frappe.client.get_list` / `get_count`
//! (erpnext.md section 2.4): fields, filters, or_filters, order_by, paging, `as_dict`,
//! and child-table fields (`items.serial_no`, one row per child row).

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::seed::child_doctype;
use super::{json_decode_error, Doc, FrappeError, SiteState};

pub(super) fn doctype_not_found(dt: &str) -> FrappeError {
    FrappeError::new(404, "DoesNotExistError").thrown("Message", format!("DocType {dt} not found"))
}

pub(super) fn doc_not_found(dt: &str, name: &str) -> FrappeError {
    FrappeError::new(404, "DoesNotExistError").thrown("Message", format!("{dt} {name} not found"))
}

/// v15 serialises documents with `as_dict(no_nulls=True)`: null fields are left out, in child
/// rows too.
pub(super) fn no_nulls(d: &Doc) -> Value {
    let mut out = Map::new();
    for (k, v) in d {
        match v {
            Value::Null => {}
            Value::Array(rows) if k == "items" => {
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|r| match r {
                        Value::Object(o) => no_nulls(o),
                        other => other.clone(),
                    })
                    .collect();
                out.insert(k.clone(), Value::Array(rows));
            }
            other => {
                out.insert(k.clone(), other.clone());
            }
        }
    }
    Value::Object(out)
}

pub(super) fn get_doc(st: &SiteState, doctype: &str, name: &str) -> Result<Value, FrappeError> {
    let docs = st.docs.read().expect("docs");
    let list = docs.get(doctype).ok_or_else(|| doctype_not_found(doctype))?;
    let d = list
        .iter()
        .find(|d| d.get("name").and_then(Value::as_str) == Some(name))
        .ok_or_else(|| doc_not_found(doctype, name))?;
    Ok(no_nulls(d))
}

/// A value that arrives either as JSON text (query string) or already parsed (JSON body).
pub(super) fn json_arg(v: Option<&Value>) -> Result<Option<Value>, FrappeError> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(s).map(Some).map_err(|e| json_decode_error(&e.to_string())),
        Some(other) => Ok(Some(other.clone())),
    }
}

fn unknown_column(col: &str, clause: &str) -> FrappeError {
    // reference: a bad column reaches the database and comes back as a 500
    // (erpnext.md section 3, "anything else") [inferred: MariaDB error text].
    FrappeError {
        module: "pymysql.err",
        ..FrappeError::new(500, "OperationalError").detail(format!("(1054, \"Unknown column '{col}' in '{clause}'\")"))
    }
}

/// A column reference: of the parent, or of its child table (`items.x`,
/// `` `tabPurchase Receipt Item`.x ``).
#[derive(Clone, Debug, PartialEq)]
enum Col {
    Parent(String),
    Child(String),
}

fn parse_col(s: &str, doctype: &str) -> Col {
    let s = s.trim();
    let child = child_doctype(doctype);
    if let Some((table, col)) = s.rsplit_once('.') {
        let table = table.trim().trim_matches('`');
        let col = col.trim().trim_matches('`').to_string();
        let is_child = table == "items" || child.is_some_and(|c| table == format!("tab{c}"));
        return if is_child { Col::Child(col) } else { Col::Parent(col) };
    }
    Col::Parent(s.trim_matches('`').trim().to_string())
}

fn int_arg(args: &Map<String, Value>, k: &str) -> Option<i64> {
    match args.get(k)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One result row before projection: the parent and, when child columns are involved, one of
/// its child rows (a LEFT JOIN: a parent without rows gives one row with no child).
type Joined<'a> = (&'a Doc, Option<&'a Map<String, Value>>);

fn value<'a>(row: &Joined<'a>, c: &Col) -> &'a Value {
    static NULL: Value = Value::Null;
    match c {
        Col::Parent(k) => row.0.get(k).unwrap_or(&NULL),
        Col::Child(k) => row.1.and_then(|r| r.get(k)).unwrap_or(&NULL),
    }
}

struct Ctx {
    parent_cols: Vec<String>,
    child_cols: Vec<String>,
}

impl Ctx {
    fn check(&self, c: &Col, clause: &str) -> Result<(), FrappeError> {
        let ok = match c {
            Col::Parent(k) => self.parent_cols.contains(k),
            Col::Child(k) => self.child_cols.contains(k),
        };
        if ok {
            Ok(())
        } else {
            let name = match c {
                Col::Parent(k) | Col::Child(k) => k,
            };
            Err(unknown_column(name, clause))
        }
    }
}

/// `frappe.client.get_list` semantics (erpnext.md 2.4).
pub(super) fn get_list(st: &SiteState, doctype: &str, args: &Map<String, Value>) -> Result<Value, FrappeError> {
    let docs = st.docs.read().expect("docs");
    let list = docs.get(doctype).ok_or_else(|| doctype_not_found(doctype))?;
    let ctx = Ctx {
        parent_cols: st.columns(&docs, doctype),
        child_cols: child_doctype(doctype).map(|c| st.columns(&docs, c)).unwrap_or_default(),
    };

    // fields: a JSON array, default ["name"], "*" allowed, "x as y" aliases.
    let fields: Vec<(Col, String)> = match json_arg(args.get("fields"))? {
        None => vec![(Col::Parent("name".into()), "name".into())],
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for f in a {
                let s = f.as_str().unwrap_or("").to_string();
                if s.trim() == "*" {
                    out.extend(ctx.parent_cols.iter().map(|c| (Col::Parent(c.clone()), c.clone())));
                    continue;
                }
                let (src, alias) = match s.to_lowercase().find(" as ") {
                    Some(p) => (s[..p].to_string(), Some(s[p + 4..].trim().trim_matches('`').to_string())),
                    None => (s.clone(), None),
                };
                let col = parse_col(&src, doctype);
                ctx.check(&col, "field list")?;
                let alias = alias.unwrap_or_else(|| match &col {
                    Col::Parent(k) | Col::Child(k) => k.clone(),
                });
                out.push((col, alias));
            }
            out
        }
        Some(Value::String(s)) if s == "*" => {
            ctx.parent_cols.iter().map(|c| (Col::Parent(c.clone()), c.clone())).collect()
        }
        Some(_) => return Err(FrappeError::new(417, "ValidationError").thrown("Message", "fields must be a list")),
    };

    let filters = parse_filters(args.get("filters"), doctype)?;
    let or_filters = parse_filters(args.get("or_filters"), doctype)?;
    for f in filters.iter().chain(or_filters.iter()) {
        ctx.check(&f.col, "where clause")?;
    }

    let mut order: Vec<(Col, bool)> = Vec::new();
    // reference: Frappe 15.44.2 adds no ORDER BY when order_by is omitted; the sim
    // then keeps insertion order (newer Frappe defaults to `modified desc`).
    if let Some(ob) = args.get("order_by").and_then(Value::as_str) {
        for part in ob.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (colpart, desc) = match part.rsplit_once(char::is_whitespace) {
                Some((c, d)) if d.eq_ignore_ascii_case("desc") => (c, true),
                Some((c, d)) if d.eq_ignore_ascii_case("asc") => (c, false),
                _ => (part, false),
            };
            let col = parse_col(colpart, doctype);
            ctx.check(&col, "order clause")?;
            order.push((col, desc));
        }
    }

    let joins_children = fields
        .iter()
        .map(|(c, _)| c)
        .chain(filters.iter().map(|f| &f.col))
        .chain(order.iter().map(|(c, _)| c))
        .chain(or_filters.iter().map(|f| &f.col))
        .any(|c| matches!(c, Col::Child(_)));
    let mut rows: Vec<Joined<'_>> = Vec::new();
    for d in list {
        if joins_children {
            let children: Vec<&Map<String, Value>> = d
                .get("items")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_object).collect())
                .unwrap_or_default();
            if children.is_empty() {
                rows.push((d, None));
            }
            rows.extend(children.into_iter().map(|c| (d, Some(c))));
        } else {
            rows.push((d, None));
        }
    }
    rows.retain(|r| filters.iter().all(|f| f.matches(r)));
    rows.retain(|r| or_filters.is_empty() || or_filters.iter().any(|f| f.matches(r)));
    if !order.is_empty() {
        rows.sort_by(|a, b| {
            for (col, desc) in &order {
                let o = cmp_values(value(a, col), value(b, col));
                let o = if *desc { o.reverse() } else { o };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }

    let start = int_arg(args, "limit_start").unwrap_or(0).max(0) as usize;
    // Default page length 20; 0 means no limit; `limit` is an alias.
    let len = int_arg(args, "limit_page_length").or_else(|| int_arg(args, "limit")).unwrap_or(20).max(0) as usize;
    let from = start.min(rows.len());
    let end = if len == 0 { rows.len() } else { (start + len).min(rows.len()) };
    let page = &rows[from..end.max(from)];

    let as_dict = !matches!(
        args.get("as_dict"),
        Some(Value::String(s)) if s == "0" || s.eq_ignore_ascii_case("false")
    ) && !matches!(args.get("as_dict"), Some(Value::Number(n)) if n.as_i64() == Some(0))
        && !matches!(args.get("as_dict"), Some(Value::Bool(false)));

    let out: Vec<Value> = page
        .iter()
        .map(|r| {
            if as_dict {
                let mut o = Map::new();
                for (col, alias) in &fields {
                    o.insert(alias.clone(), value(r, col).clone());
                }
                Value::Object(o)
            } else {
                Value::Array(fields.iter().map(|(col, _)| value(r, col).clone()).collect())
            }
        })
        .collect();
    Ok(Value::Array(out))
}

/// `frappe.client.get_value(doctype, fieldname, filters=None, as_dict=True)` (erpnext.md section
/// 2.3 names the signature). The rest follows Frappe v15's `client.py` [inferred]: `fieldname` is
/// one field or a JSON list of fields; `filters` is a name, or filters as `get_list` takes them
/// (a dict or a list), parsed from JSON text when it parses; the first matching row comes back as
/// `{field: value, ...}` (`{}` when none matches), or with `as_dict` off as the value itself (a
/// list of values for several fields; nothing when none matches).
pub(super) fn get_value(st: &SiteState, doctype: &str, args: &Map<String, Value>) -> Result<Value, FrappeError> {
    let fields: Vec<Value> = match args.get("fieldname") {
        Some(Value::Array(a)) => a.clone(),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Array(a)) => a,
            _ => vec![json!(s)],
        },
        _ => {
            return Err(FrappeError { module: "builtins", ..FrappeError::new(500, "TypeError") }
                .detail("get_value() missing 1 required positional argument: 'fieldname'"))
        }
    };
    // `get_safe_filters`: JSON text is parsed when it parses; a plain string is a name.
    let filters = match args.get("filters") {
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::String(n)) => json!({ "name": n }),
            Ok(Value::Number(n)) => json!({ "name": n.to_string() }),
            Ok(v) => v,
            Err(_) => json!({ "name": s }),
        },
        Some(Value::Number(n)) => json!({ "name": n.to_string() }),
        Some(v) => v.clone(),
        None => Value::Null,
    };
    let as_dict = match args.get("as_dict") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(v) => {
            let t = as_text(v);
            !(t.trim() == "0" || t.trim().eq_ignore_ascii_case("false"))
        }
    };
    let mut q = Map::new();
    let n_fields = fields.len();
    q.insert("fields".into(), Value::Array(fields));
    let empty = match &filters {
        Value::Null => true,
        Value::Object(o) => o.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::String(s) => s.is_empty(),
        _ => false,
    };
    if !empty {
        q.insert("filters".into(), filters);
    }
    q.insert("limit_page_length".into(), json!(1));
    q.insert("as_dict".into(), json!(if as_dict { 1 } else { 0 }));
    let rows = get_list(st, doctype, &q)?;
    let first = rows.as_array().and_then(|r| r.first()).cloned();
    Ok(match (first, as_dict) {
        (Some(row), true) => row,
        (None, true) => json!({}),
        (None, false) => Value::Null,
        (Some(row), false) if n_fields > 1 => row,
        (Some(row), false) => row.as_array().and_then(|r| r.first()).cloned().unwrap_or(Value::Null),
    })
}

pub(super) fn get_count(st: &SiteState, doctype: &str, args: &Map<String, Value>) -> Result<Value, FrappeError> {
    let docs = st.docs.read().expect("docs");
    let list = docs.get(doctype).ok_or_else(|| doctype_not_found(doctype))?;
    let ctx = Ctx { parent_cols: st.columns(&docs, doctype), child_cols: Vec::new() };
    let filters = parse_filters(args.get("filters"), doctype)?;
    for f in &filters {
        ctx.check(&f.col, "where clause")?;
    }
    Ok(json!(list.iter().filter(|d| filters.iter().all(|f| f.matches(&(d, None)))).count()))
}

struct Filter {
    col: Col,
    op: String,
    value: Value,
}

fn parse_filters(v: Option<&Value>, doctype: &str) -> Result<Vec<Filter>, FrappeError> {
    let Some(v) = json_arg(v)? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let bad = || FrappeError::new(417, "ValidationError").thrown("Message", "Invalid filter format");
    let child = child_doctype(doctype);
    match v {
        Value::Array(items) => {
            for it in items {
                let Value::Array(t) = it else {
                    return Err(bad());
                };
                let (dt, f, op, val) = match t.as_slice() {
                    [f, val] => (None, f, json!("="), val.clone()),
                    [f, op, val] => (None, f, op.clone(), val.clone()),
                    [dt, f, op, val] => (dt.as_str(), f, op.clone(), val.clone()),
                    _ => return Err(bad()),
                };
                let name = f.as_str().ok_or_else(bad)?;
                let col = match dt {
                    Some(d) if Some(d) == child => Col::Child(name.trim().to_string()),
                    _ => parse_col(name, doctype),
                };
                out.push(Filter { col, op: op.as_str().unwrap_or("=").trim().to_lowercase(), value: val });
            }
        }
        Value::Object(o) => {
            for (f, val) in o {
                let (op, val) = match val {
                    Value::Array(a) if a.len() == 2 && a[0].is_string() => {
                        (a[0].as_str().unwrap_or("=").trim().to_lowercase(), a[1].clone())
                    }
                    other => ("=".to_string(), other),
                };
                out.push(Filter { col: parse_col(&f, doctype), op, value: val });
            }
        }
        _ => return Err(bad()),
    }
    const OPS: &[&str] = &["=", "!=", "<>", ">", "<", ">=", "<=", "like", "not like", "in", "not in", "is", "between"];
    for f in &out {
        if !OPS.contains(&f.op.as_str()) {
            return Err(FrappeError::new(417, "ValidationError")
                .thrown("Message", format!("Operator must be one of {}", OPS.join(", "))));
        }
    }
    Ok(out)
}

pub(super) fn as_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn cmp_values(a: &Value, b: &Value) -> Ordering {
    let num = |v: &Value| match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    };
    if a.is_number() || b.is_number() {
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            return x.partial_cmp(&y).unwrap_or(Ordering::Equal);
        }
    }
    as_text(a).to_lowercase().cmp(&as_text(b).to_lowercase())
}

/// SQL LIKE with `%` and `_`, case-insensitive (MariaDB's default collation).
fn like(text: &str, pat: &str) -> bool {
    fn go(t: &[char], p: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('%') => (0..=t.len()).any(|i| go(&t[i..], &p[1..])),
            Some('_') => !t.is_empty() && go(&t[1..], &p[1..]),
            Some(c) => t.first() == Some(c) && go(&t[1..], &p[1..]),
        }
    }
    let t: Vec<char> = text.to_lowercase().chars().collect();
    let p: Vec<char> = pat.to_lowercase().chars().collect();
    go(&t, &p)
}

fn list_values(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::String(s) => s.split(',').map(|x| json!(x.trim())).collect(),
        other => vec![other.clone()],
    }
}

impl Filter {
    fn matches(&self, row: &Joined<'_>) -> bool {
        let have = value(row, &self.col);
        match self.op.as_str() {
            "=" => cmp_values(have, &self.value) == Ordering::Equal,
            "!=" | "<>" => cmp_values(have, &self.value) != Ordering::Equal,
            ">" => cmp_values(have, &self.value) == Ordering::Greater,
            "<" => cmp_values(have, &self.value) == Ordering::Less,
            ">=" => cmp_values(have, &self.value) != Ordering::Less,
            "<=" => cmp_values(have, &self.value) != Ordering::Greater,
            "like" => like(&as_text(have), &as_text(&self.value)),
            "not like" => !like(&as_text(have), &as_text(&self.value)),
            "in" => list_values(&self.value).iter().any(|v| cmp_values(have, v) == Ordering::Equal),
            "not in" => !list_values(&self.value).iter().any(|v| cmp_values(have, v) == Ordering::Equal),
            "is" => {
                let set = !as_text(have).is_empty();
                match as_text(&self.value).as_str() {
                    "set" => set,
                    "not set" => !set,
                    _ => false,
                }
            }
            "between" => {
                let b = list_values(&self.value);
                b.len() == 2
                    && cmp_values(have, &b[0]) != Ordering::Less
                    && cmp_values(have, &b[1]) != Ordering::Greater
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_matches_sql_semantics() {
        assert!(like("Stores - A", "%stores%"));
        assert!(like("Stores - A", "Stores - _"));
        assert!(!like("Stores - A", "Stores"));
    }

    #[test]
    fn child_columns_are_recognised() {
        assert_eq!(parse_col("items.serial_no", "Delivery Note"), Col::Child("serial_no".into()));
        assert_eq!(parse_col("`tabDelivery Note Item`.`qty`", "Delivery Note"), Col::Child("qty".into()));
        assert_eq!(parse_col("`tabDelivery Note`.name", "Delivery Note"), Col::Parent("name".into()));
        assert_eq!(parse_col("modified", "Delivery Note"), Col::Parent("modified".into()));
    }
}
