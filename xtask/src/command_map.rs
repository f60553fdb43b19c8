//! The UI's command map, generated from the desktop shell: the names in its handler list
//! (`src-tauri/src/commands.rs`, `generate_handler![...]`) and, for each, the arguments and the
//! answer read from the command function's signature (`src-tauri/src/*commands.rs`, parsed with
//! `syn`). Written to `ui/src/bindings/commands.ts` as `CommandName`, `CommandArgs` and
//! `CommandResult`, so a call to a command that does not exist, with a missing, misspelt or
//! mistyped argument, or read as the wrong type, fails the UI's typecheck. Read as source, so the
//! check needs no build of the app (whose compilation needs the built UI).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use anyhow::{bail, Context, Result};
use quote::ToTokens;
use syn::{FnArg, GenericArgument, Item, Pat, PathArguments, ReturnType, Type};

/// The command names registered in `commands::handlers()`, in order.
pub fn handler_names(src: &str) -> Result<Vec<String>> {
    let start = src.find("generate_handler![").context("no `generate_handler![` in the shell's commands.rs")?
        + "generate_handler![".len();
    let end = start + src[start..].find(']').context("the handler list does not end")?;
    Ok(src[start..end]
        .split(',')
        .map(|e| e.trim())
        .filter(|e| !e.is_empty())
        .map(|e| e.rsplit("::").next().unwrap_or(e).to_string())
        .collect())
}

/// One command as the UI sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// (camelCase name, TypeScript type, optional) of each argument the UI passes.
    pub args: Vec<(String, String, bool)>,
    pub result: String,
}

/// Parameters Tauri fills in itself (never passed by the UI).
const INJECTED: [&str; 6] = ["State", "CoreState", "AppHandle", "Window", "WebviewWindow", "Webview"];

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) => p.path.segments.last(),
        _ => None,
    }
}

