// Export: PNG of the canvas as drawn, and SVG of every visible node and edge of the current
// layout (vector boxes, routes and labels; every name through escapeXml).
import { escapeXml } from "../../core/export";
import { FONT, GROUP_HEADER, NAME_PX, SMALL_PX, TEXT_PX } from "./geometry";
import type { Scene } from "./layout";
import type { Paint } from "./paint";
import { textOf, type RenderTheme } from "./render";
import { INPUT, isGroup, OP, OUTPUT, type GraphModel } from "./wire";

const n = (v: number) => String(Math.round(v * 10) / 10);

export function sceneSvg(model: GraphModel, scene: Scene, paint: Paint, theme: RenderTheme, title: string): string {
  const margin = 10;
  const top = 24;
  const width = scene.width + 2 * margin;
  const height = scene.height + top + margin;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${n(width)}" height="${n(height)}" viewBox="0 0 ${n(width)} ${n(height)}" font-family="${FONT}">`,
    `<title>${escapeXml(title)}</title>`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="${escapeXml(theme.muted)}"/></marker></defs>`,
    `<rect width="100%" height="100%" fill="${escapeXml(theme.bg)}"/>`,
    `<text x="${margin}" y="16" font-size="12" fill="${escapeXml(theme.fg)}">${escapeXml(title)}</text>`,
    `<g transform="translate(${margin},${top})">`,
  ];
  const { ids, boxes, open } = scene;
  const box = (k: number) => Array.from(boxes.subarray(4 * k, 4 * k + 4));
  for (let k = 0; k < ids.length; k++) {
    if (!open[k]) continue;
    const i = ids[k];
    const [x, y, w, h] = box(k);
    const fill = escapeXml(paint.fill[i]);
    const text = textOf(model, i);
    out.push(
      `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" fill="${fill}" fill-opacity="0.22" stroke="${escapeXml(theme.border)}"/>`,
      `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${GROUP_HEADER}" fill="${fill}"/>`,
      `<text x="${n(x + 8)}" y="${n(y + GROUP_HEADER / 2 + 4)}" font-size="${NAME_PX}" font-weight="bold" fill="${escapeXml(paint.text[i])}">${escapeXml(`− ${text.title}  ${text.lines[0] ?? ""}`)}</text>`,
    );
  }
  for (let e = 0; e + 1 < scene.pointStart.length; e++) {
    const points: string[] = [];
    for (let p = scene.pointStart[e]; p < scene.pointStart[e + 1]; p++) {
      points.push(`${n(scene.points[2 * p])},${n(scene.points[2 * p + 1])}`);
    }
    out.push(
      `<polyline points="${points.join(" ")}" fill="none" stroke="${escapeXml(theme.muted)}" marker-end="url(#arrow)"/>`,
    );
  }
  for (let k = 0; k < ids.length; k++) {
    if (open[k]) continue;
    const i = ids[k];
    const [x, y, w, h] = box(k);
    const kind = model.kind[i];
    const rx = kind === OP ? h / 2 : kind === INPUT || kind === OUTPUT ? 0 : 4;
    const dash = paint.greyed[i] ? ` stroke-dasharray="4 3"` : "";
    out.push(
      `<rect x="${n(x)}" y="${n(y)}" width="${n(w)}" height="${n(h)}" rx="${n(rx)}" fill="${escapeXml(paint.fill[i])}" stroke="${escapeXml(theme.border)}"${dash}/>`,
    );
    const text = textOf(model, i);
    const color = escapeXml(paint.text[i]);
    if (kind === OP) {
      out.push(
        `<text x="${n(x + w / 2)}" y="${n(y + h / 2 + 4)}" font-size="${TEXT_PX}" text-anchor="middle" fill="${color}">${escapeXml(text.title)}</text>`,
      );
      continue;
    }
    const name = isGroup(model, i) ? `+ ${text.title}` : text.title;
    out.push(
      `<text x="${n(x + 8)}" y="${n(y + 18)}" font-size="${NAME_PX}" font-weight="bold" fill="${color}">${escapeXml(name)}${text.badge ? `<tspan font-size="${SMALL_PX}" font-weight="normal"> ${escapeXml(text.badge)}</tspan>` : ""}</text>`,
    );
    text.lines.filter(Boolean).forEach((line, k2) => {
      out.push(
        `<text x="${n(x + 8)}" y="${n(y + 32 + 14 * k2)}" font-size="${TEXT_PX}" fill="${color}">${escapeXml(line)}</text>`,
      );
    });
  }
  out.push("</g>", "</svg>");
  return out.join("\n");
}
