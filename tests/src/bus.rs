//! What the app shows outside its window, read from the D-Bus session bus the tests run in:
//!
//! - desktop notifications: [`NotifyMonitor`] runs `dbus-monitor` on
//!   `org.freedesktop.Notifications.Notify` method calls. The call is on the bus whether or not a
//!   notification daemon answers it (the session's dunst is activated on demand when installed);
//! - the tray: [`TrayMenu`] finds the app's StatusNotifierItem and reads its `com.canonical.dbusmenu`
//!   menu with `dbus-send`. The menu is exported even without a StatusNotifierWatcher (no panel runs
//!   under Xvfb), so nothing else needs to be started.
//!
//! Both tools come with Debian's `dbus` package (dbus-bin), which `cargo xtask deps` installs; busctl
//! (systemd) and gdbus (libglib2.0-bin) are not assumed.

use anyhow::{anyhow, bail, Context, Result};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long one `dbus-send` waits for a reply. Some connections of a GTK process never answer
/// introspection, so keep this short.
const REPLY_TIMEOUT_MS: &str = "2000";

/// One `Notify` call seen on the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotifyCall {
    pub app_name: String,
    pub summary: String,
    pub body: String,
    /// The action keys and labels, flattened (`["default", "Abrir o BackOffice"]`).
    pub actions: Vec<String>,
}

/// `dbus-monitor` watching `Notify` calls, writing to a file; stopped on drop.
pub struct NotifyMonitor {
    child: Child,
    out: PathBuf,
    _dir: tempfile::TempDir,
}

