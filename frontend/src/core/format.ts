// Number formatting shared by the chart views: exact values for tooltips (the shortest text
// that reads back as the same double, as Python's repr), short values for axis ticks and tables.

/** A number exactly: every digit needed to read back the same double; null/NaN "undefined". */
export function formatExact(value: number | null | undefined): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "undefined";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "−Inf";
  return String(value);
}

/** A short axis tick: at most 4 significant digits, no trailing zeros. */
export function formatTick(value: number): string {
  if (!Number.isFinite(value)) return formatExact(value);
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1).replace("e+", "e");
  return String(Number(value.toPrecision(4)));
}

/** A score in a table (4 decimals), "n/a" when undefined. */
export function formatScore(value: number | null | undefined, digits = 4): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(digits);
}

/** A value with `digits` significant digits (tables, summaries), "n/a" when undefined. */
export function formatShort(value: number | null | undefined, digits = 4): string {
  if (value === null || value === undefined || Number.isNaN(value)) return "n/a";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "−Inf";
  if (Number.isInteger(value) && Math.abs(value) < 1e9) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude >= 1e6 || magnitude < 1e-3)) return value.toExponential(digits - 1);
  return String(Number(value.toPrecision(digits)));
}
