// Presentation helpers for gallery items: video length, download names, dates.
import type { GalleryItem } from "./api";

function positiveNumber(v: unknown): number | undefined {
  const n = typeof v === "string" ? Number(v) : v;
  return typeof n === "number" && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** A video's frame rate and length from its parameters (num_frames / fps), when present. */
export function videoInfo(item: Pick<GalleryItem, "type" | "parameters">): { fps?: number; seconds?: number } {
  if (item.type !== "video") return {};
  const fps = positiveNumber(item.parameters?.fps);
  const frames = positiveNumber(item.parameters?.num_frames);
  const duration = positiveNumber(item.parameters?.duration);
  const seconds = duration ?? (fps && frames ? frames / fps : undefined);
  return { fps, seconds };
}

/** Seconds as "5.1 s" (one decimal below a minute) or "1:05". */
export function formatSeconds(s: number): string {
  if (s < 60) return `${Math.round(s * 10) / 10} s`;
  const whole = Math.round(s);
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, "0")}`;
}

/** The file extension of an item's result: its output_format, else png for images and mp4 for videos. */
export function resultExtension(item: Pick<GalleryItem, "type" | "parameters">): string {
  const f = typeof item.parameters?.output_format === "string" ? item.parameters.output_format.toLowerCase() : "";
  if (f === "jpeg" || f === "jpg") return "jpg";
  if (/^[a-z0-9]{2,5}$/.test(f)) return f;
  return item.type === "video" ? "mp4" : "png";
}

/** A download file name such as "gooni-pony-1a2b3c4d.png" (only safe characters). */
export function downloadName(item: Pick<GalleryItem, "id" | "model" | "type" | "parameters">): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9._-]+/g, "_");
  return `gooni-${safe(item.model)}-${safe(item.id.slice(0, 8))}.${resultExtension(item)}`;
}

/** A date-time in the page's language (short: numeric date, for cards); the raw string when it does not parse. */
export function formatCreated(iso: string, lang: string, short = false): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return new Intl.DateTimeFormat(lang, { dateStyle: short ? "short" : "medium", timeStyle: "short" }).format(d);
}
