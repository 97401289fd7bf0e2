// Progressive enhancement only: every page works without this file.
// "j" / "k" move between the draft's developments and stories; "Escape" closes open edit forms.
document.addEventListener("keydown", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select")) return;
  if (event.key === "Escape") {
    document.querySelectorAll("details[open]").forEach((d) => d.removeAttribute("open"));
    return;
  }
  if (event.key !== "j" && event.key !== "k") return;
  const stops = Array.from(document.querySelectorAll(".development, .story"));
  if (!stops.length) return;
  const y = window.scrollY + 10;
  const next = event.key === "j"
    ? stops.find((el) => el.getBoundingClientRect().top + window.scrollY > y)
    : stops.reverse().find((el) => el.getBoundingClientRect().top + window.scrollY < y - 20);
  if (next) {
    next.setAttribute("tabindex", "-1");
    next.focus();
  }
});
