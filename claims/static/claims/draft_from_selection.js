// Drafting a claim from a source (sources admin, "Draft a claim from its words"): words
// selected in the archived text fill the words field, as pasting them would. The form
// works without this script.
document.addEventListener("DOMContentLoaded", () => {
  const text = document.getElementById("draft-snapshot");
  const words = document.getElementById("id_words");
  if (!text || !words) return;
  text.addEventListener("mouseup", () => {
    const selection = window.getSelection();
    if (!selection || selection.isCollapsed || !text.contains(selection.anchorNode)) return;
    const chosen = selection.toString();
    if (chosen.trim()) {
      words.value = chosen;
      words.dispatchEvent(new Event("input"));
    }
  });
});
