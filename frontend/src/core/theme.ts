// Follows TensorBoard's dark mode. The iframe gets no hint from the host, but it shares its
// origin, so the host's <body class="dark-mode"> can be read; polled, as the host sends no event.

function hostIsDark(): boolean {
  try {
    const host = window.parent?.document?.body;
    if (host && host !== document.body) return host.classList.contains("dark-mode");
  } catch {
    // a cross-origin host (not TensorBoard): fall back to the browser's preference
  }
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ?? false;
}

export function followHostTheme(onChange: (dark: boolean) => void): void {
  let dark: boolean | undefined;
  const check = () => {
    const now = hostIsDark();
    if (now !== dark) {
      dark = now;
      document.body.classList.toggle("ml-dark", now);
      onChange(now);
    }
  };
  check();
  setInterval(check, 1000);
}

export function cssVar(name: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim();
}