impl NotifyMonitor {
    /// Starts the monitor and waits until the bus has made it a monitor, so that no call made
    /// after this returns can be missed.
    pub async fn start() -> Result<NotifyMonitor> {
        let dir = tempfile::Builder::new().prefix("bo-e2e-notify-").tempdir()?;
        let out = dir.path().join("dbus-monitor.txt");
        let file = std::fs::File::create(&out)?;
        let child = Command::new("dbus-monitor")
            .args(["--session", "type='method_call',interface='org.freedesktop.Notifications',member='Notify'"])
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file)
            .spawn()
            .context("starting dbus-monitor (Debian package dbus-bin; run `cargo xtask deps`)")?;
        let mut mon = NotifyMonitor { child, out, _dir: dir };
        // BecomeMonitor makes the bus drop the monitor's name: dbus-monitor prints that NameLost
        // signal once it is monitoring.
        let started = Instant::now();
        loop {
            if mon.output().contains("member=NameLost") {
                return Ok(mon);
            }
            if let Some(status) = mon.child.try_wait()? {
                bail!("dbus-monitor exited with {status} before monitoring:\n{}", mon.output());
            }
            if started.elapsed() > Duration::from_secs(10) {
                bail!("dbus-monitor did not become a monitor within 10 s; it printed:\n{}", mon.output());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Everything dbus-monitor printed so far.
    pub fn output(&self) -> String {
        String::from_utf8_lossy(&std::fs::read(&self.out).unwrap_or_default()).into_owned()
    }

    /// The `Notify` calls seen so far.
    pub fn calls(&self) -> Vec<NotifyCall> {
        parse_notify_calls(&self.output())
    }

    /// Waits for a `Notify` call that `want` accepts.
    pub async fn wait_for(&self, timeout: Duration, want: impl Fn(&NotifyCall) -> bool) -> Result<NotifyCall> {
        let started = Instant::now();
        loop {
            if let Some(c) = self.calls().into_iter().find(&want) {
                return Ok(c);
            }
            if started.elapsed() > timeout {
                bail!(
                    "no matching Notify call on the session bus within {timeout:?}; calls seen: {:?}\nraw dbus-monitor output:\n{}",
                    self.calls(),
                    self.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

impl Drop for NotifyMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses dbus-monitor's text: each `method call ... member=Notify` block, whose top-level
/// arguments are `string app_name, uint32 replaces_id, string app_icon, string summary, string body, ...`.
pub fn parse_notify_calls(text: &str) -> Vec<NotifyCall> {
    let lines: Vec<&str> = text.lines().collect();
    let mut calls = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let header = lines[i];
        i += 1;
        if !(header.starts_with("method call ") && header.contains("member=Notify")) {
            continue;
        }
        // Arguments are indented; top-level ones by exactly three spaces. A string may span lines.
        let mut strings = Vec::new();
        let mut actions = Vec::new();
        while i < lines.len() && lines[i].starts_with(' ') {
            let line = lines[i];
            i += 1;
            // The array right after the body holds the actions (key, label, key, label...).
            if strings.len() == 4 && line == "   array [" {
                while i < lines.len() && lines[i].starts_with("      string \"") {
                    let item = lines[i].trim_start().trim_start_matches("string \"");
                    actions.push(item.strip_suffix('"').unwrap_or(item).to_string());
                    i += 1;
                }
                continue;
            }
            let Some(rest) = line.strip_prefix("   string \"") else { continue };
            // The value ends at a closing quote followed by the next argument (indented), the next
            // message, or the end; a quote at the end of an inner line is part of the text.
            let mut value = rest.to_string();
            while i < lines.len() && !(value.ends_with('"') && starts_item(lines[i])) {
                value.push('\n');
                value.push_str(lines[i]);
                i += 1;
            }
            strings.push(value.strip_suffix('"').unwrap_or(&value).to_string());
        }
        if strings.len() >= 4 {
            calls.push(NotifyCall {
                app_name: strings[0].clone(),
                summary: strings[2].clone(),
                body: strings[3].clone(),
                actions,
            });
        }
    }
    calls
}

/// Clicks the newest notification on screen the way a user would: asks dunst, the session's
/// notification daemon, to invoke its default action (`dunstctl action 0`). The daemon then sends
/// `ActionInvoked` to the app that showed it.
pub fn click_newest_notification() -> Result<()> {
    let out = Command::new("dunstctl")
        .args(["action", "0"])
        .stdin(Stdio::null())
        .output()
        .context("running dunstctl (Debian package dunst; run `cargo xtask deps`)")?;
    if !out.status.success() {
        bail!("dunstctl action 0 failed: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(())
}

/// How many notifications dunst is showing now (`dunstctl count displayed`).
pub fn displayed_notifications() -> Result<u32> {
    let out = Command::new("dunstctl")
        .args(["count", "displayed"])
        .stdin(Stdio::null())
        .output()
        .context("running dunstctl (Debian package dunst; run `cargo xtask deps`)")?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().map_err(|_| anyhow!("dunstctl count displayed printed {text:?}"))
}

/// True for a line dbus-monitor starts an argument or a message with.
fn starts_item(line: &str) -> bool {
    line.starts_with(' ') || ["method call ", "method return ", "signal ", "error "].iter().any(|h| line.starts_with(h))
}

/// Runs `dbus-send --session --print-reply ARGS` and returns its output.
fn dbus_send(args: &[&str]) -> Result<String> {
    let out = Command::new("dbus-send")
        .args(["--session", "--print-reply", &format!("--reply-timeout={REPLY_TIMEOUT_MS}")])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .context("running dbus-send (Debian package dbus-bin; run `cargo xtask deps`)")?;
    if !out.status.success() {
        bail!("dbus-send {} failed: {}", args.join(" "), String::from_utf8_lossy(&out.stderr).trim());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The values of the `string "..."` lines of a dbus-send reply (single-line strings).
fn reply_strings(reply: &str) -> Vec<String> {
    reply
        .lines()
        .filter_map(|l| l.trim().strip_prefix("string \"").and_then(|s| s.strip_suffix('"')).map(str::to_string))
        .collect()
}

/// Unique names of the bus connections owned by process `pid`.
pub fn connections_of_pid(pid: u32) -> Result<Vec<String>> {
    let names = reply_strings(&dbus_send(&[
        "--dest=org.freedesktop.DBus",
        "/org/freedesktop/DBus",
        "org.freedesktop.DBus.ListNames",
    ])?);
    let mut mine = Vec::new();
    for name in names.into_iter().filter(|n| n.starts_with(':')) {
        let Ok(reply) = dbus_send(&[
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.GetConnectionUnixProcessID",
            &format!("string:{name}"),
        ]) else {
            continue; // the connection went away meanwhile
        };
        let owner = reply.lines().find_map(|l| l.trim().strip_prefix("uint32 ")?.trim().parse::<u32>().ok());
        if owner == Some(pid) {
            mine.push(name);
        }
    }
    Ok(mine)
}

/// Child node names and interface names of one object, from its introspection XML.
fn introspect(dest: &str, path: &str) -> Result<(Vec<String>, Vec<String>)> {
    let reply = dbus_send(&[&format!("--dest={dest}"), path, "org.freedesktop.DBus.Introspectable.Introspect"])?;
    let attr_values = |tag: &str| -> Vec<String> {
        let open = format!("<{tag} name=\"");
        reply
            .split(open.as_str())
            .skip(1)
            .filter_map(|rest| rest.split('"').next().map(str::to_string))
            .filter(|n| !n.is_empty())
            .collect()
    };
    Ok((attr_values("node"), attr_values("interface")))
}

/// Object paths under `dest` that implement `interface` (depth-first from `/`, bounded).
fn find_objects(dest: &str, interface: &str) -> Result<Vec<String>> {
    let mut found = Vec::new();
    let mut stack = vec!["/".to_string()];
    let mut visited = 0;
    while let Some(path) = stack.pop() {
        visited += 1;
        if visited > 200 {
            break;
        }
        let (children, interfaces) = introspect(dest, &path)?;
        if interfaces.iter().any(|i| i == interface) {
            found.push(path.clone());
        }
        for c in children {
            stack.push(if path == "/" { format!("/{c}") } else { format!("{path}/{c}") });
        }
    }
    Ok(found)
}

/// One entry of the tray menu.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MenuEntry {
    pub id: i32,
    pub label: String,
}

/// The app's tray menu on the bus: the connection that exports the StatusNotifierItem and the
/// object path its `Menu` property names.
#[derive(Clone, Debug)]
pub struct TrayMenu {
    pub bus_name: String,
    pub item_path: String,
    pub menu_path: String,
}

pub const SNI_INTERFACE: &str = "org.kde.StatusNotifierItem";
pub const DBUSMENU_INTERFACE: &str = "com.canonical.dbusmenu";

impl TrayMenu {
    /// Finds the StatusNotifierItem exported by process `pid`, waiting up to `timeout` for it.
    pub async fn find(pid: u32, timeout: Duration) -> Result<TrayMenu> {
        let started = Instant::now();
        loop {
            let attempt = Self::find_now(pid);
            match attempt {
                Ok(Some(menu)) => return Ok(menu),
                Ok(None) | Err(_) if started.elapsed() < timeout => {}
                Ok(None) => bail!(
                    "process {pid} exports no {SNI_INTERFACE} on the session bus (its connections: {:?})",
                    connections_of_pid(pid).unwrap_or_default()
                ),
                Err(e) => return Err(e.context(format!("looking for the tray of process {pid}"))),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn find_now(pid: u32) -> Result<Option<TrayMenu>> {
        for name in connections_of_pid(pid)? {
            // Some of a GTK process's connections do not answer introspection: skip them.
            let Ok(items) = find_objects(&name, SNI_INTERFACE) else { continue };
            let Some(item_path) = items.into_iter().next() else { continue };
            let reply = dbus_send(&[
                &format!("--dest={name}"),
                &item_path,
                "org.freedesktop.DBus.Properties.Get",
                &format!("string:{SNI_INTERFACE}"),
                "string:Menu",
            ])?;
            // `variant object path "/org/..."`
            let menu_path = reply
                .lines()
                .find_map(|l| l.split("object path \"").nth(1).and_then(|r| r.strip_suffix('"')))
                .ok_or_else(|| anyhow!("the Menu property of {name} {item_path} is not an object path:\n{reply}"))?
                .to_string();
            return Ok(Some(TrayMenu { bus_name: name, item_path, menu_path }));
        }
        Ok(None)
    }

    /// The menu's entries that have a label, in order (separators are left out).
    pub fn entries(&self) -> Result<Vec<MenuEntry>> {
        let reply = dbus_send(&[
            &format!("--dest={}", self.bus_name),
            &self.menu_path,
            &format!("{DBUSMENU_INTERFACE}.GetLayout"),
            "int32:0",
            "int32:-1",
            "array:string:label",
        ])?;
        Ok(parse_layout(&reply))
    }

    /// The labels of [`entries`](Self::entries).
    pub fn labels(&self) -> Result<Vec<String>> {
        Ok(self.entries()?.into_iter().map(|e| e.label).collect())
    }

    /// Sends the "clicked" event to entry `id`, as a panel does when the user picks it.
    pub fn click(&self, id: i32) -> Result<()> {
        dbus_send(&[
            &format!("--dest={}", self.bus_name),
            &self.menu_path,
            &format!("{DBUSMENU_INTERFACE}.Event"),
            &format!("int32:{id}"),
            "string:clicked",
            "variant:int32:0",
            "uint32:0",
        ])
        .map(|_| ())
    }
}

/// Reads a `GetLayout` reply printed by dbus-send: each item is `int32 ID` followed by its
/// properties; a `label` property is `string "label"` then `variant string "TEXT"`. The root item
/// (id 0) is left out.
pub fn parse_layout(reply: &str) -> Vec<MenuEntry> {
    let mut out = Vec::new();
    let mut current: Option<i32> = None;
    let mut label_next = false;
    for line in reply.lines().map(str::trim) {
        if let Some(id) = line.strip_prefix("int32 ").and_then(|v| v.trim().parse::<i32>().ok()) {
            current = Some(id);
            label_next = false;
        } else if line == "string \"label\"" {
            label_next = true;
        } else if label_next && line.starts_with("variant") {
            label_next = false;
            let text = line.split_once("string \"").and_then(|(_, r)| r.strip_suffix('"'));
            if let (Some(id), Some(text)) = (current, text) {
                if id != 0 {
                    out.push(MenuEntry { id, label: text.to_string() });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_notify_calls() {
        let text = "signal time=1 sender=org.freedesktop.DBus -> destination=:1.0 serial=4 path=/org/freedesktop/DBus; interface=org.freedesktop.DBus; member=NameLost
   string \":1.0\"
method call time=2 sender=:1.2 -> destination=org.freedesktop.Notifications serial=3 path=/org/freedesktop/Notifications; interface=org.freedesktop.Notifications; member=Notify
   string \"backoffice-app\"
   uint32 0
   string \"\"
   string \"Teste de conexão falhou: Omie\"
   string \"Body \"quoted\"
line2\"
   array [
      string \"default\"
      string \"\"
   ]
   array [
      dict entry(
         string \"urgency\"
         variant             byte 1
      )
   ]
   int32 -1
";
        let calls = parse_notify_calls(text);
        assert_eq!(
            calls,
            vec![NotifyCall {
                app_name: "backoffice-app".into(),
                summary: "Teste de conexão falhou: Omie".into(),
                body: "Body \"quoted\"\nline2".into(),
                actions: vec!["default".into(), "".into()],
            }]
        );
    }

    #[test]
    fn parses_a_layout() {
        let reply = "method return time=1 sender=:1.4 -> destination=:1.9 serial=9 reply_serial=2
   uint32 3
   struct {
      int32 0
      array [
         dict entry(
            string \"children-display\"
            variant                string \"submenu\"
         )
      ]
      array [
         variant                struct {
               int32 11
               array [
                  dict entry(
                     string \"label\"
                     variant                         string \"Demo: <1 min atrás\"
                  )
               ]
               array [
               ]
            }
         variant                struct {
               int32 13
               array [
                  dict entry(
                     string \"type\"
                     variant                         string \"separator\"
                  )
               ]
               array [
               ]
            }
         variant                struct {
               int32 18
               array [
                  dict entry(
                     string \"label\"
                     variant                         string \"Sair\"
                  )
               ]
               array [
               ]
            }
      ]
   }
";
        assert_eq!(
            parse_layout(reply),
            vec![MenuEntry { id: 11, label: "Demo: <1 min atrás".into() }, MenuEntry { id: 18, label: "Sair".into() }]
        );
    }
}
