fn main() {
    // tauri.conf.json lives at the workspace root (the product's layout).
    tauri_build::try_build(tauri_build::Attributes::new().config_path("../tauri.conf.json"))
        .expect("failed to run tauri-build");
}
