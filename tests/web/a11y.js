// A basic accessibility check run inside the page by the browser tests (our own, no dependency).
// Returns a list of problems (strings); an empty list passes. It checks:
//  - <html lang>, one <h1>;
//  - every form control a person fills in has a label (label[for], a wrapping label, aria-label(ledby));
//  - every <img> has an alt attribute (empty alt = decorative, allowed);
//  - every visible text's contrast against its effective background meets WCAG AA
//    (4.5:1, or 3:1 for large text: >= 24px, or >= 18.66px bold).
() => {
  const problems = [];
  const describe = (el) => {
    const id = el.id ? "#" + el.id : "";
    const cls = el.classList && el.classList.length ? "." + Array.from(el.classList).join(".") : "";
    const text = (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return `<${el.tagName.toLowerCase()}${id}${cls}> "${text}"`;
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.display === "none" || style.visibility === "hidden" || parseFloat(style.opacity) === 0) return false;
    const rect = el.getBoundingClientRect();
    return rect.width > 0 && rect.height > 0;
  };

  if (!document.documentElement.getAttribute("lang")) problems.push("<html> has no lang attribute");
  const h1s = document.querySelectorAll("h1");
  if (h1s.length !== 1) problems.push(`expected one <h1>, found ${h1s.length}`);

  // Labels.
  document.querySelectorAll("input, select, textarea").forEach((el) => {
    const type = (el.getAttribute("type") || "").toLowerCase();
    if (["hidden", "submit", "button", "reset", "image"].includes(type)) return;
    const labelled =
      (el.id && document.querySelector(`label[for="${CSS.escape(el.id)}"]`)) ||
      el.closest("label") ||
      (el.getAttribute("aria-label") || "").trim() ||
      (el.getAttribute("aria-labelledby") && document.getElementById(el.getAttribute("aria-labelledby")));
    if (!labelled) problems.push("form control without a label: " + describe(el) + ` name=${el.name}`);
  });
  document.querySelectorAll("button, a[href]").forEach((el) => {
    if (!visible(el)) return;
    const name = (el.textContent || "").trim() || el.getAttribute("aria-label") || el.querySelector("img[alt]:not([alt=''])");
    if (!name) problems.push("button or link without an accessible name: " + describe(el));
  });

  // Alt text.
  document.querySelectorAll("img").forEach((img) => {
    if (!img.hasAttribute("alt")) problems.push("img without alt: " + img.getAttribute("src"));
  });

  // Contrast.
  const parse = (value) => {
    const m = value.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const parts = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = (c) => {
    const channel = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  // The background behind an element: its own and its ancestors' colours composited, down to white.
  // null when an image or gradient is behind the text (not measurable this way).
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const style = getComputedStyle(node);
      if (style.backgroundImage && style.backgroundImage !== "none") return null;
      const colour = parse(style.backgroundColor);
      if (colour && colour.a > 0) {
        layers.push(colour);
        if (colour.a >= 1) break;
      }
    }
    let result = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) result = over(layers[i], result);
    return result;
  };
  const seen = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || seen.has(el) || !visible(el) || el.closest("[disabled], [aria-hidden=true], option, script, style")) continue;
    seen.add(el);
    const style = getComputedStyle(el);
    const bg = background(el);
    if (!bg) continue;
    const fg = over(parse(style.color), bg);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && parseInt(style.fontWeight, 10) >= 700);
    const needed = large ? 3 : 4.5;
    const value = ratio(fg, bg);
    if (value < needed) problems.push(`contrast ${value.toFixed(2)} < ${needed}: ` + describe(el));
  }
  return problems;
}
