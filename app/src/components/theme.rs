//! Light and dark themes: the system's by default; a choice is kept in localStorage and
//! applied by a tiny script in the page head before first paint.

use leptos::prelude::*;

/// Runs in `<head>`, before the stylesheet applies, so a stored theme never flashes.
pub const EARLY_SCRIPT: &str = "try{var t=localStorage.getItem('te-theme');if(t)document.documentElement.dataset.theme=t}catch(e){}";

#[component]
pub fn ThemeToggle() -> impl IntoView {
    // "system" until the browser says otherwise: the server cannot know.
    let theme = RwSignal::new("system".to_string());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(t) = storage().and_then(|s| s.get_item("te-theme").ok().flatten()) {
            theme.set(t);
        }
    });
    let next = move || match theme.get().as_str() {
        "system" => "light",
        "light" => "dark",
        _ => "system",
    };
    let on_click = move |_| {
        let t = next().to_string();
        #[cfg(feature = "hydrate")]
        apply(&t);
        theme.set(t);
    };
    view! {
        <button
            type="button"
            class="ghost"
            id="theme-toggle"
            on:click=on_click
            title=move || format!("Theme: {} (click for {})", theme.get(), next())
            aria-label=move || format!("Theme: {}. Switch to {}", theme.get(), next())
        >
            {move || match theme.get().as_str() {
                "light" => "☀",
                "dark" => "☾",
                _ => "◐",
            }}
        </button>
    }
}

#[cfg(feature = "hydrate")]
fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

#[cfg(feature = "hydrate")]
fn apply(theme: &str) {
    let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    else {
        return;
    };
    if theme == "system" {
        let _ = root.remove_attribute("data-theme");
        if let Some(s) = storage() {
            let _ = s.remove_item("te-theme");
        }
    } else {
        let _ = root.set_attribute("data-theme", theme);
        if let Some(s) = storage() {
            let _ = s.set_item("te-theme", theme);
        }
    }
}
