// Canvas text that fits a width: cut at the end ("encoder.lay…") or at the start
// ("…layers.0.attn", for paths), by code points so that no surrogate pair is split.

export function fitText(
  context: CanvasRenderingContext2D,
  text: string,
  width: number,
  cut: "end" | "start" = "end",
): string {
  if (context.measureText(text).width <= width) return text;
  const chars = Array.from(text);
  let keep = chars.length;
  const shown = (n: number) =>
    cut === "end" ? `${chars.slice(0, n).join("")}…` : `…${chars.slice(chars.length - n).join("")}`;
  while (keep > 1 && context.measureText(shown(keep)).width > width) keep--;
  return shown(keep);
}