fn generic_args(seg: &syn::PathSegment) -> Vec<&Type> {
    match &seg.arguments {
        PathArguments::AngleBracketed(a) => a
            .args
            .iter()
            .filter_map(|g| match g {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => vec![],
    }
}

/// The TypeScript of a Rust type that crosses IPC; names of generated types go into `imports`.
fn ts(ty: &Type, imports: &mut BTreeSet<String>, known: &dyn Fn(&str) -> bool) -> Result<String> {
    match ty {
        Type::Reference(r) => ts(&r.elem, imports, known),
        Type::Paren(p) => ts(&p.elem, imports, known),
        Type::Tuple(t) if t.elems.is_empty() => Ok("null".into()),
        Type::Tuple(t) => {
            let parts = t.elems.iter().map(|e| ts(e, imports, known)).collect::<Result<Vec<_>>>()?;
            Ok(format!("[{}]", parts.join(", ")))
        }
        Type::Path(_) => {
            let seg = last_segment(ty).context("empty type path")?;
            let name = seg.ident.to_string();
            let inner = generic_args(seg);
            let one = |imports: &mut BTreeSet<String>| -> Result<String> {
                ts(inner.first().with_context(|| format!("{name} without a type argument"))?, imports, known)
            };
            Ok(match name.as_str() {
                "String" | "str" | "char" => "string".into(),
                "bool" => "boolean".into(),
                "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize" | "f32" | "f64" => {
                    "number".into()
                }
                "Option" => format!("{} | null", one(imports)?),
                "Vec" => {
                    let t = one(imports)?;
                    if t.contains(' ') {
                        format!("({t})[]")
                    } else {
                        format!("{t}[]")
                    }
                }
                "Value" => "unknown".into(),
                "Res" | "Result" => one(imports)?,
                "HashMap" | "BTreeMap" => {
                    let v = ts(inner.get(1).context("a map without a value type")?, imports, known)?;
                    format!("Record<string, {v}>")
                }
                other if known(other) => {
                    imports.insert(other.to_string());
                    other.to_string()
                }
                other => bail!(
                    "`{}` crosses IPC but has no generated TypeScript type (ui/src/bindings/{other}.ts); derive ts-rs's TS for it",
                    ty.to_token_stream()
                ),
            })
        }
        other => bail!("cannot express `{}` in TypeScript", other.to_token_stream()),
    }
}

/// Tauri's default: the UI passes snake_case parameters in camelCase.
fn camel(s: &str) -> String {
    let mut out = String::new();
    let mut up = false;
    for c in s.chars() {
        if c == '_' {
            up = true;
        } else if up {
            out.extend(c.to_uppercase());
            up = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Every `#[tauri::command]` function in `src`, by name.
pub fn signatures(
    src: &str,
    imports: &mut BTreeSet<String>,
    known: &dyn Fn(&str) -> bool,
) -> Result<BTreeMap<String, Signature>> {
    let file = syn::parse_file(src).context("parse a commands file")?;
    let mut out = BTreeMap::new();
    for item in file.items {
        let Item::Fn(f) = item else { continue };
        if !f.attrs.iter().any(|a| a.path().segments.last().is_some_and(|s| s.ident == "command")) {
            continue;
        }
        let name = f.sig.ident.to_string();
        let mut args = vec![];
        for input in &f.sig.inputs {
            let FnArg::Typed(pt) = input else { continue };
            if last_segment(&pt.ty).is_some_and(|s| INJECTED.contains(&s.ident.to_string().as_str())) {
                continue;
            }
            let Pat::Ident(id) = &*pt.pat else { bail!("command {name}: an argument is not a plain name") };
            let optional = last_segment(&pt.ty).is_some_and(|s| s.ident == "Option");
            let t = ts(&pt.ty, imports, known).with_context(|| format!("command {name}, argument {}", id.ident))?;
            args.push((camel(&id.ident.to_string()), t, optional));
        }
        let result = match &f.sig.output {
            ReturnType::Default => "null".to_string(),
            ReturnType::Type(_, t) => ts(t, imports, known).with_context(|| format!("command {name}'s answer"))?,
        };
        out.insert(name, Signature { args, result });
    }
    Ok(out)
}

pub fn render(names: &[String], sigs: &BTreeMap<String, Signature>, imports: &BTreeSet<String>) -> Result<String> {
    let mut out = String::from(
        "// GENERATED from src-tauri's commands (xtask/src/command_map.rs). Do not edit this file manually.\n\n",
    );
    for i in imports {
        out.push_str(&format!("import type {{ {i} }} from './{i}';\n"));
    }
    if !imports.is_empty() {
        out.push('\n');
    }
    out.push_str("/** Every command the desktop shell answers. */\nexport const COMMANDS = [\n");
    for n in names {
        out.push_str(&format!("  '{n}',\n"));
    }
    out.push_str(
        "] as const;\n\n/** The name of a command the desktop shell answers. */\nexport type CommandName = (typeof COMMANDS)[number];\n\n",
    );
    out.push_str("/** The arguments of each command, as the UI passes them. */\nexport type CommandArgs = {\n");
    for n in names {
        let s = sigs
            .get(n)
            .with_context(|| format!("command {n} is registered but no `#[tauri::command] fn {n}` was found"))?;
        if s.args.is_empty() {
            out.push_str(&format!("  {n}: Record<string, never>;\n"));
        } else {
            let fields: Vec<String> =
                s.args.iter().map(|(a, t, opt)| format!("{a}{}: {t}", if *opt { "?" } else { "" })).collect();
            out.push_str(&format!("  {n}: {{ {} }};\n", fields.join("; ")));
        }
    }
    out.push_str("};\n\n/** What each command answers. */\nexport type CommandResult = {\n");
    for n in names {
        out.push_str(&format!("  {n}: {};\n", sigs[n].result));
    }
    out.push_str("};\n");
    Ok(out)
}

/// The whole file for the shell at `root`.
pub fn generate(root: &Path) -> Result<String> {
    let dir = root.join("src-tauri/src");
    let src = std::fs::read_to_string(dir.join("commands.rs")).context("read src-tauri/src/commands.rs")?;
    let names = handler_names(&src)?;
    let mut sorted = names.clone();
    sorted.sort();
    sorted.dedup();
    if sorted.len() != names.len() {
        bail!("a command is registered twice in src-tauri/src/commands.rs");
    }
    if names.len() < 10 {
        bail!("only {} commands found in the handler list; the list could not be read", names.len());
    }
    let bindings = root.join("ui/src/bindings");
    let known = |t: &str| bindings.join(format!("{t}.ts")).exists();
    let mut imports = BTreeSet::new();
    let mut sigs = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(&dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.ends_with("commands.rs")))
        .collect();
    files.sort();
    for f in files {
        let text = std::fs::read_to_string(&f).with_context(|| format!("read {}", f.display()))?;
        sigs.extend(signatures(&text, &mut imports, &known).with_context(|| format!("in {}", f.display()))?);
    }
    render(&names, &sigs, &imports)
}

/// Writes `ui/src/bindings/commands.ts`; `Ok(true)` when it changed.
pub fn write(root: &Path) -> Result<bool> {
    let path = root.join("ui/src/bindings/commands.ts");
    let want = generate(root)?;
    let have = std::fs::read_to_string(&path).unwrap_or_default();
    if have == want {
        return Ok(false);
    }
    std::fs::write(&path, want).with_context(|| format!("write {}", path.display()))?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_read_from_the_handler_list() {
        let src = "x tauri::generate_handler![\n a,\n crate::m::b,\n] y";
        assert_eq!(handler_names(src).unwrap(), vec!["a".to_string(), "b".to_string()]);
        assert!(handler_names("nothing here").is_err());
    }

    #[test]
    fn signatures_become_typescript() {
        let src = r#"
            #[tauri::command]
            pub async fn sync_rewind(core: CoreState<'_>, connection_id: String, to: String, apply: bool, filter: Option<JobFilter>) -> Res<Vec<Job>> { todo!() }
            #[tauri::command]
            pub async fn quit(app: tauri::AppHandle) -> Res<()> { todo!() }
            pub fn not_a_command(x: Unknown) {}
        "#;
        let mut imports = BTreeSet::new();
        let known = |t: &str| ["Job", "JobFilter"].contains(&t);
        let sigs = signatures(src, &mut imports, &known).unwrap();
        assert_eq!(
            sigs["sync_rewind"],
            Signature {
                args: vec![
                    ("connectionId".into(), "string".into(), false),
                    ("to".into(), "string".into(), false),
                    ("apply".into(), "boolean".into(), false),
                    ("filter".into(), "JobFilter | null".into(), true),
                ],
                result: "Job[]".into(),
            }
        );
        assert_eq!(sigs["quit"], Signature { args: vec![], result: "null".into() });
        assert!(!sigs.contains_key("not_a_command"));
        assert_eq!(imports.into_iter().collect::<Vec<_>>(), vec!["Job".to_string(), "JobFilter".to_string()]);
        // A type with no generated binding is refused, naming it.
        let bad = "#[tauri::command] fn f(x: Secret) -> Res<()> { todo!() }";
        let err = signatures(bad, &mut BTreeSet::new(), &known).unwrap_err();
        assert!(format!("{err:#}").contains("Secret"), "{err:#}");
    }

    #[test]
    fn the_committed_map_matches_the_shell() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let want = generate(&root).unwrap();
        assert!(want.contains("sync_start: { connectionId: string; options: SyncOptions }"), "{want}");
        let committed = std::fs::read_to_string(root.join("ui/src/bindings/commands.ts")).unwrap();
        assert_eq!(committed, want, "ui/src/bindings/commands.ts is stale: run `cargo xtask test --only bindings`");
    }
}
